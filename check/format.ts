import { Status } from "./finding";
import type { Report } from "./run";

const MARK: Record<Status, string> = { [Status.Pass]: "PASS", [Status.Warn]: "WARN", [Status.Fail]: "FAIL" };

/** The report as a table, with the fix under each warning and failure. */
export function formatReport(report: Report, width = 100): string {
    const checkWidth = Math.max(5, ...report.findings.map((f) => f.check.length));
    const subjectWidth = Math.min(40, Math.max(7, ...report.findings.map((f) => f.subject.length)));
    const lines = [
        `Mail checks for ${report.domain}`,
        "",
        `${"".padEnd(4)}  ${"CHECK".padEnd(checkWidth)}  ${"SUBJECT".padEnd(subjectWidth)}  DETAIL`,
    ];
    for (const f of report.findings) {
        const detail = f.detail.length > width ? `${f.detail.slice(0, width - 1)}…` : f.detail;
        lines.push(`${MARK[f.status]}  ${f.check.padEnd(checkWidth)}  ${f.subject.padEnd(subjectWidth)}  ${detail}`);
        if (f.fix) lines.push(`${"".padEnd(4 + 2 + checkWidth + 2 + subjectWidth + 2)}fix: ${f.fix}`);
    }
    const s = report.summary;
    lines.push("", `${s.pass} pass, ${s.warn} warn, ${s.fail} fail`);
    return `${lines.join("\n")}\n`;
}
