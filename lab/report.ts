// report.json and the readable table.
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Result {
    section: string; // e.g. "boot", "smtp-in", "send-sendmail-v4", "negative", "fault:reboot"
    name: string;
    pass: boolean;
    evidence: string;
    /** negative control: the underlying check was expected to fail */
    negative?: boolean;
}

export class Report {
    results: Result[] = [];
    timings: Record<string, number> = {};
    info: Record<string, unknown> = {};
    constructor(
        public stack: string,
        public outDir: string,
    ) {}
    add(section: string, name: string, pass: boolean, evidence: string, negative = false) {
        this.results.push({ section, name, pass, evidence: evidence.slice(0, 2000), negative });
    }
    time(name: string, seconds: number) {
        this.timings[name] = Math.round(seconds * 10) / 10;
    }
    get ok() {
        return this.results.length > 0 && this.results.every((r) => r.pass);
    }

    write() {
        const failed = this.results.filter((r) => !r.pass);
        writeFileSync(
            join(this.outDir, "report.json"),
            JSON.stringify(
                {
                    stack: this.stack,
                    ok: this.ok,
                    generatedAt: new Date().toISOString(),
                    summary: { checks: this.results.length, failed: failed.length },
                    timingsSeconds: this.timings,
                    info: this.info,
                    results: this.results,
                },
                null,
                2,
            ) + "\n",
        );
    }

    table(): string {
        const rows = this.results.map((r) => [
            r.pass ? "PASS" : "FAIL",
            r.section,
            r.name + (r.negative ? " (neg.)" : ""),
            oneLine(r.evidence, 90),
        ]);
        const head = ["", "section", "check", "evidence"];
        const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
        const fmt = (r: string[]) =>
            r
                .map((c, i) => c.padEnd(w[i]))
                .join("  ")
                .trimEnd();
        const lines = [fmt(head), w.map((n) => "-".repeat(n)).join("  "), ...rows.map(fmt), ""];
        lines.push(
            "timings (s): " +
                Object.entries(this.timings)
                    .map(([k, v]) => `${k}=${v}`)
                    .join("  "),
        );
        lines.push(
            `${this.ok ? "LAB PASSED" : "LAB FAILED"}: ${this.results.filter((r) => r.pass).length}/${this.results.length} checks pass (${this.stack})`,
        );
        return lines.join("\n");
    }
}

const oneLine = (s: string, n: number) => {
    const t = s.replace(/\s+/g, " ");
    return t.length > n ? t.slice(0, n - 1) + "…" : t;
};
