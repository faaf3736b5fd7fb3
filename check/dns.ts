import { Resolver } from "node:dns/promises";
import { reverseName } from "../components/records/reverse";

/** Why a lookup returned nothing. */
export enum DnsFailure {
    /** The name does not exist. */
    NxDomain = "NXDOMAIN",
    /** The name exists but has no record of that type. */
    NoData = "NODATA",
    Timeout = "TIMEOUT",
    /** SERVFAIL, REFUSED, connection errors. */
    Error = "ERROR",
}

export type Answer<T> =
    | { readonly ok: true; readonly records: T[] }
    | { readonly ok: false; readonly failure: DnsFailure; readonly message: string };

/** A void lookup in RFC 7208 §4.6.4's sense: the name or the data does not exist. */
export function isVoid(answer: Answer<unknown>): boolean {
    return !answer.ok && (answer.failure === DnsFailure.NxDomain || answer.failure === DnsFailure.NoData);
}

function classify(error: unknown): { failure: DnsFailure; message: string } {
    const code = (error as { code?: string }).code;
    const message = error instanceof Error ? error.message : String(error);
    switch (code) {
        case "ENOTFOUND":
            return { failure: DnsFailure.NxDomain, message };
        case "ENODATA":
            return { failure: DnsFailure.NoData, message };
        case "ETIMEOUT":
            return { failure: DnsFailure.Timeout, message };
        default:
            return { failure: DnsFailure.Error, message };
    }
}

export interface DnsOptions {
    /** `host:port` or `host` of the one server to ask; default the system's resolvers. */
    readonly server?: string;
    readonly timeoutMs: number;
}

/**
 * DNS lookups that never throw and never hang: each answer is records or a classified failure
 * (NXDOMAIN, NODATA, timeout, error). TXT keeps each record's strings apart (the 255 rule).
 */
export class Dns {
    private readonly resolver: Resolver;

    constructor(readonly options: DnsOptions) {
        this.resolver = new Resolver({ timeout: options.timeoutMs, tries: 1 });
        if (options.server) this.resolver.setServers([options.server]);
    }

    private async ask<T>(query: () => Promise<T[]>): Promise<Answer<T>> {
        try {
            const records = await query();
            return records.length > 0 ? { ok: true, records } : { ok: false, failure: DnsFailure.NoData, message: "no records" };
        } catch (error) {
            return { ok: false, ...classify(error) };
        }
    }

    a(name: string): Promise<Answer<string>> {
        return this.ask(() => this.resolver.resolve4(name));
    }
    aaaa(name: string): Promise<Answer<string>> {
        return this.ask(() => this.resolver.resolve6(name));
    }
    mx(name: string): Promise<Answer<{ exchange: string; priority: number }>> {
        return this.ask(() => this.resolver.resolveMx(name));
    }
    /** PTR by a DNS query for the reverse name (Resolver.reverse would consult /etc/hosts). */
    ptr(address: string): Promise<Answer<string>> {
        return this.ask(() => this.resolver.resolvePtr(reverseName(address)));
    }
    /** TXT records, each as its list of character-strings. */
    txt(name: string): Promise<Answer<string[]>> {
        return this.ask(() => this.resolver.resolveTxt(name));
    }

    /**
     * The same lookups shaped like `dns.promises.resolve` (what mailauth expects): records, or a
     * thrown error with code ENOTFOUND/ENODATA.
     */
    readonly resolve = async (name: string, type: string): Promise<unknown[]> => {
        const answer = await this.ask<unknown>(() => this.resolver.resolve(name, type) as Promise<unknown[]>);
        if (answer.ok) return answer.records;
        const code = {
            [DnsFailure.NxDomain]: "ENOTFOUND",
            [DnsFailure.NoData]: "ENODATA",
            [DnsFailure.Timeout]: "ETIMEOUT",
            [DnsFailure.Error]: "ESERVFAIL",
        }[answer.failure];
        throw Object.assign(new Error(`${type} ${name}: ${answer.message}`), { code });
    };
}

/** A short readable reason for a failed lookup. */
export function describeFailure(answer: { failure: DnsFailure; message: string }, timeoutMs: number): string {
    switch (answer.failure) {
        case DnsFailure.NxDomain:
            return "the name does not exist (NXDOMAIN)";
        case DnsFailure.NoData:
            return "no record of that type";
        case DnsFailure.Timeout:
            return `timed out after ${timeoutMs} ms`;
        case DnsFailure.Error:
            return `DNS error: ${answer.message}`;
    }
}
