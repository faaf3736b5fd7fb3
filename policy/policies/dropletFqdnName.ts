import { domainProblem } from "../../components/dnsName";
import { mailHosts } from "../mailHosts";
import type { MailPolicy } from "../mailPolicy";
import { isKnown, label, stringProp, type Violation } from "../stackResource";

/**
 * A droplet that is a mail host is named with its FQDN: DigitalOcean has no PTR API and derives
 * the PTR of the droplet's IPv4 and IPv6 address from its name.
 */
export const dropletFqdnNamePolicy: MailPolicy = {
    name: "mailserver-droplet-named-fqdn",
    description: "A DigitalOcean droplet used as a mail host is named with its FQDN (its PTR name).",
    check: (resources) => {
        const violations: Violation[] = [];
        for (const host of mailHosts(resources)) {
            if (host.kind !== "droplet") continue;
            const name = stringProp(host.machine.props.name);
            if (!isKnown(name)) continue;
            const fqdns = [...new Set(host.addressRecords.map((r) => r.name).filter(isKnown))];
            const why =
                "DigitalOcean sets the PTR of its IPv4 and IPv6 address from the droplet name, and receivers such as Gmail refuse mail from an address whose PTR does not resolve back";
            if (fqdns.length > 0 && !fqdns.includes(name)) {
                violations.push({
                    urn: host.machine.urn,
                    message: `mail host droplet ${label(host.machine)} is named "${name}" but its A/AAAA record is ${fqdns.join(", ")}: name the droplet "${fqdns[0]}" (${why}).`,
                });
            } else if (fqdns.length === 0) {
                const problem = domainProblem(name);
                if (problem) {
                    violations.push({
                        urn: host.machine.urn,
                        message: `mail host droplet ${label(host.machine)} is named "${name}", which is not a FQDN (${problem}): name it with the host's FQDN, e.g. mail.example.com (${why}).`,
                    });
                }
            }
        }
        return violations;
    },
};
