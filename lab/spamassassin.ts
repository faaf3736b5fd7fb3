/**
 * SpamAssassin's score of a message, its network rules (SPF, DKIM, DMARC, rDNS) answering from
 * the lab's DNS, no blocklists. Runs in the caller's network namespace (the MX's), whose
 * resolv.conf points at the lab's NSD (SpamAssassin's DMARC plugin reads /etc/resolv.conf).
 */
import { spawn } from "node:child_process";
import { LAB } from "./topology";

export interface SpamScore {
    readonly score: number;
    readonly tests: Record<string, number>;
    /** The lab-only adjustments that applied. */
    readonly adjusted: string[];
}

/** Below this a message is graded as not spam: half of SpamAssassin's own required_score (5). */
export const SPAM_SCORE_LIMIT = 2.5;

/** Lab-only adjustments, each reported with the result. */
export const SA_LAB_SCORES: Readonly<Record<string, { score: number; why: string }>> = {
    RCVD_ILLEGAL_IP: {
        score: 0,
        why: "the plan uses RFC 5737/3849 documentation addresses, which SpamAssassin flags as illegal; a real server has a routable address",
    },
};

export function spamAssassinArgs(): string[] {
    const settings = [
        `dns_server ${LAB.dns.v4}`,
        "dns_available yes",
        "skip_rbl_checks 1",
        "use_razor2 0",
        "use_pyzor 0",
        "use_bayes 0",
        "use_auto_whitelist 0",
        "bayes_auto_learn 0",
        `trusted_networks ${LAB.mx.v4} ${LAB.mx.v6}`,
        `internal_networks ${LAB.mx.v4} ${LAB.mx.v6}`,
        ...Object.entries(SA_LAB_SCORES).map(([rule, { score }]) => `score ${rule} ${score}`),
    ];
    return ["-t", "-x", "-p", "/dev/null", ...settings.map((line) => `--cf=${line}`)];
}

export function scoreMessage(raw: Buffer, timeoutMs = 60_000): Promise<SpamScore> {
    return new Promise((resolve, reject) => {
        const child = spawn("spamassassin", spamAssassinArgs(), { stdio: ["pipe", "pipe", "pipe"] });
        let out = "";
        let err = "";
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.stdout.on("data", (d: Buffer) => {
            out += d.toString();
        });
        child.stderr.on("data", (d: Buffer) => {
            err += d.toString();
        });
        child.on("error", reject);
        child.on("close", () => {
            clearTimeout(timer);
            const status = /^X-Spam-Status:([^\n]*(?:\n[ \t][^\n]*)*)/im.exec(out)?.[1]?.replace(/\s+/g, " ") ?? "";
            const score = /score=(-?[\d.]+)/.exec(status);
            if (!score) {
                reject(new Error(`spamassassin gave no X-Spam-Status: ${err.slice(-500)}`));
                return;
            }
            const tests: Record<string, number> = {};
            // The -t report: " pts rule name   description" lines.
            for (const m of out.matchAll(/^\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]+)\s/gm)) tests[m[2]] = Number(m[1]);
            for (const name of (/tests=([^ ]*)/.exec(status)?.[1] ?? "").split(",").filter(Boolean)) if (!(name in tests)) tests[name] = 0;
            resolve({ score: Number(score[1]), tests, adjusted: Object.keys(SA_LAB_SCORES).filter((rule) => rule in tests) });
        });
        child.stdin.end(raw);
    });
}
