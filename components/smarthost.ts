/**
 * The smarthost: a relay that takes every outbound message over a submission port, for accounts
 * whose provider keeps outbound port 25 blocked. Parsed and checked here; Postfix's side is
 * rendered in host/postfix.ts, the login map by {@link renderSmarthostLogin}.
 */
import { domainProblem } from "./dnsName";

/** The relay, as the host settings hold it (no secret: the password travels apart, as a secret). */
export interface Smarthost {
    /** The relay's host name: Postfix connects to its address records (no MX lookup) and verifies its certificate for this name. */
    readonly host: string;
    readonly port: number;
    /** The login name, when the relay wants one (most do; some authorize by address). */
    readonly user: string | undefined;
}

/** The port providers block; a relay is only useful on another one. */
export const BLOCKED_SMTP_PORT = 25;
/** The port on which a relay speaks TLS from the first byte (RFC 8314); every other port starts with STARTTLS. */
export const IMPLICIT_TLS_PORT = 465;
/** Postfix's map of relay logins (texthash: read when the smtp client starts, no postmap). */
export const SMARTHOST_LOGIN_MAP = "/etc/postfix/smarthost-login";
/** Longest login name or password accepted (relays' API keys are ≈ 70 characters). */
export const MAX_SMARTHOST_SECRET = 512;

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL = /[\x00-\x1f\x7f]/;

/** `smtp.example.net:587` → the relay; or why it is not one. */
export function parseSmarthost(value: string): { value: { host: string; port: number } } | { problem: string } {
    const example = "host:port, e.g. smtp.sendgrid.net:587";
    const match = /^([^:\s]+):([0-9]{1,5})$/.exec(value);
    if (!match) return { problem: `${JSON.stringify(value)} is not ${example}` };
    const [, host, portText] = match;
    const hostProblem = domainProblem(host);
    if (hostProblem)
        return { problem: `the host ${JSON.stringify(host)} ${hostProblem} (give its name: its certificate is verified for it)` };
    const port = Number(portText);
    if (port < 1 || port > 65535) return { problem: `port ${port} is not a TCP port (1-65535)` };
    if (port === BLOCKED_SMTP_PORT)
        return {
            problem: `port ${BLOCKED_SMTP_PORT} is the one providers block: use the relay's submission port (587, ${IMPLICIT_TLS_PORT}, or 2525 where 587 is blocked too)`,
        };
    return { value: { host, port } };
}

/** Why `user` cannot be a relay login name (Postfix's map splits `user:password` at the first colon), or undefined. */
export function smarthostUserProblem(user: string): string | undefined {
    if (user.length > MAX_SMARTHOST_SECRET) return `is longer than ${MAX_SMARTHOST_SECRET} characters`;
    if (CONTROL.test(user) || /[\s:]/.test(user)) return "must not hold a space, a colon or a control character";
    return undefined;
}

/** Why a relay password cannot be written to Postfix's map, or undefined. Never quotes the password. */
export function smarthostPasswordProblem(password: string): string | undefined {
    if (password.length === 0) return "is empty";
    if (password.length > MAX_SMARTHOST_SECRET) return `is longer than ${MAX_SMARTHOST_SECRET} characters`;
    // A map line ends at a newline; whitespace at either end would be trimmed by Postfix's parser.
    if (CONTROL.test(password) || password.trim() !== password)
        return "holds a control character or starts or ends with a space, which Postfix's map cannot carry";
    return undefined;
}

/** Postfix's next hop for the relay: brackets, so the name's address records are used and never its MX. */
export function smarthostNexthop(relay: Pick<Smarthost, "host" | "port">): string {
    return `[${relay.host}]:${relay.port}`;
}

/** /etc/postfix/smarthost-login: the relay's next hop, then `user:password` (secret: mode 0600, root only). */
export function renderSmarthostLogin(relay: Smarthost, password: string): string {
    return `${smarthostNexthop(relay)} ${relay.user}:${password}\n`;
}
