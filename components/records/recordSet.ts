import type { DnsSettings, HostSettings } from "../config";
import { dkimRecord, dkimRecordName } from "./dkim";
import { dmarcRecord } from "./dmarc";
import { domainSpf, heloSpf } from "./spf";
import { chunkTxt } from "./txt";

/** Values only known once the host and the key exist. */
export interface LiveValues {
    readonly ipv4: string;
    /** Without prefix length; undefined when IPv6 is off. */
    readonly ipv6: string | undefined;
    /** SubjectPublicKeyInfo PEM of the DKIM key. */
    readonly dkimPublicKeyPem: string;
}

export type RecordType = "A" | "AAAA" | "MX" | "TXT";

/**
 * One record of the set. Everything but `value` is known at plan time (so the number of
 * resources never depends on an Output); `value` is computed from the live values.
 */
export interface RecordSpec {
    /** Stable key; also the suffix of the resource name. */
    readonly key: string;
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
export function mailRecordSpecs(host: HostSettings, dns: DnsSettings): RecordSpec[] {
    const { ttl } = dns;
    const specs: RecordSpec[] = [
        {
            key: "a",
            name: host.fqdn,
            type: "A",
            ttl,
            purpose: "host address; PTR must point back to this name (forward-confirmed reverse DNS)",
            value: (live) => live.ipv4,
        },
    ];
    if (host.ipv6) {
        specs.push({
            key: "aaaa",
            name: host.fqdn,
            type: "AAAA",
            ttl,
            purpose: "host IPv6 address; Gmail requires a matching PTR for IPv6 senders",
            value: (live) => requireIpv6(live),
        });
    }
    specs.push(
        {
            key: "mx",
            name: host.domain,
            type: "MX",
            ttl,
            priority: 10,
            purpose: "mail for the domain (postmaster@, abuse@) goes to the host",
            value: () => host.fqdn,
        },
        {
            key: "spf",
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
            key: "helo-spf",
            name: host.fqdn,
            type: "TXT",
            ttl,
            purpose: "SPF for the HELO name and for bounces and root@ mail from the host",
            value: (live) => chunkTxt(heloSpf(live.ipv4, host.ipv6 ? requireIpv6(live) : undefined)),
        },
        {
            key: "dkim",
            name: dkimRecordName(host.dkimSelector, host.domain),
            type: "TXT",
            ttl,
            purpose: "DKIM public key, split into strings of at most 255 characters",
            value: (live) => chunkTxt(dkimRecord(live.dkimPublicKeyPem)),
        },
        {
            key: "dmarc",
            name: `_dmarc.${host.domain}`,
            type: "TXT",
            ttl,
            purpose: "DMARC policy",
            value: () =>
                chunkTxt(dmarcRecord({ policy: dns.dmarcPolicy, alignment: dns.dmarcAlignment, rua: dns.dmarcRua })),
        },
    );
    return specs;
}

function requireIpv6(live: LiveValues): string {
    if (!live.ipv6) throw new Error("IPv6 is on but the host reported no IPv6 address");
    return live.ipv6;
}

/** The specs with their content for `live`. */
export function resolveRecords(specs: readonly RecordSpec[], live: LiveValues): DnsRecord[] {
    return specs.map(({ value, ...spec }) => ({ ...spec, value: value(live) }));
}
