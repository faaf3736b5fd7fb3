import type { ManagedFile } from "./files";

/** postsrsd's two TCP lookup tables on loopback: the one source of both ports (postsrsd and Postfix). */
export const SRS_PORTS = { forward: 10001, reverse: 10002 } as const;

/** How postsrsd is configured and wired into Postfix. */
export interface SrsSetup {
    readonly postfixParams: ReadonlyArray<readonly [string, string]>;
    readonly files: readonly ManagedFile[];
}

export interface SrsInput {
    readonly domain: string;
    /** The further mail domains: their own mail keeps its sender too (DMARC aligns on it). */
    readonly extraDomains: readonly string[];
    readonly fqdn: string;
}

/**
 * postsrsd 1.10 (Debian 13 ships it; 2.x with its socketmap is only in backports): TCP lookup
 * tables on loopback, configured in /etc/default/postsrsd. The SRS domain and the excluded host
 * name and further domains are never rewritten, so our own mail keeps its sender; forwarded mail gets
 * `SRS0=…@<domain>`, and bounces to such an address are reversed to the original sender.
 */
export function srsSetup(input: SrsInput): SrsSetup {
    return {
        postfixParams: [
            ["sender_canonical_maps", `tcp:127.0.0.1:${SRS_PORTS.forward}`],
            ["sender_canonical_classes", "envelope_sender"],
            ["recipient_canonical_maps", `tcp:127.0.0.1:${SRS_PORTS.reverse}`],
            ["recipient_canonical_classes", "envelope_recipient, header_recipient"],
        ],
        files: [
            {
                path: "/etc/default/postsrsd",
                content: [
                    "# Rendered by the mailserver Pulumi component.",
                    `SRS_DOMAIN=${input.domain}`,
                    `SRS_EXCLUDE_DOMAINS=${[input.fqdn, ...input.extraDomains].join(",")}`,
                    "SRS_SEPARATOR==",
                    "SRS_SECRET=/etc/postsrsd.secret",
                    "SRS_HASHLENGTH=4",
                    "SRS_HASHMIN=4",
                    `SRS_FORWARD_PORT=${SRS_PORTS.forward}`,
                    `SRS_REVERSE_PORT=${SRS_PORTS.reverse}`,
                    "RUN_AS=postsrsd",
                    "SRS_LISTEN_ADDR=127.0.0.1",
                    "CHROOT=/var/lib/postsrsd",
                    "",
                ].join("\n"),
                mode: "0644",
                reload: ["postsrsd"],
            },
        ],
    };
}
