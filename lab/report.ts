/**
 * report.json and the table the lab prints: checks by section, and each graded property with its
 * positive evidence (messages of the real server that pass it) and its negative evidence (a run
 * of the real server with exactly that property broken, which must fail it and nothing else).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Result {
    /** e.g. "boot", "smtp-in", "apply", "fault:reboot". */
    readonly section: string;
    readonly name: string;
    readonly pass: boolean;
    readonly evidence: string;
}

export interface Observation {
    /** The message or run observed. */
    readonly source: string;
    /** Positive: the property holds. Negative: the control failed the property, and nothing else. */
    readonly pass: boolean;
    readonly evidence: string;
}

export interface PropertyEvidence {
    readonly positive: Observation[];
    readonly negative: Observation[];
}

export class Report {
    readonly results: Result[] = [];
    readonly properties: Record<string, PropertyEvidence> = {};
    readonly timings: Record<string, number> = {};
    readonly info: Record<string, unknown> = {};
    /** Properties the run must observe: one that never is fails the run (it must not drop out unseen). */
    expected: readonly string[] = [];
    /** Whether a property needs a negative control to pass (false for a run with `--controls none`). */
    requireNegative = true;

    constructor(
        readonly stack: string,
        readonly outDir: string,
    ) {}

    add(section: string, name: string, pass: boolean, evidence: string): void {
        this.results.push({ section, name, pass, evidence: evidence.slice(0, 2000) });
    }

    /** Evidence for a property; `negative` for a control run that broke it on purpose. */
    observe(property: string, kind: "positive" | "negative", source: string, pass: boolean, evidence: string): void {
        this.properties[property] ??= { positive: [], negative: [] };
        const entry = this.properties[property];
        entry[kind].push({ source, pass, evidence: evidence.slice(0, 2000) });
    }

    time(name: string, seconds: number): void {
        this.timings[name] = Math.round(seconds * 10) / 10;
    }

    /** The properties this run must observe, and whether each needs its negative control. */
    expect(properties: readonly string[], requireNegative: boolean): void {
        this.expected = [...properties];
        this.requireNegative = requireNegative;
    }

    /** Expected properties that were never observed. */
    missing(): string[] {
        return this.expected.filter((p) => !(p in this.properties));
    }

    /** A property holds when it was observed, every observation passes, and a negative control failed it. */
    propertyPasses(property: string): boolean {
        const entry = this.properties[property];
        return (
            !!entry &&
            entry.positive.length > 0 &&
            (entry.negative.length > 0 || !this.requireNegative) &&
            [...entry.positive, ...entry.negative].every((o) => o.pass)
        );
    }

    get ok(): boolean {
        return (
            this.results.length > 0 &&
            this.results.every((r) => r.pass) &&
            Object.keys(this.properties).every((p) => this.propertyPasses(p)) &&
            this.missing().length === 0
        );
    }

    failures(): string[] {
        return [
            ...this.results.filter((r) => !r.pass).map((r) => `${r.section} ${r.name}: ${r.evidence.replace(/\s+/g, " ").slice(0, 300)}`),
            ...Object.entries(this.properties)
                .filter(([property]) => !this.propertyPasses(property))
                .map(([property, e]) => {
                    const bad = [...e.positive, ...e.negative].find((o) => !o.pass);
                    const missing =
                        e.positive.length === 0
                            ? "no positive evidence"
                            : e.negative.length === 0 && this.requireNegative
                              ? "no negative control"
                              : "";
                    return `property ${property}: ${missing || `${bad?.source}: ${bad?.evidence.replace(/\s+/g, " ").slice(0, 300)}`}`;
                }),
            ...this.missing().map((property) => `property ${property}: never observed`),
        ];
    }

    write(): void {
        writeFileSync(
            join(this.outDir, "report.json"),
            `${JSON.stringify(
                {
                    stack: this.stack,
                    ok: this.ok,
                    generatedAt: new Date().toISOString(),
                    summary: {
                        checks: this.results.length,
                        failedChecks: this.results.filter((r) => !r.pass).length,
                        properties: Object.keys(this.properties).length,
                        failedProperties: [...Object.keys(this.properties).filter((p) => !this.propertyPasses(p)), ...this.missing()],
                        negativeControls: this.requireNegative ? "required" : "not run (--controls none): positives only",
                    },
                    properties: Object.fromEntries(
                        Object.entries(this.properties).map(([p, e]) => [p, { pass: this.propertyPasses(p), ...e }]),
                    ),
                    timingsSeconds: this.timings,
                    info: this.info,
                    results: this.results,
                },
                null,
                2,
            )}\n`,
        );
    }

    table(): string {
        const oneLine = (text: string, width: number) => {
            const flat = text.replace(/\s+/g, " ");
            return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
        };
        const rows = [
            ...Object.entries(this.properties).map(([p, e]) => [
                this.propertyPasses(p) ? "PASS" : "FAIL",
                "property",
                p,
                oneLine(
                    `${e.positive.length} positive (${e.positive.map((o) => o.source).join(", ")}); ${e.negative.length} negative (${e.negative.map((o) => o.source).join(", ")})`,
                    90,
                ),
            ]),
            ...this.results.map((r) => [r.pass ? "PASS" : "FAIL", r.section, r.name, oneLine(r.evidence, 90)]),
        ];
        const head = ["", "section", "check", "evidence"];
        const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
        const format = (row: string[]) =>
            row
                .map((cell, i) => cell.padEnd(widths[i]))
                .join("  ")
                .trimEnd();
        const passed = rows.filter((r) => r[0] === "PASS").length;
        return [
            format(head),
            widths.map((w) => "-".repeat(w)).join("  "),
            ...rows.map(format),
            "",
            `timings (s): ${Object.entries(this.timings)
                .map(([k, v]) => `${k}=${v}`)
                .join("  ")}`,
            `${this.ok ? "LAB PASSED" : "LAB FAILED"}: ${passed}/${rows.length} rows pass (${this.stack}); report: ${join(this.outDir, "report.json")}`,
        ].join("\n");
    }
}
