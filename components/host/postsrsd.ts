export interface SrsFile {
    readonly path: string;
    readonly content: string;
}

/** How postsrsd is configured and wired into Postfix. */
export interface SrsSetup {
    readonly postfixParams: ReadonlyArray<readonly [string, string]>;
    readonly files: readonly SrsFile[];
}

export interface SrsInput {
    readonly domain: string;
    readonly fqdn: string;
}

/**
 * postsrsd 1.10 (Debian 12 and Ubuntu 24.04 both ship it): TCP lookup tables on loopback,
 * configured in /etc/default/postsrsd. The SRS domain and the excluded host name are never
 * rewritten, so our own mail keeps its sender; forwarded mail gets `SRS0=…@<domain>`.
 */
export function srsSetup(input: SrsInput): SrsSetup {
    return {
        postfixParams: [
            ["sender_canonical_maps", "tcp:127.0.0.1:10001"],
            ["sender_canonical_classes", "envelope_sender"],
            ["recipient_canonical_maps", "tcp:127.0.0.1:10002"],
            ["recipient_canonical_classes", "envelope_recipient, header_recipient"],
        ],
        files: [
            {
                path: "/etc/default/postsrsd",
                content: [
                    "# Rendered by the mailserver Pulumi component.",
                    `SRS_DOMAIN=${input.domain}`,
                    `SRS_EXCLUDE_DOMAINS=${input.fqdn}`,
                    "SRS_SEPARATOR==",
                    "SRS_SECRET=/etc/postsrsd.secret",
                    "SRS_HASHLENGTH=4",
                    "SRS_HASHMIN=4",
                    "SRS_FORWARD_PORT=10001",
                    "SRS_REVERSE_PORT=10002",
                    "RUN_AS=postsrsd",
                    "SRS_LISTEN_ADDR=127.0.0.1",
                    "CHROOT=/var/lib/postsrsd",
                    "",
                ].join("\n"),
            },
        ],
    };
}
