import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { HostProvider, type MailServerArgs } from "./args";
import { type MailServerConfig, resolveConfig } from "./config";
import { MailServerArgumentError } from "./errors";
import { renderUserData } from "./host/userData";
import { operatorSteps } from "./operatorSteps";
import { inboundRules } from "./ports";
import { cloudflareRecords } from "./providers/cloudflare";
import { digitalOceanHost } from "./providers/digitalocean";
import type { Host, HostInput } from "./providers/host";
import { linodeHost } from "./providers/linode";
import { dkimRecord, dkimRecordName } from "./records/dkim";
import { type DnsRecord, type LiveValues, mailRecordSpecs, resolveRecords } from "./records/recordSet";
import type { PtrRecord } from "./records/zoneFile";

export const MAILSERVER_TYPE = "mailserver:index:MailServer";

/** RSA 2048: what Gmail recommends; 1024 is the floor, 4096 does not fit many DNS UIs. */
export const DKIM_RSA_BITS = 2048;

const HOSTS: Record<HostProvider, (input: HostInput) => Host> = {
    [HostProvider.DigitalOcean]: digitalOceanHost,
    [HostProvider.Linode]: linodeHost,
};

/**
 * A mail host that Gmail, Yahoo and Outlook accept: the machine (DigitalOcean or Linode) whose
 * name, HELO, certificate and PTR are its FQDN, its firewall, a DKIM key, and the Cloudflare
 * records (A/AAAA, MX, SPF for the domain and the host, DKIM, DMARC).
 */
export class MailServer extends pulumi.ComponentResource {
    /** The mail domain. */
    public readonly domain: pulumi.Output<string>;
    /** The host's name: `<hostLabel>.<domain>`. */
    public readonly fqdn: pulumi.Output<string>;
    public readonly ipv4: pulumi.Output<string>;
    /** Undefined when IPv6 is off. */
    public readonly ipv6: pulumi.Output<string | undefined>;
    /** Every DNS record created, TXT values as the pre-chunked strings sent to Cloudflare. */
    public readonly dnsRecords: pulumi.Output<DnsRecord[]>;
    /** The PTR records the provider serves for the host's addresses. */
    public readonly ptrRecords: pulumi.Output<PtrRecord[]>;
    public readonly dkimSelector: pulumi.Output<string>;
    /** The DKIM key record, unchunked: `{ name, value }`. */
    public readonly dkimRecord: pulumi.Output<{ name: string; value: string }>;
    /** What the operator must still do by hand (port 25 unblocking, …). */
    public readonly operatorSteps: pulumi.Output<string[]>;
    /** The host's cloud-config (secret: it holds the DKIM private key). */
    public readonly userData: pulumi.Output<string>;
    /** False when the running host was created from other user data (the change was not applied). */
    public readonly userDataApplied: pulumi.Output<boolean>;

    constructor(name: string, args: MailServerArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validate before anything is registered, so a bad argument creates nothing.
        const config = validated(name, args);
        super(MAILSERVER_TYPE, name, {}, opts);

        const dkimKey = new tls.PrivateKey(`${name}-dkim-key`, { algorithm: "RSA", rsaBits: DKIM_RSA_BITS }, { parent: this });
        // Secret: the private key must never show in state, previews or PR comments.
        const userData = pulumi.secret(
            dkimKey.privateKeyPem.apply((dkimPrivateKeyPem) => renderUserData({ host: config.host, dkimPrivateKeyPem })),
        );

        const host = HOSTS[config.provider]({
            name,
            config,
            userData,
            firewall: inboundRules(config.sshAllowed),
            parent: this,
        });

        const specs = mailRecordSpecs(config.host, config.dns);
        const live: pulumi.Output<LiveValues> = pulumi
            .all([host.ipv4, host.ipv6, dkimKey.publicKeyPem])
            .apply(([ipv4, ipv6, dkimPublicKeyPem]) => ({ ipv4, ipv6, dkimPublicKeyPem }));
        const records = cloudflareRecords({ name, zone: config.zone, specs, live, parent: this });
        host.afterForwardRecords({ A: records.get("a"), AAAA: records.get("aaaa") });

        this.userDataApplied = userData.apply((wanted) => host.userDataDiffers(wanted)).apply((differs) => !differs);
        pulumi.all([this.userDataApplied, host.machine.urn]).apply(([applied, urn]) => {
            if (!applied) void pulumi.log.warn(userDataNotAppliedMessage(config.host.fqdn, urn), this);
        });

        this.domain = pulumi.output(config.host.domain);
        this.fqdn = pulumi.output(config.host.fqdn);
        this.ipv4 = host.ipv4;
        this.ipv6 = host.ipv6;
        this.dnsRecords = live.apply((values) => resolveRecords(specs, values));
        this.ptrRecords = live.apply(({ ipv4, ipv6 }) =>
            [ipv4, ...(ipv6 ? [ipv6] : [])].map((address) => ({
                address,
                name: config.host.fqdn,
                ttl: config.dns.ttl,
                servedBy: host.ptrServedBy,
            })),
        );
        this.dkimSelector = pulumi.output(config.host.dkimSelector);
        this.dkimRecord = dkimKey.publicKeyPem.apply((pem) => ({
            name: dkimRecordName(config.host.dkimSelector, config.host.domain),
            value: dkimRecord(pem),
        }));
        this.operatorSteps = pulumi.output(operatorSteps(config, host.operatorSteps));
        this.userData = userData;

        this.registerOutputs({
            domain: this.domain,
            fqdn: this.fqdn,
            ipv4: this.ipv4,
            ipv6: this.ipv6,
            dnsRecords: this.dnsRecords,
            ptrRecords: this.ptrRecords,
            dkimSelector: this.dkimSelector,
            dkimRecord: this.dkimRecord,
            operatorSteps: this.operatorSteps,
            userData: this.userData,
            userDataApplied: this.userDataApplied,
        });
    }
}

function validated(name: string, args: MailServerArgs): MailServerConfig {
    try {
        return resolveConfig(args);
    } catch (error) {
        if (error instanceof MailServerArgumentError) {
            throw new MailServerArgumentError(error.argument, error.problem, name);
        }
        throw error;
    }
}

/** The warning for a user-data change that was deliberately not applied to the running host. */
export function userDataNotAppliedMessage(fqdn: string, machineUrn: string): string {
    return (
        `The user data of ${fqdn} changed, but the running host keeps the one it was created with: ` +
        "replacing a mail server loses its queue and its IP address's sending reputation, so the change was not applied. " +
        "To apply it, re-create the host deliberately (a new IP means new PTR and A/AAAA records, applied in the same run): " +
        `pulumi up --replace '${machineUrn}'`
    );
}
