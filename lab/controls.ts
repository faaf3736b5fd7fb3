/**
 * Negative controls: for each property the lab grades, a run of the real server with exactly that
 * property broken — through the DNS the lab serves, or a bundle applied over the same SSH channel
 * with one setting changed — graded as failing that property and nothing else. The server's own
 * configuration is applied again after each.
 */

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PATHS } from "../components/host/paths";
import { dkimRecord } from "../components/records/dkim";
import { throwawayRsaKey } from "../plan/throwawayKey";
import { checkRelay, sendForward } from "./checks";
import * as container from "./container";
import { applyPlan } from "./deployment";
import type { GradeOptions } from "./grade";
import { gradeMessages, type Lab, observeNegative, probeTls, server, serveZones, waitReceived } from "./lab";
import { checkCleartextLogin } from "./mailboxChecks";
import { dkimSignature, GTUBE, message, pySmtpSubmit } from "./messages";
import { log } from "./sys";
import { LAB } from "./topology";

const FROM = `lab@${LAB.server.domain}`;

interface BundleFile {
    path: string;
    content: string;
}

/** The plan's bundle with one file edited (the applier checks it like any other). */
export function editedBundle(lab: Lab, path: string, edit: (content: string) => string): Buffer {
    const bundle = JSON.parse(readFileSync(lab.plan.apply.bundleFile, "utf8")) as { payload: { files: BundleFile[] } };
    const file = bundle.payload.files.find((f) => f.path === path);
    if (!file) throw new Error(`the bundle has no ${path}`);
    file.content = edit(file.content);
    return Buffer.from(JSON.stringify(bundle));
}

/** main.cf with `key = value` set (replacing the line, or added), or removed when value is null. */
export function setParameter(mainCf: string, key: string, value: string | null): string {
    const lines = mainCf.split("\n").filter((line) => !line.startsWith(`${key} = `));
    if (value !== null) lines.splice(lines.length - 1, 0, `${key} = ${value}`);
    return lines.join("\n");
}

/** The plan's signing key of the primary domain, from its (throwaway) bundle (`<domain>.<selector>.private`). */
function signingKey(lab: Lab): { selector: string; pem: string } {
    const bundle = JSON.parse(readFileSync(lab.plan.commit.bundleFile, "utf8")) as { payload: { files: BundleFile[] } };
    const prefix = `${PATHS.opendkimDir}/keys/${LAB.server.domain}.`;
    const selectorOf = (path: string) => path.slice(prefix.length, -".private".length);
    const key = bundle.payload.files.find(
        (f) => f.path.startsWith(prefix) && f.path.endsWith(".private") && /^[a-z0-9-]+$/.test(selectorOf(f.path)),
    );
    if (!key) throw new Error(`the bundle has no DKIM key for ${LAB.server.domain}`);
    return { selector: selectorOf(key.path), pem: key.content };
}

async function sendAndGrade(
    lab: Lab,
    property: string,
    id: string,
    send: () => Promise<void>,
    options: Partial<GradeOptions> = {},
    grading: { withoutPtr?: boolean } = {},
) {
    await send();
    try {
        await waitReceived(lab, id, 90_000);
    } catch (error) {
        lab.report.observe(property, "negative", id, false, (error as Error).message);
        return;
    }
    const graded = await gradeMessages(lab, [{ id, options, ...grading }]);
    observeNegative(lab, property, id, graded.get(id));
}

const viaSmtp =
    (lab: Lab, id: string, withIds = true, body?: string) =>
    async () => {
        await container.exec(server(lab), pySmtpSubmit(FROM, LAB.operator), {
            input: message({ caseId: id, from: FROM, to: LAB.operator, subject: `lab ${id}`, withIds, crlf: true, body }),
        });
    };

/** Runs `control` with the server configured by `bundle`, then applies the plan's own bundle again. */
async function withBundle(lab: Lab, name: string, bundle: Buffer, control: () => Promise<void>): Promise<void> {
    if (!(await applyPlan(lab, lab.plan, `control:${name}`, { bundle }))) return;
    try {
        await control();
    } finally {
        await applyPlan(lab, lab.plan, `control:${name}:restore`);
    }
}

export async function runControls(lab: Lab): Promise<void> {
    log("negative controls: each property broken on its own ...");
    const mainCf = (key: string, value: string | null) => editedBundle(lab, "/etc/postfix/main.cf", (c) => setParameter(c, key, value));
    const { selector, pem } = signingKey(lab);
    const dkimName = `${selector}._domainkey.${LAB.server.domain}`;

    // DNS: SPF without the server, a DKIM record of another key, no DMARC record, no PTR.
    await serveZones(lab, { replaceTxt: { [LAB.server.domain]: "v=spf1 ip4:198.51.100.1 -all" } });
    await sendAndGrade(lab, "spf", "neg-spf", viaSmtp(lab, "neg-spf"));
    await serveZones(lab, { replaceTxt: { [dkimName]: dkimRecord(throwawayRsaKey(2048).publicKeyPem) } });
    await sendAndGrade(lab, "dkim", "neg-dkim", viaSmtp(lab, "neg-dkim"));
    await serveZones(lab, { replaceTxt: { [`_dmarc.${LAB.server.domain}`]: null } });
    await sendAndGrade(lab, "dmarc", "neg-dmarc", viaSmtp(lab, "neg-dmarc"));
    await serveZones(lab, { replaceTxt: {}, withoutServerPtr: true });
    await sendAndGrade(lab, "fcrdns", "neg-fcrdns", viaSmtp(lab, "neg-fcrdns"), {}, { withoutPtr: true });
    await serveZones(lab, { withoutServerPtr: false });

    // The server itself, through the configuration channel.
    await withBundle(lab, "helo", mainCf("smtp_helo_name", "elsewhere.example.com"), () =>
        sendAndGrade(lab, "helo", "neg-helo", viaSmtp(lab, "neg-helo")),
    );
    await withBundle(lab, "tls", mainCf("smtp_tls_security_level", "none"), () =>
        sendAndGrade(lab, "tls", "neg-tls", viaSmtp(lab, "neg-tls")),
    );
    await withBundle(
        lab,
        "added-fields",
        editedBundle(lab, "/etc/postfix/main.cf", (c) =>
            setParameter(setParameter(c, "local_header_rewrite_clients", ""), "always_add_missing_headers", "no"),
        ),
        () =>
            sendAndGrade(lab, "added-fields", "neg-added-fields", viaSmtp(lab, "neg-added-fields", false), {
                addedFields: ["message-id", "date"],
            }),
    );
    await withBundle(
        lab,
        "srs",
        editedBundle(lab, "/etc/postfix/main.cf", (c) =>
            setParameter(setParameter(c, "sender_canonical_maps", null), "recipient_canonical_maps", null),
        ),
        async () => {
            const forward = await sendForward(lab, "neg-srs");
            const graded = await gradeMessages(lab, [forward]);
            observeNegative(lab, "srs", "neg-srs", graded.get("neg-srs"));
        },
    );
    await withBundle(lab, "relay", mainCf("mynetworks", `127.0.0.0/8 [::1]/128 ${LAB.client.v4}/32`), () =>
        checkRelay(lab, "negative", "a server with the client in mynetworks"),
    );
    const snakeoil = editedBundle(lab, "/etc/postfix/main.cf", (c) =>
        setParameter(
            setParameter(c, "smtpd_tls_cert_file", "/etc/ssl/certs/ssl-cert-snakeoil.pem"),
            "smtpd_tls_key_file",
            "/etc/ssl/private/ssl-cert-snakeoil.key",
        ),
    );
    await withBundle(lab, "certificate", snakeoil, async () => {
        const t = await probeTls(lab);
        lab.report.observe(
            "certificate",
            "negative",
            "a server offering the snakeoil certificate",
            !!t.cert && !t.cert.authorized,
            t.cert
                ? `subject=${t.cert.subject} issuer=${t.cert.issuer} verified=${t.cert.authorized} (${t.cert.authorizationError ?? ""})`
                : (t.error ?? "no TLS"),
        );
    });

    // IMAP: a server that lets a password cross in clear (both settings: ssl = required alone already refuses it).
    const [user] = lab.plan.mailboxes;
    if (user) {
        const cleartext = editedBundle(lab, "/etc/dovecot/mailserver.conf", (c) =>
            c.replace("ssl = required", "ssl = yes").replace("auth_allow_cleartext = no", "auth_allow_cleartext = yes"),
        );
        await withBundle(lab, "imap-cleartext", cleartext, () => checkCleartextLogin(lab, "negative", user));
    }

    // A message already signed for the domain, submitted again: the server signs it a second time.
    const presigned = message({
        caseId: "neg-one-signature",
        from: FROM,
        to: LAB.operator,
        subject: "lab neg-one-signature",
        withIds: true,
        crlf: true,
    });
    const signature = await dkimSignature(presigned, {
        signingDomain: LAB.server.domain,
        selector,
        privateKey: pem,
        canonicalization: "relaxed/simple",
    });
    const file = join(lab.work, "neg-one-signature.eml");
    writeFileSync(file, signature + presigned);
    await sendAndGrade(lab, "one-signature", "neg-one-signature", async () => {
        await container.exec(server(lab), pySmtpSubmit(FROM, LAB.operator), { input: readFileSync(file, "latin1") });
    });
    // Spam, from the real server: GTUBE scores as spam whatever else is right. Port 25 now refuses it (rspamd),
    // so it is injected with sendmail, which only OpenDKIM sees: the grader, not our filter, must catch it.
    await sendAndGrade(lab, "spam-score", "neg-spam-score", async () => {
        await container.exec(server(lab), `/usr/sbin/sendmail -f ${FROM} -- ${LAB.operator}`, {
            input: message({
                caseId: "neg-spam-score",
                from: FROM,
                to: LAB.operator,
                subject: "lab neg-spam-score",
                withIds: true,
                crlf: true,
                body: GTUBE,
            }),
        });
    });
}
