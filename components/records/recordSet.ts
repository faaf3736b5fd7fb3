import { getDomain } from "tldts";
import type { DnsSettings, HostSettings } from "../config";
import { reportUriDomain } from "../validation";
import { dkimRecord, dkimRecordName } from "./dkim";
import { dmarcRecord, reportAuthorizationName } from "./dmarc";
import { domainSpf, heloSpf } from "./spf";
import { chunkTxt } from "./txt";

/** Values only known once the host and the keys exist. */
export interface LiveValues {
    readonly ipv4: string;
    /** Without prefix length; undefined when IPv6 is off. */
    readonly ipv6: string | undefined;
    /** SubjectPublicKeyInfo PEM of each published DKIM key, by its record name (`<selector>._domainkey.<domain>`). */
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
    /** The zone it is written to: the zone's name, or the mail domain when its zone is given by id. */
    readonly zone: string;
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

/** A mail domain as its records need it. */
export interface RecordDomain {
    readonly name: string;
    /** Its zone's name, or the domain itself when the zone is given by id (see RecordSpec.zone). */
    readonly zone: string;
    /** Its published DKIM selectors, the signing one first. */
    readonly selectors: readonly string[];
}

/**
 * The records the mail domains need: the host's (A, AAAA, its SPF) in the primary domain's zone,
 * then each domain's keys, MX, SPF and DMARC in its own. The single source of truth for DNS
 * resources and the zone file.
 */
export function mailRecordSpecs(host: HostSettings, dns: DnsSettings, domains: readonly RecordDomain[]): RecordSpec[] {
    const { ttl } = dns;
    const hostZone = domains[0].zone;
    const specs: RecordSpec[] = [
        {
            key: `a-${host.fqdn}`,
            zone: hostZone,
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
            zone: hostZone,
            phase: Phase.BeforeApply,
            name: host.fqdn,
            type: "AAAA",
            ttl,
            purpose: "host IPv6 address; Gmail requires a matching PTR for IPv6 senders",
            value: (live) => requireIpv6(live),
        });
    }
    specs.push({
        key: `spf-${host.fqdn}`,
        zone: hostZone,
        phase: Phase.AfterApply,
        name: host.fqdn,
        type: "TXT",
        ttl,
        purpose: "SPF for the HELO name and for bounces and root@ mail from the host",
        value: (live) => chunkTxt(heloSpf(live.ipv4, host.ipv6 ? requireIpv6(live) : undefined)),
    });
    for (const domain of domains) specs.push(...domainSpecs(host, dns, domain));
    specs.push(...reportAuthorizations(dns, domains));
    return specs;
}

/**
 * RFC 7489 §7.1: reports for one of our domains sent to an address of another of our domains
 * (another organization) are accepted once that domain publishes `<domain>._report._dmarc.<it>`;
 * we own both zones, so we publish it.
 */
function reportAuthorizations(dns: DnsSettings, domains: readonly RecordDomain[]): RecordSpec[] {
    const specs: RecordSpec[] = [];
    for (const target of ownReportDomains(dns.dmarcRua, domains)) {
        for (const domain of domains) {
            if (!needsReportAuthorization(domain.name, target.name)) continue;
            const name = reportAuthorizationName(domain.name, target.name);
            specs.push({
                key: `dmarc-report-${name}`,
                zone: target.zone,
                phase: Phase.AfterApply,
                name,
                type: "TXT",
                ttl: dns.ttl,
                purpose: `lets ${domain.name}'s DMARC reports go to ${target.name} (RFC 7489 §7.1)`,
                value: () => chunkTxt("v=DMARC1"),
            });
        }
    }
    return specs;
}

/** The report addresses' domains that are among ours (each once). */
function ownReportDomains(rua: readonly string[], domains: readonly RecordDomain[]): RecordDomain[] {
    const targets = new Set(rua.map(reportUriDomain));
    return domains.filter((d) => targets.has(d.name));
}

/** Whether reports for `domain` sent to `reportDomain` need the receiving domain's authorization (another organization). */
export function needsReportAuthorization(domain: string, reportDomain: string): boolean {
    return (getDomain(reportDomain) ?? reportDomain) !== (getDomain(domain) ?? domain);
}

/** One mail domain's records: its DKIM keys (before the host signs with them), MX, SPF and DMARC. */
function domainSpecs(host: HostSettings, dns: DnsSettings, domain: RecordDomain): RecordSpec[] {
    const { ttl } = dns;
    const { zone } = domain;
    const keys = domain.selectors.map((selector, i): RecordSpec => {
        const name = dkimRecordName(selector, domain.name);
        return {
            key: `dkim-${name}`,
            zone,
            phase: Phase.BeforeApply,
            name,
            type: "TXT",
            ttl,
            purpose:
                i === 0
                    ? "DKIM public key the host signs with, split into strings of at most 255 characters"
                    : "earlier DKIM public key, kept so mail signed before the rotation still verifies",
            value: (live) => chunkTxt(dkimRecord(requireKey(live, name))),
        };
    });
    return [
        ...keys,
        {
            key: `mx-${domain.name}`,
            zone,
            phase: Phase.AfterApply,
            name: domain.name,
            type: "MX",
            ttl,
            priority: 10,
            purpose: "mail for the domain (postmaster@, abuse@) goes to the host",
            value: () => host.fqdn,
        },
        {
            key: `spf-${domain.name}`,
            zone,
            phase: Phase.AfterApply,
            name: domain.name,
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
            key: `dmarc-${domain.name}`,
            zone,
            phase: Phase.AfterApply,
            name: `_dmarc.${domain.name}`,
            type: "TXT",
            ttl,
            purpose: "DMARC policy",
            value: () => chunkTxt(dmarcRecord({ policy: dns.dmarcPolicy, alignment: dns.dmarcAlignment, rua: dns.dmarcRua })),
        },
    ];
}

function requireKey(live: LiveValues, recordName: string): string {
    const pem = live.dkimPublicKeyPems[recordName];
    if (!pem) throw new Error(`no DKIM key for ${recordName}`);
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
