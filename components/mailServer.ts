import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import { HostProvider, type MailServerArgs } from "./args";
import { ChangeGuard } from "./changeGuard";
import { type MailServerConfig, mailDomains, resolveConfig } from "./config";
import { type MailDomain, publishedSelectors } from "./domains";
import { MailServerArgumentError } from "./errors";
import { APPLY_PROGRAM, DEPLOY_USER, renderBootstrap } from "./host/bootstrap";
import { type DkimKeyPair, renderBundle, Stage } from "./host/bundle";
import { operatorSteps } from "./operatorSteps";
import { GENERATED_PASSWORD_LENGTH, passwordHashes } from "./passwords";
import { inboundRules } from "./ports";
import { cloudflareRecords, cloudflareZoneId } from "./providers/cloudflare";
import { digitalOceanHost } from "./providers/digitalocean";
import type { Host, HostInput } from "./providers/host";
import { linodeHost } from "./providers/linode";
import { dkimRecord, dkimRecordName } from "./records/dkim";
import { type DnsRecord, type LiveValues, mailRecordSpecs, Phase, type RecordDomain, resolveRecords } from "./records/recordSet";
import type { PtrRecord } from "./records/zoneFile";

export const MAILSERVER_TYPE = "mailserver:index:MailServer";

/** RSA 2048: what Gmail recommends; 1024 is the floor, 4096 does not fit many DNS UIs. */
export const DKIM_RSA_BITS = 2048;

/** The configuration step's resources, by stage: `<component>-apply` (prepare) and `<component>-commit`. */
export const STEP_NAMES: Record<Stage, (component: string) => string> = {
    [Stage.Prepare]: (component) => `${component}-apply`,
    [Stage.Commit]: (component) => `${component}-commit`,
};

/** How long the configuration step keeps trying to reach a new host's SSH (≈ 5 minutes). */
export const DIAL_ERROR_LIMIT = 60;

const HOSTS: Record<HostProvider, (input: HostInput) => Host> = {
    [HostProvider.DigitalOcean]: digitalOceanHost,
    [HostProvider.Linode]: linodeHost,
};

/**
 * A mail host that Gmail, Yahoo and Outlook accept: the machine (DigitalOcean or Linode) whose
 * name, HELO, certificate and PTR are its FQDN, its firewall, DKIM keys, the Cloudflare records
 * (A/AAAA, MX, SPF for the domain and the host, DKIM, DMARC), and the step that configures the
 * running host over SSH whenever its configuration changes.
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
    /** Each mail domain's signing selector, by domain (the primary and extraDomains). */
    public readonly dkimSelectors: pulumi.Output<Record<string, string>>;
    /** The signing key's record, unchunked: `{ name, value }`. */
    public readonly dkimRecord: pulumi.Output<{ name: string; value: string }>;
    /** What the operator must still do by hand (port 25 unblocking, …). */
    public readonly operatorSteps: pulumi.Output<string[]>;
    /** The host's bootstrap cloud-config (secret: it holds the host's SSH host key). */
    public readonly userData: pulumi.Output<string>;
    /** The configuration bundle of the commit stage: the host's whole configuration (secret: it holds the DKIM key). */
    public readonly bundle: pulumi.Output<string>;
    /** Each mailbox's password, by address (secret): the chosen ones and the generated ones. */
    public readonly mailboxPasswords: pulumi.Output<Record<string, string>>;
    /** Each application login's generated password, by address (secret). */
    public readonly appPasswords: pulumi.Output<Record<string, string>>;
    /** What the configuration step's two stages reported (one JSON line each: release, changed files, reloaded services); empty in a preview. */
    public readonly applied: pulumi.Output<string>;

    constructor(name: string, args: MailServerArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validate before anything is registered, so a bad argument creates nothing.
        const config = validated(name, args);
        super(MAILSERVER_TYPE, name, {}, opts);

        // One RSA key per published selector of each domain; a new selector is a new key.
        const domains = mailDomains(config);
        const dkimKeys = new Map(
            domains.flatMap((domain, i) =>
                publishedSelectors(domain).map((selector) => [
                    dkimRecordName(selector, domain.name),
                    new tls.PrivateKey(
                        dkimKeyResourceName(name, domain, selector, i === 0),
                        { algorithm: "RSA", rsaBits: DKIM_RSA_BITS },
                        { parent: this },
                    ),
                ]),
            ),
        );
        const signingKeyOf = (domain: MailDomain) => dkimKeys.get(dkimRecordName(domain.dkimSelector, domain.name)) as tls.PrivateKey;
        const signingKey = signingKeyOf(domains[0]);
        // The configuration channel: the key `pulumi up` logs in with, and the host key it pins.
        const deployKey = new tls.PrivateKey(`${name}-deploy-key`, { algorithm: "ED25519" }, { parent: this });
        const hostKey = new tls.PrivateKey(`${name}-host-key`, { algorithm: "ED25519" }, { parent: this });

        const guard = new ChangeGuard(
            `${name}-guard`,
            {
                provider: config.provider,
                region: config.region,
                image: config.image,
                size: config.size,
                ipv6: config.host.ipv6,
                fqdn: config.host.fqdn,
                hostGeneration: config.hostGeneration,
                dkimSelector: config.host.dkimSelector,
                dkimPreviousSelectors: config.dkimPreviousSelectors,
                ...(config.host.mail.mailboxes.length > 0 ? { mailboxDomain: config.host.domain } : {}),
                // Absent without extra domains, so a stack without them keeps an unchanged guard.
                ...(config.extraDomains.length > 0
                    ? {
                          extraDomains: config.extraDomains.map((d) => ({
                              name: d.name,
                              dkimSelector: d.dkimSelector,
                              dkimPreviousSelectors: d.dkimPreviousSelectors,
                          })),
                      }
                    : {}),
            },
            { parent: this },
        );

        // A password per mailbox: the chosen one, or one generated once and kept in state (secret).
        const passwords: pulumi.Output<Record<string, string>> = pulumi.secret(
            pulumi
                .all(
                    config.host.mail.mailboxes.map(({ address }) =>
                        address in config.mailboxPasswords
                            ? pulumi.secret(config.mailboxPasswords[address])
                            : new random.RandomPassword(
                                  `${name}-password-${address}`,
                                  { length: GENERATED_PASSWORD_LENGTH, special: false },
                                  { parent: this },
                              ).result,
                    ),
                )
                .apply((values) => Object.fromEntries(config.host.mail.mailboxes.map((m, i) => [m.address, values[i]]))),
        );

        const appPasswords: pulumi.Output<Record<string, string>> = pulumi.secret(
            pulumi
                .all(
                    config.host.mail.apps.map(
                        (address) =>
                            new random.RandomPassword(
                                `${name}-app-password-${address}`,
                                { length: GENERATED_PASSWORD_LENGTH, special: false },
                                { parent: this },
                            ).result,
                    ),
                )
                .apply((values) => Object.fromEntries(config.host.mail.apps.map((address, i) => [address, values[i]]))),
        );

        // Secret: it holds the host key's private half.
        const userData = pulumi.secret(
            pulumi
                .all([deployKey.publicKeyOpenssh, hostKey.privateKeyOpenssh, hostKey.publicKeyOpenssh])
                .apply(([deployPublicKey, privateOpenssh, publicOpenssh]) =>
                    renderBootstrap({ deployPublicKey, hostKey: { privateOpenssh, publicOpenssh } }),
                ),
        );
        const host = HOSTS[config.provider]({
            name,
            config,
            userData,
            firewall: inboundRules(config),
            parent: this,
            dependsOn: [guard],
        });

        const recordNames = [...dkimKeys.keys()];
        const live: pulumi.Output<LiveValues> = pulumi
            .all([host.ipv4, host.ipv6, pulumi.all(recordNames.map((n) => (dkimKeys.get(n) as tls.PrivateKey).publicKeyPem))])
            .apply(([ipv4, ipv6, pems]) => ({
                ipv4,
                ipv6,
                dkimPublicKeyPems: Object.fromEntries(recordNames.map((n, i) => [n, pems[i]])),
            }));
        const recordDomains: RecordDomain[] = domains.map((d) => ({ name: d.name, zone: zoneLabel(d), selectors: publishedSelectors(d) }));
        const specs = mailRecordSpecs(config.host, config.dns, recordDomains);
        // One lookup per zone; domains that share a zone share it.
        const zoneIds = new Map<string, pulumi.Output<string>>();
        domains.forEach((d, i) => {
            if (!zoneIds.has(zoneLabel(d)))
                zoneIds.set(zoneLabel(d), cloudflareZoneId(d.zone, this, i === 0 ? "cloudflareZoneName" : "extraDomains"));
        });
        const before = cloudflareRecords({ name, zoneIds, specs: specs.filter((s) => s.phase === Phase.BeforeApply), live, parent: this });

        // The configuration step, in two stages (host/bundle.ts Stage): `prepare` after the records
        // the host relies on, `commit` after those that say what it does. Each runs whenever its
        // bundle (or the host) changes; it checks the new configuration on the host, switches to it
        // and reloads; any failure leaves the previous configuration serving and fails `pulumi up`.
        // The bundles are secret: they hold the DKIM private key.
        const bundles = pulumi
            .all([
                host.ipv4,
                host.ipv6,
                pulumi.all(
                    domains.map((d) =>
                        pulumi
                            .all([signingKeyOf(d).privateKeyPem, signingKeyOf(d).publicKeyPem])
                            .apply(([privateKeyPem, publicKeyPem]): DkimKeyPair => ({ privateKeyPem, publicKeyPem })),
                    ),
                ),
                passwords,
                appPasswords,
                pulumi.secret(config.smarthostPassword),
            ])
            .apply(async ([ipv4, ipv6, keys, chosen, apps, smarthostPassword]) => {
                // Only the hashes reach the bundle.
                const hashes = await passwordHashes({ ...chosen, ...apps });
                const dkimKeys = Object.fromEntries(domains.map((d, i) => [d.name, keys[i]]));
                const live = { ipv4, ipv6, dkimKeys, passwordHashes: hashes, smarthostPassword };
                return { prepare: renderBundle(config.host, live, Stage.Prepare), commit: renderBundle(config.host, live, Stage.Commit) };
            });
        this.bundle = pulumi.secret(bundles.commit);
        const connection = {
            host: host.ipv4,
            user: DEPLOY_USER,
            privateKey: deployKey.privateKeyOpenssh,
            hostKey: hostKey.publicKeyOpenssh.apply((key) => key.trim()),
            dialErrorLimit: DIAL_ERROR_LIMIT,
        };
        const step = (stage: Stage, bundle: pulumi.Output<string>, dependsOn: pulumi.Resource[]) =>
            new command.remote.Command(
                STEP_NAMES[stage](name),
                {
                    connection,
                    // sshd forces the deploy key's command; this names it for the preview.
                    create: APPLY_PROGRAM,
                    stdin: pulumi.secret(bundle),
                    logging: "stdoutAndStderr",
                    addPreviousOutputInEnv: false,
                },
                { parent: this, dependsOn },
            );
        const apply = step(Stage.Prepare, bundles.prepare, [host.machine, host.firewall, ...before.values()]);
        const after = cloudflareRecords({
            name,
            zoneIds,
            specs: specs.filter((s) => s.phase === Phase.AfterApply),
            live,
            parent: this,
            dependsOn: [apply],
        });
        const records = new Map([...before, ...after]);
        const recordOf = (type: string) => specs.filter((s) => s.type === type).map((s) => records.get(s.key))[0];
        const ptrs = host.afterForwardRecords({ A: recordOf("A") as pulumi.Resource, AAAA: recordOf("AAAA"), apply });
        const commit = step(Stage.Commit, bundles.commit, [apply, ...after.values(), ...ptrs]);

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
        this.dkimSelectors = pulumi.output(Object.fromEntries(domains.map((d) => [d.name, d.dkimSelector])));
        this.dkimRecord = signingKey.publicKeyPem.apply((pem) => ({
            name: dkimRecordName(config.host.dkimSelector, config.host.domain),
            value: dkimRecord(pem),
        }));
        this.operatorSteps = pulumi.output(operatorSteps(config, host.operatorSteps, host.outboundSmtp));
        this.userData = userData;
        this.mailboxPasswords = passwords;
        this.appPasswords = appPasswords;
        this.applied = pulumi.all([apply.stdout, commit.stdout]).apply(([prepared, committed]) => `${prepared}${committed}`);

        this.registerOutputs({
            domain: this.domain,
            fqdn: this.fqdn,
            ipv4: this.ipv4,
            ipv6: this.ipv6,
            dnsRecords: this.dnsRecords,
            ptrRecords: this.ptrRecords,
            dkimSelector: this.dkimSelector,
            dkimSelectors: this.dkimSelectors,
            dkimRecord: this.dkimRecord,
            operatorSteps: this.operatorSteps,
            userData: this.userData,
            bundle: this.bundle,
            mailboxPasswords: this.mailboxPasswords,
            appPasswords: this.appPasswords,
            applied: this.applied,
        });
    }
}

/** The zone a domain's records go to, as RecordSpec.zone names it. */
function zoneLabel(domain: MailDomain): string {
    return "name" in domain.zone ? domain.zone.name : domain.name;
}

/**
 * The key's resource name. The primary domain's keep the names they had before there were further
 * domains (a renamed key would be a new key under the same selector).
 */
function dkimKeyResourceName(component: string, domain: MailDomain, selector: string, primary: boolean): string {
    return primary ? `${component}-dkim-${selector}` : `${component}-dkim-${domain.name}-${selector}`;
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
