import { Document, isSeq } from "yaml";
import type { HostSettings } from "../config";
import {
    CertificateInput,
    renderCertbotCaDropIn,
    renderCertScript,
    renderCertService,
    renderCertTimer,
    renderDeployHook,
} from "./certificate";
import { renderKeyTable, renderOpendkimConf, renderSigningTable, renderTrustedHosts } from "./opendkim";
import { DKIM_MILTER, dkimKeyPath, PATHS } from "./paths";
import { renderAliases, renderMainCf, renderMasterCf, renderVirtualMap } from "./postfix";
import { srsSetup } from "./postsrsd";

/** Packages the user data installs; the mail lab mirrors exactly this list. */
export const HOST_PACKAGES = [
    "postfix",
    "opendkim",
    "opendkim-tools",
    "postsrsd",
    "certbot",
    "bind9-dnsutils",
    "ca-certificates",
    "ssl-cert",
] as const;

/** The unprivileged sudo user that gets the SSH keys. */
export const ADMIN_USER = "mailadmin";

/** A cloud-init write_files entry. */
export interface WriteFile {
    path: string;
    content: string;
    permissions: string;
    owner?: string;
    defer?: boolean;
}

/** Everything in the user data, including the DKIM private key. */
export interface UserDataInput {
    readonly host: HostSettings;
    readonly dkimPrivateKeyPem: string;
}

/** A comment placed after `#cloud-config` (the offline plan labels its throwaway key this way). */
export interface RenderOptions {
    readonly headerComment?: string;
}

/**
 * The files the host needs, all written after the packages are installed (`defer`), so the
 * packages' own postinst scripts cannot overwrite them and the opendkim user exists.
 */
export function hostFiles(input: UserDataInput): WriteFile[] {
    const { host } = input;
    const dkim = { domain: host.domain, fqdn: host.fqdn, selector: host.dkimSelector };
    const srs = srsSetup({ domain: host.domain, fqdn: host.fqdn });
    const postfix = { domain: host.domain, fqdn: host.fqdn, ipv6: host.ipv6, operatorEmail: host.operatorEmail, srs };
    const cert: CertificateInput = {
        domain: host.domain,
        fqdn: host.fqdn,
        ipv6: host.ipv6,
        operatorEmail: host.operatorEmail,
        acmeDirectoryUrl: host.acmeDirectoryUrl,
        hasAcmeCaBundle: host.acmeCaBundle !== undefined,
    };
    const file = (path: string, content: string, permissions = "0644", owner?: string): WriteFile => ({
        path,
        content,
        permissions,
        ...(owner ? { owner } : {}),
        defer: true,
    });
    return [
        file("/etc/mailname", `${host.fqdn}\n`),
        file("/etc/postfix/main.cf", renderMainCf(postfix)),
        file("/etc/postfix/master.cf", renderMasterCf()),
        file(PATHS.virtualMap, renderVirtualMap(postfix)),
        file("/etc/aliases", renderAliases(host.operatorEmail)),
        file(PATHS.opendkimConf, renderOpendkimConf(dkim)),
        file(`${PATHS.opendkimDir}/key.table`, renderKeyTable(dkim)),
        file(`${PATHS.opendkimDir}/signing.table`, renderSigningTable(dkim)),
        file(`${PATHS.opendkimDir}/trusted.hosts`, renderTrustedHosts()),
        // The private key: readable by opendkim only (OpenDKIM refuses group/world-readable keys).
        file(dkimKeyPath(host.dkimSelector), input.dkimPrivateKeyPem, "0600", "opendkim:opendkim"),
        ...srs.files.map((f) => file(f.path, f.content)),
        file(PATHS.certScript, renderCertScript(cert), "0755"),
        file(`/etc/systemd/system/${PATHS.certUnit}.service`, renderCertService()),
        file(`/etc/systemd/system/${PATHS.certUnit}.timer`, renderCertTimer()),
        file(PATHS.deployHook, renderDeployHook(), "0755"),
        ...(host.acmeCaBundle !== undefined
            ? [
                  file(PATHS.acmeCaBundle, host.acmeCaBundle),
                  file("/etc/systemd/system/certbot.service.d/mailserver-acme-ca.conf", renderCertbotCaDropIn()),
              ]
            : []),
    ];
}

/** Commands run once, after the files are written, in order. */
export function firstBootCommands(): string[][] {
    return [
        ["postmap", PATHS.virtualMap],
        ["newaliases"],
        [PATHS.certScript, "init"],
        // OpenDKIM's socket directory: group postfix, setgid, so the socket is Postfix's to use.
        ["install", "-d", "-o", "opendkim", "-g", "postfix", "-m", "2750", DKIM_MILTER.directory],
        ["systemctl", "daemon-reload"],
        ["systemctl", "restart", "opendkim", "postsrsd"],
        ["postfix", "check"],
        ["systemctl", "restart", "postfix"],
        ["systemctl", "enable", "--now", `${PATHS.certUnit}.timer`],
        ["systemctl", "start", "--no-block", `${PATHS.certUnit}.service`],
    ];
}

/** The cloud-config object (cloud-init's schema) for the host. */
export function cloudConfig(input: UserDataInput): Record<string, unknown> {
    const { host } = input;
    const hostname = host.fqdn.split(".")[0];
    return {
        // The system's name is the FQDN: hostname -f, Postfix's myhostname, HELO and PTR agree.
        hostname,
        fqdn: host.fqdn,
        prefer_fqdn_over_hostname: true,
        manage_etc_hosts: true,
        ...(host.sshPublicKeys.length > 0
            ? {
                  users: [
                      {
                          name: ADMIN_USER,
                          groups: ["sudo"],
                          sudo: "ALL=(ALL) NOPASSWD:ALL",
                          shell: "/bin/bash",
                          lock_passwd: true,
                          ssh_authorized_keys: [...host.sshPublicKeys],
                      },
                  ],
              }
            : {}),
        disable_root: true,
        ssh_pwauth: false,
        apt: {
            // Postfix's installer must not ask questions or write its own main.cf.
            debconf_selections: {
                postfix: [
                    "postfix postfix/main_mailer_type select No configuration",
                    `postfix postfix/mailname string ${host.fqdn}`,
                    "",
                ].join("\n"),
            },
        },
        package_update: true,
        packages: [...HOST_PACKAGES],
        write_files: hostFiles(input),
        runcmd: firstBootCommands(),
    };
}

/** The user data text: `#cloud-config`, the optional header comment, then YAML. */
export function renderUserData(input: UserDataInput, options: RenderOptions = {}): string {
    const doc = new Document(cloudConfig(input));
    // Each runcmd entry on one line: [systemctl, restart, postfix].
    const runcmd = doc.get("runcmd");
    if (isSeq(runcmd)) for (const item of runcmd.items) if (isSeq(item)) item.flow = true;
    const header = options.headerComment
        ? `${options.headerComment
              .split("\n")
              .map((l) => `# ${l}`.trimEnd())
              .join("\n")}\n`
        : "";
    return `#cloud-config\n${header}${doc.toString({ lineWidth: 0, blockQuote: "literal" })}`;
}
