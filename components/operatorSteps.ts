import { type MailServerConfig, signingDomains } from "./config";
import type { OutboundSmtp } from "./providers/host";
import { reportAuthorizationName } from "./records/dmarc";
import { needsReportAuthorization } from "./records/recordSet";
import { reportUriDomain } from "./validation";

/**
 * The RFC 7489 §7.1 records another domain must publish to accept our DMARC reports: for each of
 * `domains`, each report domain of another organization that is not one of `domains` (the stack
 * publishes those itself, records/recordSet.ts).
 */
export function externalRuaAuthorizations(domains: readonly string[], rua: readonly string[]): string[] {
    const targets = [...new Set(rua.map(reportUriDomain))].filter((target) => !domains.includes(target));
    return domains.flatMap((domain) =>
        targets.filter((target) => needsReportAuthorization(domain, target)).map((target) => reportAuthorizationName(domain, target)),
    );
}

/** What the operator must still do by hand, in order. */
export function operatorSteps(config: MailServerConfig, providerSteps: readonly string[], outbound: OutboundSmtp): string[] {
    const { host, dns } = config;
    const steps = [...providerSteps];
    const relay = host.smarthost;
    if (!relay) steps.push(outbound.unblock);
    else if (outbound.blockedPorts.includes(relay.port))
        steps.push(
            `${outbound.unblock} The smarthost's port ${relay.port} is one of them: use a port the relay offers outside them (2525 at many relays), or have the restriction lifted.`,
        );
    else
        steps.push(
            `Outbound mail goes through the smarthost ${relay.host}:${relay.port}, so the provider's block of port 25 does not stop it. ` +
                "Keep the relay's SPF entry (spfIncludes/spfIp4/spfIp6) for as long as it is set.",
        );
    const domains = signingDomains(host).map((d) => d.domain);
    const at = domains.map((d) => `${d} or _dmarc.${d}`).join(", ");
    steps.push(
        `Delete any other SPF (v=spf1) or DMARC TXT record at ${at} not made by this stack: ` +
            "two SPF records are a permanent error. Put other senders in spfIncludes/spfIp4/spfIp6 instead.",
    );
    for (const name of externalRuaAuthorizations(domains, dns.dmarcRua)) {
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
