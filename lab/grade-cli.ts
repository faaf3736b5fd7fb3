// Grade stored messages inside the MX namespace (so DNS and SpamAssassin see only the lab DNS):
//   node dist/lab/grade-cli.js JOB.json OUT.json
// JOB: { items: [{ id, eml, meta, dns: string[], opts: GradeOptions, spamassassin?: boolean, tamperBody?: boolean }] }
import { readFileSync, writeFileSync } from "node:fs";
import { grade, labResolver, tamper, Check, GradeOptions, Session } from "./grade.js";
import { scoreMessage, SA_LAB_SCORES } from "./spamassassin.js";

interface Item {
    id: string;
    eml: string;
    meta: string;
    dns: string[];
    opts: GradeOptions;
    spamassassin?: boolean;
    tamperBody?: boolean;
    saForwarded?: boolean;
}

async function main() {
    const job: { items: Item[] } = JSON.parse(readFileSync(process.argv[2], "utf8"));
    const out: Record<string, { checks: Check[]; auth?: unknown; spamassassin?: unknown; error?: string }> = {};
    for (const it of job.items) {
        try {
            let raw: Buffer = readFileSync(it.eml);
            if (it.tamperBody) raw = tamper(raw);
            const m = JSON.parse(readFileSync(it.meta, "utf8"));
            const s: Session = {
                ip: m.ip,
                helo: m.helo,
                mailFrom: m.mailFrom,
                rcptTo: m.rcptTo,
                tls: m.tls,
                tlsProtocol: m.tlsProtocol,
                tlsCipher: m.tlsCipher,
            };
            const g = await grade(raw, s, labResolver(it.dns), it.opts);
            let sa: unknown;
            if (it.spamassassin) {
                const r = await scoreMessage(raw);
                const need = ["DKIM_VALID_AU", "SPF_PASS", "DMARC_PASS"];
                // A forward keeps the author's From: while the envelope (SRS) is ours: SpamAssassin's
                // HEADER_FROM_DIFFERENT_DOMAINS fires on every such forward, by design of SRS.
                const fwd = it.saForwarded && "HEADER_FROM_DIFFERENT_DOMAINS" in r.tests ? r.tests.HEADER_FROM_DIFFERENT_DOMAINS : 0;
                const score = Math.round((r.score - fwd) * 1000) / 1000;
                g.checks.push({
                    name: "spamassassin-score",
                    pass: score <= 0,
                    evidence: `score ${score} (≤ 0 wanted)${fwd ? `; SpamAssassin said ${r.score}, less HEADER_FROM_DIFFERENT_DOMAINS (${fwd}) which every SRS forward triggers` : ""}${r.adjusted.length ? `; lab adjustment: ${r.adjusted.map((k) => `${k}→${SA_LAB_SCORES[k].score}`).join(",")}` : ""}`,
                });
                const missing = need.filter((t) => !(t in r.tests));
                g.checks.push({
                    name: "spamassassin-rules",
                    pass: missing.length === 0 && !("RDNS_NONE" in r.tests),
                    evidence: `tests=${Object.entries(r.tests)
                        .map(([k, v]) => `${k}(${v})`)
                        .join(",")}${missing.length ? `; missing ${missing.join(",")}` : ""}`,
                });
                sa = r;
            }
            out[it.id] = { checks: g.checks, auth: g.auth, spamassassin: sa };
        } catch (e) {
            out[it.id] = { checks: [], error: String((e as Error).stack ?? e) };
        }
    }
    writeFileSync(process.argv[3], JSON.stringify(out, null, 2));
}
if (require.main === module)
    main().catch((e) => {
        console.error(e);
        process.exit(1);
    });
