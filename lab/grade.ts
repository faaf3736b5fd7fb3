// Grades one received message the way a large receiver does, resolving only through lab DNS.
import { Resolver } from "node:dns/promises";
import { isIP } from "node:net";
import { authenticate } from "mailauth";
import * as ipaddr from "ipaddr.js";
import { reverseName } from "../components/records/reverse.js";

export interface Session {
    ip: string; // real connecting address (no ::ffff: prefix)
    helo: string;
    mailFrom: string;
    rcptTo: string[];
    tls: boolean;
    tlsProtocol?: string;
    tlsCipher?: string;
}
export interface Check {
    name: string;
    pass: boolean;
    evidence: string;
}

/** A mailauth-shaped resolver that asks only the given server(s). */
export function labResolver(servers: string[]) {
    const r = new Resolver({ timeout: 2000, tries: 2 });
    r.setServers(servers);
    const fn = async (name: string, rrtype: string): Promise<any> => {
        const n = name.replace(/\.$/, "");
        switch (rrtype) {
            case "A":
                return r.resolve4(n);
            case "AAAA":
                return r.resolve6(n);
            case "TXT":
                return r.resolveTxt(n);
            case "MX":
                return r.resolveMx(n);
            case "PTR":
                return r.resolvePtr(n);
            case "NS":
                return r.resolveNs(n);
            case "CNAME":
                return r.resolveCname(n);
            default:
                return r.resolve(n, rrtype as "A");
        }
    };
    return fn;
}
export type LabResolver = ReturnType<typeof labResolver>;

const bare = (n: string) => n.toLowerCase().replace(/\.$/, "");

/** Header fields of the message (unfolded), in order. */
export function headerFields(raw: Buffer | string): { key: string; value: string }[] {
    const text = raw.toString("latin1");
    const end = text.search(/\r?\n\r?\n/);
    const head = end < 0 ? text : text.slice(0, end);
    const out: { key: string; value: string }[] = [];
    for (const line of head.split(/\r?\n/)) {
        if (/^[ \t]/.test(line) && out.length) out[out.length - 1].value += " " + line.trim();
        else {
            const i = line.indexOf(":");
            if (i > 0) out.push({ key: line.slice(0, i).trim().toLowerCase(), value: line.slice(i + 1).trim() });
        }
    }
    return out;
}

/** Forward-confirmed reverse DNS: PTR(ip) → name, and A/AAAA(name) contains ip. */
export async function fcrdns(
    ip: string,
    resolve: LabResolver,
): Promise<{ pass: boolean; ptr: string[]; confirmed?: string; evidence: string }> {
    let ptr: string[] = [];
    try {
        ptr = (await resolve(ptrQueryName(ip), "PTR")).map(bare);
    } catch (e: any) {
        return { pass: false, ptr, evidence: `PTR ${ip}: ${e.code ?? e.message}` };
    }
    for (const name of ptr) {
        try {
            const addrs: string[] = await resolve(name, isIP(ip) === 6 ? "AAAA" : "A");
            if (addrs.some((a) => sameIp(a, ip)))
                return { pass: true, ptr, confirmed: name, evidence: `PTR ${ip} → ${name} → ${addrs.join(",")}` };
        } catch {
            /* try next */
        }
    }
    return { pass: false, ptr, evidence: `PTR ${ip} → ${ptr.join(",") || "(none)"}; no name resolves back to ${ip}` };
}

const ptrQueryName = reverseName;
/** An IPv6 address with every group written out, for comparing addresses (ipaddr.js). */
export function expand6(ip: string): string {
    return ipaddr.IPv6.parse(ip).toNormalizedString();
}
const sameIp = (a: string, b: string) => (isIP(a) === 6 && isIP(b) === 6 ? expand6(a) === expand6(b) : a === b);

export interface GradeOptions {
    domain: string; // the From:/d= domain expected
    minKeyBits: number;
    requireDkim: boolean; // false for forwarded third-party mail
    requireDmarc: boolean;
    expectSrs?: boolean; // envelope sender must be SRS-rewritten (forwarding)
}

export async function grade(raw: Buffer, s: Session, resolve: LabResolver, o: GradeOptions): Promise<{ checks: Check[]; auth: any }> {
    const checks: Check[] = [];
    const add = (name: string, pass: boolean, evidence: string) => checks.push({ name, pass, evidence });
    const auth: any = await authenticate(raw, {
        ip: s.ip,
        helo: s.helo,
        sender: s.mailFrom,
        mta: "mx.example.net",
        resolver: resolve as any,
        minBitLength: 1024,
        disableArc: true,
        disableBimi: true,
    });
    const spf = auth.spf?.status?.result;
    add(
        "spf",
        spf === "pass",
        `spf=${spf} smtp.mailfrom=${s.mailFrom} ip=${s.ip}` + (auth.spf?.status?.comment ? ` (${auth.spf.status.comment})` : ""),
    );
    if (o.expectSrs)
        add(
            "srs",
            /^SRS[01][=+-]/i.test(s.mailFrom) && bare(s.mailFrom.split("@")[1] ?? "") === bare(o.domain),
            `envelope sender ${s.mailFrom}`,
        );
    const dk: any[] = auth.dkim?.results ?? [];
    const ours = dk.filter((r) => bare(r.signingDomain ?? "") === bare(o.domain));
    const ev =
        dk
            .map(
                (r) =>
                    `d=${r.signingDomain} s=${r.selector} a=${r.algo} ${r.status?.result}${r.modulusLength ? ` ${r.modulusLength}-bit` : ""}${r.status?.comment ? ` (${r.status.comment})` : ""}`,
            )
            .join("; ") || "no signature";
    if (o.requireDkim) {
        const good = ours.find((r) => r.status?.result === "pass");
        add("dkim", !!good, ev);
        add(
            "dkim-key-2048",
            !!good && (good.modulusLength ?? 0) >= o.minKeyBits,
            good ? `${good.modulusLength} bits` : "no passing signature",
        );
        add("dkim-rsa-sha256", !!good && /sha256/.test(good.algo ?? ""), good ? `a=${good.algo}` : "no passing signature");
    } else {
        add(
            "dkim-not-broken",
            dk.every((r) => r.status?.result === "pass"),
            ev,
        );
    }
    const dmarc = auth.dmarc?.status?.result;
    if (o.requireDmarc)
        add("dmarc", dmarc === "pass", `dmarc=${dmarc} header.from=${auth.dmarc?.domain ?? "?"} policy=${auth.dmarc?.policy ?? "?"}`);
    const rdns = await fcrdns(s.ip, resolve);
    add("fcrdns", rdns.pass, rdns.evidence);
    add("helo-is-ptr", !!rdns.confirmed && bare(s.helo) === rdns.confirmed, `HELO ${s.helo}; PTR ${rdns.ptr.join(",") || "(none)"}`);
    add("tls", s.tls, s.tls ? `${s.tlsProtocol ?? ""} ${s.tlsCipher ?? ""}`.trim() : "plaintext session");
    const h = headerFields(raw);
    const n = (k: string) => h.filter((f) => f.key === k).length;
    add(
        "one-dkim-signature",
        o.requireDkim ? n("dkim-signature") === 1 : n("dkim-signature") <= 1,
        `${n("dkim-signature")} DKIM-Signature header(s)`,
    );
    const mid = h.find((f) => f.key === "message-id")?.value ?? "";
    const date = h.find((f) => f.key === "date")?.value ?? "";
    add("rfc5322-from", n("from") === 1, `${n("from")} From`);
    add("rfc5322-message-id", n("message-id") === 1 && /^<[^<>@\s]+@[^<>@\s]+>$/.test(mid), `${n("message-id")} Message-ID ${mid}`);
    add("rfc5322-date", n("date") === 1 && !Number.isNaN(Date.parse(date.replace(/\s*\(.*\)$/, ""))), `${n("date")} Date ${date}`);
    const dup = ["sender", "reply-to", "to", "cc", "subject", "in-reply-to", "references"].filter((k) => n(k) > 1);
    add("rfc5322-single-fields", dup.length === 0, dup.length ? `duplicated: ${dup.join(",")}` : "no duplicated single-instance fields");
    return { checks, auth: { spf: auth.spf, dkim: auth.dkim?.results, dmarc: auth.dmarc, headers: auth.headers } };
}

/** Change one character of the body (after the header/body separator). */
export function tamper(raw: Buffer): Buffer {
    const s = raw.toString("latin1");
    const i = s.search(/\r?\n\r?\n/);
    const body = s.slice(i);
    const j = body.search(/[A-Za-z]/);
    if (i < 0 || j < 0) return Buffer.from(s + "tampered", "latin1");
    const c = body[j];
    const swapped = c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase();
    return Buffer.from(s.slice(0, i) + body.slice(0, j) + swapped + body.slice(j + 1), "latin1");
}
