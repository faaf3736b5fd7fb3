/**
 * The server's further mail domains (`extraDomains`): each has its own Cloudflare zone, DKIM key
 * and selector, MX, SPF and DMARC records; the host's name, addresses, PTR and certificate are
 * the primary domain's and shared. Parsed from one-line entries, pure; config.ts turns a problem
 * into an error naming the argument.
 */
import type * as pulumi from "@pulumi/pulumi";
import { getDomain } from "tldts";
import { labelProblem } from "./dnsName";
import { isWithin, registrableDomainProblem } from "./validation";

/** A Cloudflare zone: by id (32 hexadecimal characters) or looked up by name. */
export type ZoneRef = { readonly id: pulumi.Input<string> } | { readonly name: string };

/** A mail domain with everything that is its own. */
export interface MailDomain {
    readonly name: string;
    readonly zone: ZoneRef;
    /** The selector of the key that signs its mail. */
    readonly dkimSelector: string;
    /** Selectors of earlier keys that stay published (with their keys). */
    readonly dkimPreviousSelectors: readonly string[];
}

/** What the host knows of a mail domain: its name and the selector it signs with. */
export interface SigningDomain {
    readonly domain: string;
    readonly selector: string;
}

export const CLOUDFLARE_ZONE_ID = /^[0-9a-f]{32}$/;

type Result<T> = { value: T } | { problem: string };

/** Why `selector` is not a lower-case DNS label, or undefined. */
export function selectorProblem(selector: string): string | undefined {
    const issue = labelProblem(selector);
    if (issue || selector !== selector.toLowerCase())
        return `${JSON.stringify(selector)} is not a lower-case DNS label: ${issue ?? "must be lower case"}`;
    return undefined;
}

/** The zone of `domain` when none is given: its registrable domain (example.org for lists.example.org). */
export function defaultZoneName(domain: string): string {
    return getDomain(domain) ?? domain;
}

/**
 * `example.org`, then optionally `zone=<zone name>` or `zoneId=<32 hex>`, `selector=<label>`
 * (default `defaultSelector`) and `previousSelectors=<label>,<label>` (published after a rotation).
 */
export function parseExtraDomain(line: string, defaultSelector: string): Result<MailDomain> {
    const [name, ...options] = line.split(" ");
    const nameProblem = registrableDomainProblem(name);
    if (nameProblem) return { problem: `${JSON.stringify(name)} ${nameProblem}` };
    const given = new Map<string, string>();
    for (const option of options) {
        const match = /^(zone|zoneId|selector|previousSelectors)=(.+)$/.exec(option);
        if (!match || given.has(match[1]))
            return {
                problem: `${JSON.stringify(line)}: after the domain only zone=<name> or zoneId=<id>, selector=<label> and previousSelectors=<label>,… may follow, each once`,
            };
        given.set(match[1], match[2]);
    }
    let zone: ZoneRef;
    const zoneId = given.get("zoneId");
    const zoneName = given.get("zone");
    if (zoneId !== undefined && zoneName !== undefined) return { problem: `${JSON.stringify(line)}: give zone= or zoneId=, not both` };
    if (zoneId !== undefined) {
        if (!CLOUDFLARE_ZONE_ID.test(zoneId))
            return {
                problem: `${JSON.stringify(line)}: ${JSON.stringify(zoneId)} is not a Cloudflare zone id (32 hexadecimal characters)`,
            };
        zone = { id: zoneId };
    } else {
        const zoneNameValue = zoneName ?? defaultZoneName(name);
        const zoneProblem = registrableDomainProblem(zoneNameValue);
        if (zoneProblem) return { problem: `${JSON.stringify(line)}: the zone ${JSON.stringify(zoneNameValue)} ${zoneProblem}` };
        if (!isWithin(name, zoneNameValue))
            return { problem: `${JSON.stringify(line)}: the zone "${zoneNameValue}" does not contain the domain "${name}"` };
        zone = { name: zoneNameValue };
    }
    const dkimSelector = given.get("selector") ?? defaultSelector;
    const problem = selectorProblem(dkimSelector);
    if (problem) return { problem: `${JSON.stringify(line)}: selector ${problem}` };
    const previous = given.get("previousSelectors")?.split(",") ?? [];
    for (const selector of previous) {
        const issue = selectorProblem(selector);
        if (issue) return { problem: `${JSON.stringify(line)}: previousSelectors ${issue}` };
    }
    if (previous.includes(dkimSelector))
        return {
            problem: `${JSON.stringify(line)}: "${dkimSelector}" is the signing selector; list only earlier ones in previousSelectors`,
        };
    if (new Set(previous).size !== previous.length) return { problem: `${JSON.stringify(line)}: previousSelectors names a selector twice` };
    return { value: { name, zone, dkimSelector, dkimPreviousSelectors: previous } };
}

/**
 * Why the further domains do not fit with the primary domain and the host name, or undefined: the
 * primary itself, the host name or a name under it (it receives no mail). A domain given twice is
 * refused with the list (config.ts parsedList).
 */
export function extraDomainsProblem(extras: readonly MailDomain[], primary: string, fqdn: string): string | undefined {
    for (const { name } of extras) {
        if (name === primary) return `"${name}" is the primary domain (domain); list only the others`;
        if (isWithin(name, fqdn)) return `"${name}" is the host name ${fqdn} or under it, which receives no mail`;
    }
    return undefined;
}

/** The published DKIM selectors of `domain`, the signing one first. */
export function publishedSelectors(domain: Pick<MailDomain, "dkimSelector" | "dkimPreviousSelectors">): string[] {
    return [domain.dkimSelector, ...domain.dkimPreviousSelectors];
}
