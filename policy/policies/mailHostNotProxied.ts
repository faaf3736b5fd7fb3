import { dnsRecords } from "../dnsRecords";
import { mailHostNames } from "../mailHosts";
import type { MailPolicy } from "../mailPolicy";
import { isKnown, label, type Violation } from "../stackResource";

/** Cloudflare A/AAAA records of mail hosts are DNS-only: Cloudflare's proxy does not carry SMTP. */
export const mailHostNotProxiedPolicy: MailPolicy = {
    name: "mailserver-mail-host-not-proxied",
    description: "Cloudflare A/AAAA records of mail hosts (MX targets, and the FQDNs of mail droplets and instances) are not proxied.",
    check: (resources) => {
        const names = mailHostNames(resources);
        const violations: Violation[] = [];
        for (const record of dnsRecords(resources)) {
            if (record.provider !== "cloudflare" || (record.type !== "A" && record.type !== "AAAA")) continue;
            if (!isKnown(record.name) || !names.has(record.name) || record.proxied !== true) continue;
            violations.push({
                urn: record.resource.urn,
                message: `${record.type} record ${record.name} ${label(record.resource)} is a mail host's address but is proxied through Cloudflare, which does not carry SMTP and hides the host's address from receivers: set proxied: false.`,
            });
        }
        return violations;
    },
};
