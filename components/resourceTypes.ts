/**
 * Resource type tokens, taken from the provider SDKs themselves (the one source for the plan's
 * mocks, the policy pack and the lab): a token written by hand could drift from what the engine sees.
 */
import * as cloudflare from "@pulumi/cloudflare";
import * as command from "@pulumi/command";
import * as digitalocean from "@pulumi/digitalocean";
import * as linode from "@pulumi/linode";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";

/**
 * A resource class's type token, as its SDK registers it (the generated classes carry it as the
 * static `__pulumiType`, which their typings leave out).
 */
export function typeToken(resourceClass: object): string {
    const token = (resourceClass as { __pulumiType?: unknown }).__pulumiType;
    if (typeof token !== "string") throw new Error("not a Pulumi resource class");
    return token;
}

export const TYPES = {
    droplet: typeToken(digitalocean.Droplet),
    doFirewall: typeToken(digitalocean.Firewall),
    /** DigitalOcean's own DNS: not used by the component, but the policy pack looks at it. */
    doDnsRecord: typeToken(digitalocean.DnsRecord),
    instance: typeToken(linode.Instance),
    linodeFirewall: typeToken(linode.Firewall),
    rdns: typeToken(linode.Rdns),
    dnsRecord: typeToken(cloudflare.DnsRecord),
    /** Cloudflare's record before provider 6 renamed it: stacks that still use it are checked too. */
    legacyCloudflareRecord: typeToken(cloudflare.Record),
    privateKey: typeToken(tls.PrivateKey),
    remoteCommand: typeToken(command.remote.Command),
    randomPassword: typeToken(random.RandomPassword),
} as const;
