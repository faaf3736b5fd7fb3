// SpamAssassin scoring with its network rules (SPF, DKIM, DMARC, rDNS) answering from the lab DNS
// and no blocklists. Runs in the caller's network namespace (the MX's), whose resolv.conf points
// at the lab NSD (SA's DMARC plugin reads /etc/resolv.conf).
import { spawn } from "node:child_process";
import { LAB } from "./topology.js";

export interface SaResult {
    score: number;
    tests: Record<string, number>;
    adjusted: string[];
    raw: string;
}

/** Lab-only adjustments, each reported with the result. */
export const SA_LAB_SCORES: Record<string, { score: number; why: string }> = {
    RCVD_ILLEGAL_IP: {
        score: 0,
        why: "the plan uses RFC 5737/3849 documentation addresses, which SA flags as illegal; a real server has a routable address",
    },
};

export function saArgs(): string[] {
    const cf = [
        `dns_server ${LAB.ns.v4}`,
        "dns_available yes",
        "skip_rbl_checks 1",
        "use_razor2 0",
        "use_pyzor 0",
        "use_bayes 0",
        "use_auto_whitelist 0",
        "bayes_auto_learn 0",
        `trusted_networks ${LAB.mx.v4} ${LAB.mx.v6}`,
        `internal_networks ${LAB.mx.v4} ${LAB.mx.v6}`,
        ...Object.entries(SA_LAB_SCORES).map(([k, v]) => `score ${k} ${v.score}`),
    ];
    return ["-t", "-x", "-p", "/dev/null", ...cf.map((c) => `--cf=${c}`)];
}

export function scoreMessage(raw: Buffer, timeoutMs = 60000): Promise<SaResult> {
    return new Promise((resolve, reject) => {
        const p = spawn("spamassassin", saArgs(), { stdio: ["pipe", "pipe", "pipe"] });
        let out = "",
            err = "";
        const t = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
        p.stdout.on("data", (d) => (out += d));
        p.stderr.on("data", (d) => (err += d));
        p.on("error", reject);
        p.on("close", () => {
            clearTimeout(t);
            const status = /^X-Spam-Status:([^\n]*(?:\n[ \t][^\n]*)*)/im.exec(out)?.[1]?.replace(/\s+/g, " ") ?? "";
            const score = /score=(-?[\d.]+)/.exec(status);
            if (!score) return reject(new Error(`spamassassin gave no X-Spam-Status: ${err.slice(-500)}`));
            const tests: Record<string, number> = {};
            // the -t report: " pts rule name              description" lines
            for (const m of out.matchAll(/^\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]+)\s/gm)) tests[m[2]] = Number(m[1]);
            for (const name of (/tests=([^ ]*)/.exec(status)?.[1] ?? "").split(",").filter(Boolean)) if (!(name in tests)) tests[name] = 0;
            const adjusted = Object.keys(SA_LAB_SCORES).filter((k) => k in tests);
            resolve({ score: Number(score[1]), tests, adjusted, raw: status });
        });
        p.stdin.end(raw);
    });
}
