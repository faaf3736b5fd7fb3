/** Outcome of one check row. */
export enum Status {
    Pass = "pass",
    Warn = "warn",
    Fail = "fail",
}

/** One row of the report: what was checked, on what, the outcome, and how to fix it. */
export interface Finding {
    /** Stable id of the check, e.g. `ptr`, `spf.lookups`. */
    readonly check: string;
    /** What it was checked on: a name or an address. */
    readonly subject: string;
    readonly status: Status;
    readonly detail: string;
    /** How to fix it; absent on pass. */
    readonly fix?: string;
}

export const pass = (check: string, subject: string, detail: string): Finding => ({ check, subject, status: Status.Pass, detail });
export const warn = (check: string, subject: string, detail: string, fix: string): Finding => ({
    check,
    subject,
    status: Status.Warn,
    detail,
    fix,
});
export const fail = (check: string, subject: string, detail: string, fix: string): Finding => ({
    check,
    subject,
    status: Status.Fail,
    detail,
    fix,
});
