import { getDomain } from "tldts";
import type { MailServerConfig } from "./config";
import { reportAuthorizationName } from "./records/dmarc";
import { reportUriDomain } from "./validation";

/** The RFC 7489 §7.1 record another domain must publish to accept our DMARC reports. */
export function externalRuaAuthorizations(domain: string, rua: readonly string[]): string[] {
    const ours = getDomain(domain) ?? domain;
    return rua
        .map(reportUriDomain)
        .filter((target, i, all) => (getDomain(target) ?? target) !== ours && all.indexOf(target) === i)
        .map((target) => reportAuthorizationName(domain, target));
}

/** What the operator must still do by hand, in order. */
export function operatorSteps(config: MailServerConfig, providerSteps: readonly string[]): string[] {
    const { host, dns } = config;
    const steps = [...providerSteps];
    steps.push(
        `Delete any other SPF (v=spf1) or DMARC TXT record at ${host.domain} or _dmarc.${host.domain} not made by this stack: ` +
            "two SPF records are a permanent error. Put other senders in spfIncludes/spfIp4/spfIp6 instead.",
    );
    for (const name of externalRuaAuthorizations(host.domain, dns.dmarcRua)) {
        steps.push(`Ask the owner of that domain to publish TXT "v=DMARC1" at ${name}, or receivers will not send DMARC reports there.`);
    }
    if (config.sshAllowed.ipv4.length + config.sshAllowed.ipv6.length === 0) {
        if (host.sshPublicKeys.length > 0)
            steps.push("sshPublicKeys are given but sshAllowedCidrs is empty, so the admin cannot log in: add your ranges.");
    } else if (host.sshPublicKeys.length === 0) {
        steps.push("sshAllowedCidrs lets the admin in, but no sshPublicKeys were given, so nobody can log in: add a key.");
    }
    return steps;
}
