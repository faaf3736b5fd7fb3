import * as pulumi from "@pulumi/pulumi";
import type { MailServerArgs } from "./args";

type ConfigType = "string" | "integer" | "boolean" | "array";

/**
 * Stack config keys of the program, one per MailServer argument (same names). Pulumi.yaml's
 * `config:` schema declares the same keys and types (a test keeps them equal).
 */
export const PROGRAM_CONFIG: Readonly<Record<keyof MailServerArgs, ConfigType>> = {
    domain: "string",
    hostLabel: "string",
    operatorEmail: "string",
    provider: "string",
    region: "string",
    size: "string",
    image: "string",
    linodeLabel: "string",
    sshPublicKeys: "array",
    sshAllowedCidrs: "array",
    cloudflareZoneId: "string",
    cloudflareZoneName: "string",
    dnsTtl: "integer",
    spfIncludes: "array",
    spfIp4: "array",
    spfIp6: "array",
    spfAll: "string",
    dkimSelector: "string",
    dmarcPolicy: "string",
    dmarcRua: "array",
    dmarcAlignment: "string",
    ipv6: "boolean",
    acmeDirectoryUrl: "string",
    acmeCaBundle: "string",
};

/** MailServerArgs from the stack's config (`mailserver:<key>`); absent keys stay undefined. */
export function argsFromConfig(config: pulumi.Config): MailServerArgs {
    const args: Record<string, unknown> = {};
    for (const [key, type] of Object.entries(PROGRAM_CONFIG)) {
        const value =
            type === "integer"
                ? config.getNumber(key)
                : type === "boolean"
                  ? config.getBoolean(key)
                  : type === "array"
                    ? config.getObject<string[]>(key)
                    : config.get(key);
        if (value !== undefined) args[key] = value;
    }
    return args as unknown as MailServerArgs;
}
