import type { Dns } from "./dns";

/** What every check is given. */
export interface CheckContext {
    readonly domain: string;
    readonly dns: Dns;
    readonly timeoutMs: number;
    /** Port the SMTP checks connect to. @default 25 */
    readonly smtpPort: number;
    /** Port of the MTA-STS policy host. @default 443 */
    readonly httpsPort: number;
    /** DKIM selector, when known. */
    readonly selector: string | undefined;
    /** Name we announce in EHLO. */
    readonly helo: string;
    /** PEM CA certificates to trust instead of the system store (SMTP and HTTPS). */
    readonly ca: string | undefined;
    /** DNS blocklist zones to query; empty unless asked for. */
    readonly blocklists: readonly string[];
    /** The time expiry is measured against. */
    readonly now: Date;
}
