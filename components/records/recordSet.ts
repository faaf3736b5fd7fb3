import type { DnsSettings, HostSettings } from "../config";
import { dkimRecord, dkimRecordName } from "./dkim";
import { dmarcRecord } from "./dmarc";
import { domainSpf, heloSpf } from "./spf";
import { chunkTxt } from "./txt";

/** Values only known once the host and the keys exist. */
export interface LiveValues {
    readonly ipv4: string;
    /** Without prefix length; undefined when IPv6 is off. */
    readonly ipv6: string | undefined;
    /** SubjectPublicKeyInfo PEM of each published DKIM key, by selector. */
    readonly dkimPublicKeyPems: Readonly<Record<string, string>>;
}

/**
 * When a record is written relative to the host's configuration step. Records the host relies on
 * (its address, the keys it signs with) come before its prepare stage; records that tell the
 * world what the host does (MX, SPF, DMARC) come between prepare, which stops what the host gives
 * up, and commit, which starts what those records announce (host/bundle.ts Stage). Records that
 * disappear (a retired key, a removed AAAA) go last, once the host stopped using them.
 */
export enum Phase {
    BeforeApply = "before-apply",
    AfterApply = "after-apply",
}

export type RecordType = "A" | "AAAA" | "MX" | "TXT";

/**
 * One record of the set. Everything but `value` is known at plan time (so the number of
 * resources never depends on an Output); `value` is computed from the live values.
 */
export interface RecordSpec {
    /**
     * Stable key; also the suffix of the resource name. It holds the record's name, so a record
     * that moves (a new host name or domain) is created anew and the old one removed at the end.
     */
    readonly key: string;
    readonly phase: Phase;
    /** Fully-qualified, no trailing dot. */
    readonly name: string;
    readonly type: RecordType;
    readonly ttl: number;
    readonly priority?: number;
    /** Why the record exists (zone-file comment). */
    readonly purpose: string;
    readonly value: (live: LiveValues) => string;
}

/** A record with its value: what is created at the DNS provider. TXT values are pre-chunked. */
export type DnsRecord = Omit<RecordSpec, "value"> & { readonly value: string };

/** The records the mail domain needs. The single source of truth for DNS resources and the zone file. */
export function mailRecordSpecs(host: HostSettings, dns: DnsSettings, dkimSelectors: readonly string[]): RecordSpec[] {
    const { ttl } = dns;
    const specs: RecordSpec[] = [
        {
            key: `a-${host.fqdn}`,
            phase: Phase.BeforeApply,
            name: host.fqdn,
            type: "A",
            ttl,
            purpose: "host address; PTR must point back to this name (forward-confirmed reverse DNS)",
            value: (live) => live.ipv4,
        },
    ];
    if (host.ipv6) {
        specs.push({
            key: `aaaa-${host.fqdn}`,
            phase: Phase.BeforeApply,
            name: host.fqdn,
            type: "AAAA",
            ttl,
            purpose: "host IPv6 address; Gmail requires a matching PTR for IPv6 senders",
            value: (live) => requireIpv6(live),
        });
    }
    for (const selector of dkimSelectors) {
        const name = dkimRecordName(selector, host.domain);
        specs.push({
            key: `dkim-${name}`,
            phase: Phase.BeforeApply,
            name,
            type: "TXT",
            ttl,
            purpose:
                selector === host.dkimSelector
                    ? "DKIM public key the host signs with, split into strings of at most 255 characters"
                    : "earlier DKIM public key, kept so mail signed before the rotation still verifies",
            value: (live) => chunkTxt(dkimRecord(requireKey(live, selector))),
        });
    }
    specs.push(
        {
            key: `mx-${host.domain}`,
            phase: Phase.AfterApply,
            name: host.domain,
            type: "MX",
            ttl,
            priority: 10,
            purpose: "mail for the domain (postmaster@, abuse@) goes to the host",
            value: () => host.fqdn,
        },
        {
            key: `spf-${host.domain}`,
            phase: Phase.AfterApply,
            name: host.domain,
            type: "TXT",
            ttl,
            purpose: "SPF: every address allowed to send as the domain",
            value: (live) =>
                chunkTxt(
                    domainSpf({
                        hostIpv4: live.ipv4,
                        hostIpv6: host.ipv6 ? requireIpv6(live) : undefined,
                        ip4: dns.spfIp4,
                        ip6: dns.spfIp6,
                        includes: dns.spfIncludes,
                        all: dns.spfAll,
                    }),
                ),
        },
        {
            key: `spf-${host.fqdn}`,
            phase: Phase.AfterApply,
            name: host.fqdn,
            type: "TXT",
            ttl,
            purpose: "SPF for the HELO name and for bounces and root@ mail from the host",
            value: (live) => chunkTxt(heloSpf(live.ipv4, host.ipv6 ? requireIpv6(live) : undefined)),
        },
        {
            key: `dmarc-${host.domain}`,
            phase: Phase.AfterApply,
            name: `_dmarc.${host.domain}`,
            type: "TXT",
            ttl,
            purpose: "DMARC policy",
            value: () => chunkTxt(dmarcRecord({ policy: dns.dmarcPolicy, alignment: dns.dmarcAlignment, rua: dns.dmarcRua })),
        },
    );
    return specs;
}

function requireKey(live: LiveValues, selector: string): string {
    const pem = live.dkimPublicKeyPems[selector];
    if (!pem) throw new Error(`no DKIM key for selector ${selector}`);
    return pem;
}

function requireIpv6(live: LiveValues): string {
    if (!live.ipv6) throw new Error("IPv6 is on but the host reported no IPv6 address");
    return live.ipv6;
}

/** The specs with their content for `live`. */
export function resolveRecords(specs: readonly RecordSpec[], live: LiveValues): DnsRecord[] {
    return specs.map(({ value, ...spec }) => ({ ...spec, value: value(live) }));
}
