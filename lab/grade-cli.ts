/**
 * Grades stored messages inside the MX namespace, so that DNS and SpamAssassin see only the lab's DNS:
 *   node dist/lab/grade-cli.js JOB.json OUT.json
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { type GradeOptions, grade, labResolver, type Session, tamper, type Verdict } from "./grade";
import { SA_LAB_SCORES, SPAM_SCORE_LIMIT, type SpamScore, scoreMessage } from "./spamassassin";

export interface GradeItem {
    readonly id: string;
    readonly eml: string;
    readonly meta: string;
    /** The DNS servers to ask. */
    readonly dns: readonly string[];
    readonly options: GradeOptions;
    readonly tamperBody?: boolean;
    /** Only what mailauth and the header checks say (the benchmark's signature count): no SpamAssassin. */
    readonly withoutSpamAssassin?: boolean;
}

export interface Graded {
    readonly verdicts: Verdict[];
    readonly auth?: unknown;
    readonly spamassassin?: SpamScore;
    readonly error?: string;
}

async function gradeItem(item: GradeItem): Promise<Graded> {
    const stored = readFileSync(item.eml);
    const raw = item.tamperBody ? tamper(stored) : stored;
    const session = JSON.parse(readFileSync(item.meta, "utf8")) as Session;
    const { verdicts, auth } = await grade(raw, session, labResolver(item.dns), item.options);
    if (item.withoutSpamAssassin) return { verdicts, auth };
    const sa = await scoreMessage(raw);
    // A forward keeps the author's From: while the envelope (SRS) is ours: HEADER_FROM_DIFFERENT_DOMAINS
    // fires on every forward, by design of SRS.
    const forward = item.options.forwarded ? (sa.tests.HEADER_FROM_DIFFERENT_DOMAINS ?? 0) : 0;
    const score = Math.round((sa.score - forward) * 1000) / 1000;
    const notes = [
        forward ? `SpamAssassin said ${sa.score}, less HEADER_FROM_DIFFERENT_DOMAINS (${forward}) of every SRS forward` : "",
        sa.adjusted.length > 0 ? `lab adjustment: ${sa.adjusted.map((rule) => `${rule}→${SA_LAB_SCORES[rule].score}`).join(",")}` : "",
    ].filter(Boolean);
    verdicts.push({
        property: "spam-score",
        pass: score < SPAM_SCORE_LIMIT,
        evidence: `score ${score} (< ${SPAM_SCORE_LIMIT} wanted)${notes.length ? `; ${notes.join("; ")}` : ""}; tests=${Object.entries(
            sa.tests,
        )
            .map(([rule, points]) => `${rule}(${points})`)
            .join(",")}`,
    });
    return { verdicts, auth, spamassassin: sa };
}

/** `node grade-cli.js <job.json> <out.json>` */
async function main(): Promise<void> {
    const { positionals } = parseArgs({ allowPositionals: true, options: {} });
    if (positionals.length !== 2) throw new Error("usage: grade-cli.js <job.json> <out.json>");
    const [jobFile, outFile] = positionals;
    const job = JSON.parse(readFileSync(jobFile, "utf8")) as { items: GradeItem[] };
    const out: Record<string, Graded> = {};
    for (const item of job.items) {
        try {
            out[item.id] = await gradeItem(item);
        } catch (error) {
            out[item.id] = { verdicts: [], error: String((error as Error).stack ?? error) };
        }
    }
    writeFileSync(outFile, JSON.stringify(out, null, 2));
}

if (require.main === module) {
    main().catch((error: unknown) => {
        console.error(error);
        process.exit(1);
    });
}
