/**
 * Rspamd, the inbound filter: a Postfix milter on port 25 (inbound mail, and the relay networks'),
 * with Redis for its learning (Bayes, autolearn) and history. It verifies SPF, DKIM, DMARC and
 * ARC itself, writes one Authentication-Results header, rejects what scores at least `reject`
 * (GTUBE, and mail whose sender's DMARC policy is `reject`) at SMTP time, and marks what scores
 * at least `add_header` (and DMARC `quarantine` failures) with `X-Spam: Yes`, which Dovecot's
 * Sieve files into Junk. Files go to /etc/rspamd/local.d, which Debian's configuration merges
 * into its own sections.
 *
 * Chosen over SpamAssassin by measurement (Debian 13, 1 GiB memory cgroup, 200 messages): rspamd
 * with Redis holds 121 MiB PSS at rest and 138 MiB at its peak, SpamAssassin with spamass-milter,
 * OpenDMARC and the SPF policy server 143 MiB at rest and 326 MiB at its peak; and rspamd does SPF,
 * DKIM, DMARC enforcement and Authentication-Results in the one daemon.
 */

/** The rspamd proxy's milter listener: loopback only (Debian's worker-proxy default port). */
export const RSPAMD_MILTER = { host: "127.0.0.1", port: 11332 } as const;

/** Postfix's name for the milter. */
export function rspamdMilter(): string {
    return `inet:${RSPAMD_MILTER.host}:${RSPAMD_MILTER.port}`;
}

/** Scores at which rspamd acts (its defaults), with no greylist action (see greylist.conf). */
export const SPAM_ACTIONS = { reject: 15, addHeader: 6 } as const;

/** The header rspamd's milter adds to mail that scores at least add_header; the Sieve script reads it. */
export const SPAM_HEADER = "X-Spam";

export const RSPAMD_DIR = "/etc/rspamd/local.d";

export interface RspamdInput {
    /** Networks whose mail is our own (mynetworks): no SPF/DMARC verdict, no headers added. */
    readonly relayNetworks: readonly string[];
    /** Query DNS blocklists (Spamhaus and the rest of rspamd's RBL module); off without Internet. */
    readonly dnsBlocklists: boolean;
}

const HEADER = "# Rendered by the mailserver Pulumi component; edits are lost on the next change.\n";

const quoted = (values: readonly string[]) => values.map((v) => `"${v}"`).join(", ");

/** The files under /etc/rspamd/local.d, by name. */
export function renderRspamdFiles(input: RspamdInput): Record<string, string> {
    return {
        // Bayes, history, ratelimit and the rest keep their data in the local Redis (Debian's redis-server, loopback).
        "redis.conf": `${HEADER}servers = "127.0.0.1:6379";\n`,
        "actions.conf": `${HEADER}reject = ${SPAM_ACTIONS.reject};\nadd_header = ${SPAM_ACTIONS.addHeader};\ngreylist = null;\n`,
        // Our own mail (the host, the relay networks; added to Debian's private ranges): rspamd's SPF, DKIM and DMARC
        // modules skip it, as do the added headers.
        "options.inc": `${HEADER}local_addrs = [${quoted(["127.0.0.0/8", "::1", ...input.relayNetworks])}];\n`,
        "worker-proxy.inc": [
            HEADER.trimEnd(),
            `bind_socket = "${RSPAMD_MILTER.host}:${RSPAMD_MILTER.port}";`,
            "milter = yes;",
            "timeout = 120s;",
            'upstream "local" {',
            "  default = yes;",
            "  self_scan = yes;",
            "}",
            "count = 1;",
            `spam_header = "${SPAM_HEADER}";`,
            'reject_message = "Spam message rejected";',
            "",
        ].join("\n"),
        // Postfix talks to the proxy, which scans itself (self_scan); rspamc talks to the controller: no normal worker (12 MiB).
        "worker-normal.inc": `${HEADER}enabled = false;\n`,
        // The sender's DMARC policy is honoured: reject is refused at SMTP time, quarantine goes to Junk.
        "dmarc.conf": `${HEADER}actions {\n  quarantine = "add_header";\n  reject = "reject";\n}\n`,
        // One Authentication-Results (RFC 8601) by this host; any that came with the message is removed (a sender could forge ours).
        "milter_headers.conf": [
            HEADER.trimEnd(),
            'use = ["authentication-results"];',
            "skip_local = true;",
            "skip_authenticated = true;",
            "routines {",
            "  authentication-results {",
            '    header = "Authentication-Results";',
            "    remove = 0;",
            "  }",
            "}",
            "",
        ].join("\n"),
        // Learning: rspamd learns spam and ham from what it is sure of (Redis keeps the statistics).
        "classifier-bayes.conf": `${HEADER}autolearn = true;\n`,
        // Greylisting off: postscreen already defers every new client once (and rspamd's module would defer marked spam too).
        "greylist.conf": `${HEADER}enabled = false;\n`,
        "rbl.conf": `${HEADER}enabled = ${input.dnsBlocklists ? "true" : "false"};\n`,
    };
}

/** A drop-in for Debian's rspamd.service. */
export const RSPAMD_DROP_IN = "/etc/systemd/system/rspamd.service.d/mailserver.conf";

/** Seconds after each start at which rspamd is reloaded once (its Hyperscan compile takes about 20 s on 2 cores). */
export const RSPAMD_SETTLE_SECONDS = 180;

/**
 * rspamd compiles its regular expressions (Hyperscan) when it starts without a cache (the first
 * start, an upgrade), and its processes keep that memory, about 170 MiB more, until a reload
 * (measured on Debian 13: 290 MiB of PSS after such a start, 140 after one SIGHUP, 115 after a
 * start with the cache). So each start schedules one reload a few minutes later.
 */
export function renderRspamdDropIn(): string {
    return [
        "# Rendered by the mailserver Pulumi component.",
        "# One reload after each start gives back the memory of the regular expressions compiled at start.",
        "[Service]",
        `ExecStartPost=+/usr/bin/systemd-run --quiet --collect --on-active=${RSPAMD_SETTLE_SECONDS} /usr/bin/systemctl reload rspamd`,
        "",
    ].join("\n");
}
