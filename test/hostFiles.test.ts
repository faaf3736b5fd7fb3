import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderCertScript } from "../components/host/certificate";
import { renderKeyTable, renderOpendkimConf, renderSigningTable, renderTrustedHosts } from "../components/host/opendkim";
import { renderMainCf, renderMasterCf, renderVirtualMap, TLS_EXCLUDED_CIPHERS } from "../components/host/postfix";
import { srsSetup } from "../components/host/postsrsd";
import { renderRspamdFiles } from "../components/host/rspamd";
import { renderSmarthostLogin } from "../components/smarthost";
import { run } from "./support/tools";

const srs = srsSetup({ domain: "example.com", extraDomains: [], fqdn: "mail.example.com" });
const postfix = {
    domain: "example.com",
    extraDomains: [],
    fqdn: "mail.example.com",
    ipv6: true,
    srs,
    mailboxes: false,
    relayNetworks: [],
    dnsBlocklists: true,
};

/** main.cf as a map; fails on a parameter set twice. */
function params(mainCf: string): Map<string, string> {
    const map = new Map<string, string>();
    for (const line of mainCf.split("\n")) {
        if (line === "" || line.startsWith("#")) continue;
        const at = line.indexOf(" = ");
        const [key, value] = [line.slice(0, at), line.slice(at + 3)];
        assert.ok(!map.has(key), `${key} set twice`);
        map.set(key, value);
    }
    return map;
}

describe("relay networks", () => {
    it("join mynetworks (IPv6 in brackets, only while the host listens on IPv6) and OpenDKIM's InternalHosts", () => {
        const relayNetworks = ["10.20.0.0/16", "2001:db8:1::/48"];
        assert.equal(
            params(renderMainCf({ ...postfix, relayNetworks })).get("mynetworks"),
            "127.0.0.0/8 [::1]/128 10.20.0.0/16 [2001:db8:1::]/48",
        );
        assert.equal(params(renderMainCf({ ...postfix, ipv6: false, relayNetworks })).get("mynetworks"), "127.0.0.0/8 10.20.0.0/16");
        assert.equal(renderTrustedHosts(relayNetworks), "127.0.0.1\n::1\nlocalhost\n10.20.0.0/16\n2001:db8:1::/48\n");
    });
});

describe("smarthost", () => {
    const relay = { host: "smtp.relay.example.org", port: 587, user: "mailer" };
    it("sends everything to the relay's address records over verified TLS, logging in from the root-only map", () => {
        const main = params(renderMainCf({ ...postfix, smarthost: relay }));
        assert.equal(main.get("relayhost"), "[smtp.relay.example.org]:587");
        assert.equal(main.get("smtp_tls_security_level"), "secure");
        assert.equal(main.get("smtp_tls_wrappermode"), undefined);
        assert.equal(main.get("smtp_sasl_auth_enable"), "yes");
        assert.equal(main.get("smtp_sasl_password_maps"), "texthash:/etc/postfix/smarthost-login");
        assert.equal(main.get("smtp_sasl_security_options"), "noanonymous");
        assert.equal(main.get("smtp_sasl_tls_security_options"), "noanonymous");
        assert.equal(renderSmarthostLogin(relay, "s3cret pass"), "[smtp.relay.example.org]:587 mailer:s3cret pass\n");
    });
    it("on 465 with TLS from the first byte; without a login, no SASL", () => {
        const main = params(renderMainCf({ ...postfix, smarthost: { ...relay, port: 465, user: undefined } }));
        assert.equal(main.get("relayhost"), "[smtp.relay.example.org]:465");
        assert.equal(main.get("smtp_tls_wrappermode"), "yes");
        assert.equal(main.get("smtp_sasl_auth_enable"), undefined);
        assert.equal(main.get("smtp_sasl_password_maps"), undefined);
    });
    it("without a smarthost, nothing of it: delivery to each MX, TLS when offered", () => {
        const main = params(renderMainCf(postfix));
        assert.equal(main.get("relayhost"), undefined);
        assert.equal(main.get("smtp_tls_security_level"), "may");
        assert.equal(main.get("smtp_sasl_auth_enable"), undefined);
    });
});

describe("Postfix main.cf", () => {
    const main = params(renderMainCf(postfix));
    const expected: Array<[string, string]> = [
        // identity = FQDN everywhere
        ["myhostname", "mail.example.com"],
        ["mydomain", "example.com"],
        ["smtpd_banner", "$myhostname ESMTP"],
        ["smtp_helo_name", "$myhostname"],
        ["inet_protocols", "all"],
        ["compatibility_level", "3.10"],
        // nothing is delivered locally: no system account receives mail; the domain and the host name are alias domains
        ["mydestination", ""],
        ["local_recipient_maps", ""],
        ["local_transport", "error:5.1.1 local delivery is disabled"],
        ["alias_maps", ""],
        ["virtual_alias_domains", "$mydomain, $myhostname"],
        ["virtual_alias_maps", "hash:/etc/postfix/virtual"],
        // not an open relay; valid HELO, fully-qualified resolvable addresses; root@ only from the host
        ["mynetworks", "127.0.0.0/8 [::1]/128"],
        ["smtpd_helo_required", "yes"],
        ["smtpd_helo_restrictions", "permit_mynetworks, reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname"],
        ["smtpd_sender_restrictions", "permit_mynetworks, reject_non_fqdn_sender, reject_unknown_sender_domain"],
        ["smtpd_relay_restrictions", "permit_mynetworks, reject_unauth_destination"],
        [
            "smtpd_recipient_restrictions",
            "permit_mynetworks, reject_non_fqdn_recipient, reject_unknown_recipient_domain, reject_unauth_destination, " +
                "check_recipient_access inline:{ { root@mail.example.com = REJECT 5.7.1 not a public address } }",
        ],
        // smuggling guard
        ["smtpd_forbid_bare_newline", "normalize"],
        ["smtpd_forbid_unauth_pipelining", "yes"],
        ["smtpd_data_restrictions", "reject_unauth_pipelining"],
        // DKIM via the milter for SMTP and local submission, deferring when it is down
        ["smtpd_milters", "unix:/var/spool/postfix/opendkim/opendkim.sock"],
        ["non_smtpd_milters", "$smtpd_milters"],
        ["milter_default_action", "tempfail"],
        // SRS
        ["sender_canonical_maps", "tcp:127.0.0.1:10001"],
        ["sender_canonical_classes", "envelope_sender"],
        ["recipient_canonical_maps", "tcp:127.0.0.1:10002"],
        // TLS in and out, modern protocols only
        ["smtpd_tls_security_level", "may"],
        ["smtp_tls_security_level", "may"],
        ["smtpd_tls_protocols", ">=TLSv1.2"],
        ["smtpd_tls_mandatory_protocols", ">=TLSv1.2"],
        ["smtp_tls_protocols", ">=TLSv1.2"],
        ["smtp_tls_mandatory_protocols", ">=TLSv1.2"],
        ["smtpd_tls_cert_file", "/etc/mailserver/tls/fullchain.pem"],
        ["smtpd_tls_key_file", "/etc/mailserver/tls/privkey.pem"],
        // strong ciphers only, no compression or renegotiation
        ["smtpd_tls_ciphers", "high"],
        ["smtpd_tls_mandatory_ciphers", "high"],
        ["smtpd_tls_exclude_ciphers", "aNULL, eNULL, EXPORT, DES, 3DES, RC4, MD5, PSK, SRP, DSS, SEED, IDEA, CAMELLIA"],
        ["smtp_tls_exclude_ciphers", TLS_EXCLUDED_CIPHERS],
        ["tls_ssl_options", "NO_COMPRESSION, NO_RENEGOTIATION"],
        ["tls_preempt_cipherlist", "yes"],
    ];
    for (const [key, value] of expected) it(`${key} = ${value}`, () => assert.equal(main.get(key), value));

    it("has no open-relay shortcut", () => {
        for (const [key, value] of main) {
            assert.doesNotMatch(value, /\bpermit\b(?!_)/, `${key} must not permit everything`);
        }
        assert.equal(main.has("relayhost"), false);
    });

    it("follows the IPv6 setting", () => {
        const v4 = params(renderMainCf({ ...postfix, ipv6: false }));
        assert.equal(v4.get("inet_protocols"), "ipv4");
        assert.equal(v4.get("mynetworks"), "127.0.0.0/8");
    });
});

describe("inbound filtering", () => {
    it("postscreen: greeting and pipelining tests enforced, the host and relay networks exempt, DNS lists only with dnsBlocklists", () => {
        const on = params(renderMainCf(postfix));
        assert.equal(on.get("postscreen_access_list"), "permit_mynetworks");
        assert.equal(on.get("postscreen_greet_action"), "enforce");
        assert.equal(on.get("postscreen_pipelining_enable"), "yes");
        assert.equal(on.get("postscreen_pipelining_action"), "enforce");
        assert.equal(
            on.get("postscreen_dnsbl_sites"),
            "zen.spamhaus.org=127.0.0.[2..11]*3, bl.mailspike.net=127.0.0.[2..4]*2, list.dnswl.org=127.0.[0..255].[0..3]*-2",
        );
        assert.equal(on.get("postscreen_dnsbl_threshold"), "3");
        assert.equal(on.get("postscreen_dnsbl_action"), "enforce");
        const off = params(renderMainCf({ ...postfix, dnsBlocklists: false }));
        assert.deepEqual(
            [...off.keys()].filter((k) => k.startsWith("postscreen_")),
            ["postscreen_access_list", "postscreen_greet_action", "postscreen_pipelining_enable", "postscreen_pipelining_action"],
        );
    });
    it("port 25 runs rspamd before OpenDKIM, deferring mail while either is down; submission and local mail OpenDKIM only", () => {
        const p = params(renderMainCf(postfix));
        assert.equal(p.get("inbound_milters"), "inet:127.0.0.1:11332, unix:/var/spool/postfix/opendkim/opendkim.sock");
        assert.equal(p.get("smtpd_milters"), "unix:/var/spool/postfix/opendkim/opendkim.sock");
        assert.equal(p.get("non_smtpd_milters"), "$smtpd_milters");
        assert.equal(p.get("milter_default_action"), "tempfail");
    });
    it("rspamd: the proxy's milter on loopback, DMARC policies honoured, one Authentication-Results, no greylisting, Redis", () => {
        const files = renderRspamdFiles({ relayNetworks: ["10.20.0.0/16", "2001:db8:1::/48"], dnsBlocklists: true });
        assert.deepEqual(Object.keys(files).sort(), [
            "actions.conf",
            "classifier-bayes.conf",
            "dmarc.conf",
            "greylist.conf",
            "milter_headers.conf",
            "options.inc",
            "rbl.conf",
            "redis.conf",
            "worker-normal.inc",
            "worker-proxy.inc",
        ]);
        const body = (name: string) => files[name].split("\n").slice(1).join("\n");
        assert.equal(body("options.inc"), 'local_addrs = ["127.0.0.0/8", "::1", "10.20.0.0/16", "2001:db8:1::/48"];\n');
        assert.equal(body("actions.conf"), "reject = 15;\nadd_header = 6;\ngreylist = null;\n");
        assert.equal(body("dmarc.conf"), 'actions {\n  quarantine = "add_header";\n  reject = "reject";\n}\n');
        assert.equal(body("greylist.conf"), "enabled = false;\n");
        assert.equal(body("worker-normal.inc"), "enabled = false;\n");
        assert.equal(body("redis.conf"), 'servers = "127.0.0.1:6379";\n');
        assert.match(body("worker-proxy.inc"), /^bind_socket = "127\.0\.0\.1:11332";\nmilter = yes;\n/);
        assert.match(body("worker-proxy.inc"), /^spam_header = "X-Spam";$/m);
        assert.match(body("milter_headers.conf"), /^use = \["authentication-results"\];\nskip_local = true;\nskip_authenticated = true;\n/);
        assert.match(body("milter_headers.conf"), /^ {4}remove = 0;$/m);
        assert.equal(body("rbl.conf"), "enabled = true;\n");
        assert.equal(renderRspamdFiles({ relayNetworks: [], dnsBlocklists: false })["rbl.conf"].split("\n")[1], "enabled = false;");
    });
});

describe("Postfix master.cf, maps and aliases", () => {
    it("has exactly one network listener: port 25 from the port table, postscreen (one process) before smtpd, without chroot", () => {
        const lines = renderMasterCf()
            .split("\n")
            .filter((l) => l && !l.startsWith("#"));
        const inet = lines.filter((l) => l.split(/\s+/)[1] === "inet");
        assert.deepEqual(
            inet.map((l) => l.split(/\s+/)),
            [["25", "inet", "n", "-", "n", "-", "1", "postscreen"]],
        );
        // postscreen hands clients to smtpd, which runs the inbound milters (rspamd first).
        const pass = lines.findIndex((l) => l.split(/\s+/)[1] === "pass");
        assert.deepEqual(lines.slice(pass, pass + 2), [
            "smtpd      pass       -       -       n       -       -       smtpd",
            "  -o smtpd_milters=$inbound_milters",
        ]);
        const services = lines.filter((l) => !/^\s/.test(l));
        assert.ok(
            services.every((l) => l.split(/\s+/)[4] === "n"),
            "chroot column is n everywhere",
        );
        assert.equal(services.length, 28);
    });
    it("forwards the role addresses of the domain and the host, and root@ at the host, to the operator (no /etc/aliases)", () => {
        assert.equal(
            renderVirtualMap({ domains: ["example.com"], fqdn: "mail.example.com", operatorEmail: "ops@example.net" }),
            [
                "postmaster@example.com ops@example.net",
                "abuse@example.com ops@example.net",
                "postmaster@mail.example.com ops@example.net",
                "abuse@mail.example.com ops@example.net",
                "root@mail.example.com ops@example.net",
                "",
            ].join("\n"),
        );
    });
    it("rewrites forwarded senders with postsrsd, leaving the domain and the host alone", () => {
        assert.equal(srs.files.length, 1);
        assert.equal(srs.files[0].path, "/etc/default/postsrsd");
        assert.match(srs.files[0].content, /^SRS_DOMAIN=example\.com$/m);
        assert.match(srs.files[0].content, /^SRS_EXCLUDE_DOMAINS=mail\.example\.com$/m);
        assert.match(srs.files[0].content, /^SRS_LISTEN_ADDR=127\.0\.0\.1$/m);
    });
});

describe("several mail domains", () => {
    const extra = { ...postfix, extraDomains: ["example.org", "shop.example.net"] };
    it("receives mail for each: alias domains when send-only, mailbox domains with mailboxes", () => {
        assert.equal(params(renderMainCf(extra)).get("virtual_alias_domains"), "$mydomain, example.org, shop.example.net, $myhostname");
        assert.equal(params(renderMainCf(extra)).get("virtual_mailbox_domains"), undefined);
        const mailbox = params(renderMainCf({ ...extra, mailboxes: true }));
        assert.equal(mailbox.get("virtual_mailbox_domains"), "$mydomain, example.org, shop.example.net");
        assert.equal(mailbox.get("virtual_alias_domains"), "$myhostname");
        assert.equal(mailbox.get("mydomain"), "example.com");
    });
    it("forwards each domain's role addresses; a catch-all takes only its own domain's unknown addresses", () => {
        assert.equal(
            renderVirtualMap(
                { domains: ["example.com", "example.org"], fqdn: "mail.example.com", operatorEmail: "ops@example.net" },
                {
                    mailboxes: [
                        { address: "alice@example.com", quota: undefined },
                        { address: "carol@example.org", quota: undefined },
                    ],
                    aliases: [
                        { address: "@example.org", targets: ["carol@example.org"] },
                        { address: "sales@example.org", targets: ["alice@example.com"] },
                    ],
                    apps: [],
                },
            ),
            [
                "postmaster@example.com ops@example.net",
                "abuse@example.com ops@example.net",
                "postmaster@example.org ops@example.net",
                "abuse@example.org ops@example.net",
                "postmaster@mail.example.com ops@example.net",
                "abuse@mail.example.com ops@example.net",
                "root@mail.example.com ops@example.net",
                "carol@example.org carol@example.org",
                "sales@example.org alice@example.com",
                "@example.org carol@example.org",
                "",
            ].join("\n"),
        );
    });
    it("leaves each domain's own mail unrewritten by SRS (DMARC aligns on the envelope sender)", () => {
        const content = srsSetup({ domain: "example.com", extraDomains: ["example.org", "shop.example.net"], fqdn: "mail.example.com" })
            .files[0].content;
        assert.match(content, /^SRS_DOMAIN=example\.com$/m);
        assert.match(content, /^SRS_EXCLUDE_DOMAINS=mail\.example\.com,example\.org,shop\.example\.net$/m);
    });
    it("signs each domain with its own key, d= that domain; the host name with the primary's", () => {
        const input = {
            domains: [
                { domain: "example.com", selector: "mailserver" },
                { domain: "example.org", selector: "mailserver" },
                { domain: "shop.example.net", selector: "s2026" },
            ],
            fqdn: "mail.example.com",
        };
        assert.equal(
            renderKeyTable(input),
            [
                "mailserver._domainkey.example.com example.com:mailserver:/etc/opendkim/keys/example.com.mailserver.private",
                "mailserver._domainkey.example.org example.org:mailserver:/etc/opendkim/keys/example.org.mailserver.private",
                "s2026._domainkey.shop.example.net shop.example.net:s2026:/etc/opendkim/keys/shop.example.net.s2026.private",
                "",
            ].join("\n"),
        );
        assert.equal(
            renderSigningTable(input),
            [
                "*@example.com mailserver._domainkey.example.com",
                "*@example.org mailserver._domainkey.example.org",
                "*@shop.example.net s2026._domainkey.shop.example.net",
                "*@mail.example.com mailserver._domainkey.example.com",
                "",
            ].join("\n"),
        );
    });
});

describe("OpenDKIM", () => {
    const input = { domains: [{ domain: "example.com", selector: "mailserver" }], fqdn: "mail.example.com" };
    const conf = renderOpendkimConf(input);
    const settings = new Map(
        conf
            .split("\n")
            .filter((l) => l && !l.startsWith("#"))
            .map((l) => l.split(/\s+/, 2) as [string, string]),
    );
    const expected: Array<[string, string]> = [
        ["Mode", "s"],
        ["Canonicalization", "relaxed/simple"],
        ["SignatureAlgorithm", "rsa-sha256"],
        ["Socket", "local:/var/spool/postfix/opendkim/opendkim.sock"],
        ["KeyTable", "file:/etc/opendkim/key.table"],
        ["SigningTable", "refile:/etc/opendkim/signing.table"],
        ["InternalHosts", "/etc/opendkim/trusted.hosts"],
        ["UserID", "opendkim"],
        ["OversignHeaders", "From"],
    ];
    for (const [key, value] of expected) it(`${key} ${value}`, () => assert.equal(settings.get(key), value));

    it("signs the domain and the host name with one key, d= the domain", () => {
        assert.equal(
            renderKeyTable(input),
            "mailserver._domainkey.example.com example.com:mailserver:/etc/opendkim/keys/example.com.mailserver.private\n",
        );
        assert.equal(
            renderSigningTable(input),
            "*@example.com mailserver._domainkey.example.com\n*@mail.example.com mailserver._domainkey.example.com\n",
        );
        assert.equal(renderTrustedHosts(), "127.0.0.1\n::1\nlocalhost\n");
    });
});

describe("certificate script", () => {
    const script = renderCertScript({
        domain: "example.com",
        fqdn: "mail.example.com",
        ipv6: true,
        operatorEmail: "o'brien@example.net",
        acmeDirectoryUrl: "https://acme.example/dir",
        hasAcmeCaBundle: true,
        servedBy: ["postfix"],
    });
    it("is valid POSIX shell (sh -n)", () => {
        const result = run("sh", ["-n"], script);
        assert.equal(result.status, 0, result.stderr);
    });
    it("quotes values safely and waits for A and AAAA before certbot on port 80", () => {
        assert.match(script, /^OPERATOR='o'\\''brien@example\.net'$/m);
        assert.match(script, /^WANT_IPV6=1$/m);
        assert.match(script, /^HTTP_PORT=80$/m);
        assert.match(script, /^export REQUESTS_CA_BUNDLE='\/etc\/ssl\/mailserver\/acme-ca\.pem'$/m);
        assert.ok(script.indexOf("until points_here") < script.indexOf("certbot certonly"));
        assert.match(script, /--server "\$ACME_SERVER" --cert-name "\$FQDN" -d "\$FQDN"/);
    });
    it("stops its retry timer rather than disabling it (disabling a linked unit deletes the applier's link), and reloads Postfix only when the links change", () => {
        assert.match(script, /^ {2}systemctl stop mailserver-cert\.timer$/m);
        assert.doesNotMatch(script, /systemctl disable/);
        assert.match(script, /if \[ "\$\(readlink \/etc\/mailserver\/tls\/fullchain\.pem\)" != "\$LIVE\/fullchain\.pem" \]/);
    });
});
