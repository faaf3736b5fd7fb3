/**
 * Grades one received message the way a large receiver does, resolving only through the lab's
 * DNS: one verdict per property (SPF, DKIM, DMARC, reverse DNS, HELO, TLS, one signature, the
 * fields the server added, SRS for forwards). mailauth does the authentication.
 */
import { Resolver } from "node:dns/promises";
import { isIP } from "node:net";
import * as ipaddr from "ipaddr.js";
import { authenticate } from "mailauth";
import { reverseName } from "../components/records/reverse";

/** What the receiving MX saw of the SMTP session. */
export interface Session {
    /** The real connecting address (no ::ffff: prefix). */
    readonly ip: string;
    readonly helo: string;
    readonly mailFrom: string;
    readonly rcptTo: readonly string[];
    readonly tls: boolean;
    readonly tlsProtocol?: string;
    readonly tlsCipher?: string;
}

/** The properties the lab grades. Each has a negative control (lab/controls.ts). */
export const PROPERTIES = ["spf", "dkim", "dmarc", "fcrdns", "helo", "tls", "one-signature", "added-fields", "srs", "spam-score"] as const;
export type Property = (typeof PROPERTIES)[number];

export interface Verdict {
    readonly property: Property;
    readonly pass: boolean;
    readonly evidence: string;
}

export type LabResolver = (name: string, rrtype: string) => Promise<unknown>;

/** A mailauth-shaped resolver that asks only the given servers. */
export function labResolver(servers: readonly string[]): LabResolver {
    const resolver = new Resolver({ timeout: 2000, tries: 2 });
    resolver.setServers([...servers]);
    const query = async (name: string, rrtype: string): Promise<unknown> => {
        const n = name.replace(/\.$/, "");
        switch (rrtype) {
            case "A":
                return resolver.resolve4(n);
            case "AAAA":
                return resolver.resolve6(n);
            case "TXT":
                return resolver.resolveTxt(n);
            case "MX":
                return resolver.resolveMx(n);
            case "PTR":
                return resolver.resolvePtr(n);
            case "NS":
                return resolver.resolveNs(n);
            case "CNAME":
                return resolver.resolveCname(n);
            default:
                return resolver.resolve(n, rrtype as "A");
        }
    };
    // The lab's DNS serves only its own zones and refuses the rest (a DMARC tree walk asks
    // _dmarc.com): on the Internet those names do not exist, so they do not here either.
    return async (name, rrtype) => {
        try {
            return await query(name, rrtype);
        } catch (error) {
            if ((error as { code?: string }).code === "EREFUSED")
                throw Object.assign(new Error(`${name}: not found`), { code: "ENOTFOUND" });
            throw error;
        }
    };
}

const bare = (name: string) => name.toLowerCase().replace(/\.$/, "");

/** Header fields of a message (unfolded), in order. */
export function headerFields(raw: Buffer | string): Array<{ key: string; value: string }> {
    const text = raw.toString("latin1");
    const end = text.search(/\r?\n\r?\n/);
    const head = end < 0 ? text : text.slice(0, end);
    const fields: Array<{ key: string; value: string }> = [];
    for (const line of head.split(/\r?\n/)) {
        if (/^[ \t]/.test(line) && fields.length > 0) fields[fields.length - 1].value += ` ${line.trim()}`;
        else {
            const colon = line.indexOf(":");
            if (colon > 0) fields.push({ key: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim() });
        }
    }
    return fields;
}

/** An IPv6 address with every group written out, for comparing addresses. */
export function expand6(address: string): string {
    return ipaddr.IPv6.parse(address).toNormalizedString();
}
const sameAddress = (a: string, b: string) => (isIP(a) === 6 && isIP(b) === 6 ? expand6(a) === expand6(b) : a === b);

async function addressesOf(name: string, family: number, resolve: LabResolver): Promise<string[]> {
    try {
        return (await resolve(name, family === 6 ? "AAAA" : "A")) as string[];
    } catch {
        return [];
    }
}

/** Forward-confirmed reverse DNS: PTR(ip) → name, and A/AAAA(name) contains ip. */
export async function fcrdns(ip: string, resolve: LabResolver): Promise<{ pass: boolean; names: string[]; evidence: string }> {
    let names: string[] = [];
    try {
        names = ((await resolve(reverseName(ip), "PTR")) as string[]).map(bare);
    } catch (error) {
        return { pass: false, names, evidence: `PTR ${ip}: ${(error as { code?: string }).code ?? (error as Error).message}` };
    }
    for (const name of names) {
        const addresses = await addressesOf(name, isIP(ip), resolve);
        if (addresses.some((a) => sameAddress(a, ip)))
            return { pass: true, names, evidence: `PTR ${ip} → ${name} → ${addresses.join(",")}` };
    }
    return { pass: false, names, evidence: `PTR ${ip} → ${names.join(",") || "(none)"}; no name resolves back to ${ip}` };
}

export interface GradeOptions {
    /** The From: and d= domain expected. */
    readonly domain: string;
    readonly minKeyBits: number;
    /** A forward of someone else's mail: graded for SRS and an intact author signature instead of our DKIM. */
    readonly forwarded: boolean;
    /** Header fields the server must have added (the message was submitted without them). */
    readonly addedFields: readonly string[];
}

interface DkimResult {
    signingDomain?: string;
    selector?: string;
    algo?: string;
    modulusLength?: number;
    status?: { result?: string; comment?: string };
}

interface AuthResult {
    spf?: { status?: { result?: string; comment?: string } };
    dkim?: { results?: DkimResult[] };
    dmarc?: { status?: { result?: string }; domain?: string; policy?: string };
}

/** Every property's verdict for one message, and mailauth's answer. */
export async function grade(
    raw: Buffer,
    session: Session,
    resolve: LabResolver,
    options: GradeOptions,
): Promise<{ verdicts: Verdict[]; auth: AuthResult }> {
    const verdicts: Verdict[] = [];
    const add = (property: Property, pass: boolean, evidence: string) => verdicts.push({ property, pass, evidence });
    const auth = (await authenticate(raw, {
        ip: session.ip,
        helo: session.helo,
        sender: session.mailFrom,
        mta: "mx.example.net",
        resolver: resolve as never,
        minBitLength: 1024,
        disableArc: true,
        disableBimi: true,
    })) as AuthResult;
    const spf = auth.spf?.status?.result;
    const spfEvidence = `spf=${spf} smtp.mailfrom=${session.mailFrom} ip=${session.ip}${auth.spf?.status?.comment ? ` (${auth.spf.status.comment})` : ""}`;
    const signatures = auth.dkim?.results ?? [];
    const described = signatures
        .map(
            (r) =>
                `d=${r.signingDomain} s=${r.selector} a=${r.algo} ${r.status?.result}${r.modulusLength ? ` ${r.modulusLength}-bit` : ""}`,
        )
        .join("; ");
    const header = headerFields(raw);
    const count = (key: string) => header.filter((f) => f.key === key).length;
    if (options.forwarded) {
        const rewritten = /^SRS[01][=+-]/i.test(session.mailFrom) && bare(session.mailFrom.split("@")[1] ?? "") === bare(options.domain);
        add("srs", rewritten && spf === "pass", `envelope sender ${session.mailFrom}; ${spfEvidence}`);
        add(
            "dkim",
            signatures.length > 0 && signatures.every((r) => r.status?.result === "pass"),
            `the author's signature intact: ${described || "no signature"}`,
        );
    } else {
        add("spf", spf === "pass", spfEvidence);
        const ours = signatures.find((r) => bare(r.signingDomain ?? "") === bare(options.domain) && r.status?.result === "pass");
        const strong = ours !== undefined && (ours.modulusLength ?? 0) >= options.minKeyBits && /sha256/.test(ours.algo ?? "");
        add("dkim", strong, described || "no signature");
        const dmarc = auth.dmarc?.status?.result;
        add("dmarc", dmarc === "pass", `dmarc=${dmarc} header.from=${auth.dmarc?.domain ?? "?"} policy=${auth.dmarc?.policy ?? "?"}`);
        const ourSignatures = header.filter(
            (f) => f.key === "dkim-signature" && new RegExp(`\\bd=${options.domain.replace(/\./g, "\\.")};`).test(f.value),
        ).length;
        add(
            "one-signature",
            ourSignatures === 1,
            `${ourSignatures} DKIM-Signature header(s) with d=${options.domain}, ${count("dkim-signature")} in all`,
        );
    }
    const reverse = await fcrdns(session.ip, resolve);
    add("fcrdns", reverse.pass, reverse.evidence);
    const heloAddresses = await addressesOf(session.helo, isIP(session.ip), resolve);
    const heloConfirmed = heloAddresses.some((a) => sameAddress(a, session.ip));
    // The HELO name resolves to the connecting address and, where the address has a PTR, is that
    // name (Gmail's guideline); a missing PTR is the reverse-DNS property's failure, not this one's.
    const matchesPtr = reverse.names.length === 0 || reverse.names.includes(bare(session.helo));
    add(
        "helo",
        heloConfirmed && matchesPtr,
        `HELO ${session.helo} → ${heloAddresses.join(",") || "(no address)"}; PTR ${reverse.names.join(",") || "(none)"}`,
    );
    add("tls", session.tls, session.tls ? `${session.tlsProtocol ?? ""} ${session.tlsCipher ?? ""}`.trim() : "plaintext session");
    if (options.addedFields.length > 0) {
        const problems: string[] = [];
        for (const field of options.addedFields) {
            const values = header.filter((f) => f.key === field).map((f) => f.value);
            const valid = field === "message-id" ? /^<[^<>@\s]+@[^<>@\s]+>$/ : field === "date" ? /\d{4} \d\d:\d\d:\d\d [+-]\d{4}/ : /./;
            if (values.length !== 1 || !valid.test(values[0]))
                problems.push(`${field}: ${values.length} (${values.join(" | ") || "none"})`);
        }
        add(
            "added-fields",
            problems.length === 0,
            problems.length > 0 ? problems.join("; ") : `the server added ${options.addedFields.join(", ")}, once each, well formed`,
        );
    }
    return { verdicts, auth };
}

/** Changes one letter of the body (after the header/body separator). */
export function tamper(raw: Buffer): Buffer {
    const text = raw.toString("latin1");
    const at = text.search(/\r?\n\r?\n/);
    const body = text.slice(at);
    const letter = body.search(/[A-Za-z]/);
    if (at < 0 || letter < 0) return Buffer.from(`${text}tampered`, "latin1");
    const c = body[letter];
    const swapped = c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase();
    return Buffer.from(text.slice(0, at) + body.slice(0, letter) + swapped + body.slice(letter + 1), "latin1");
}
