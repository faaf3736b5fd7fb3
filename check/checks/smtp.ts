import type { CheckContext } from "../context";
import { type Finding, fail, pass, warn } from "../finding";
import { announcedName, probeSmtp, type SmtpProbe } from "../smtpProbe";

/** Days before expiry below which the certificate is a warning. */
export const EXPIRY_WARN_DAYS = 14;
const DAY_MS = 86_400_000;

/**
 * SMTP on one address as a sending server sees it: banner and EHLO name equal to the PTR name,
 * STARTTLS offered, and a certificate valid for the name, chained to a trusted root, not expiring.
 */
export async function checkSmtp(ctx: CheckContext, address: string, expectedName: string): Promise<Finding[]> {
    const subject = address.includes(":") ? `[${address}]:${ctx.smtpPort}` : `${address}:${ctx.smtpPort}`;
    let probe: SmtpProbe;
    try {
        probe = await probeSmtp({
            host: address,
            port: ctx.smtpPort,
            servername: expectedName,
            helo: ctx.helo,
            timeoutMs: ctx.timeoutMs,
            ca: ctx.ca,
        });
    } catch (error) {
        const code = (error as { code?: string }).code;
        const detail = code === "ETIMEDOUT" ? (error as Error).message : `cannot connect: ${(error as Error).message}`;
        return [
            fail(
                "smtp.connect",
                subject,
                detail,
                "open port 25 inbound in the host's firewall and make sure Postfix listens on this address",
            ),
        ];
    }
    const findings: Finding[] = [];
    const banner = announcedName(probe.banner);
    findings.push(
        probe.banner.code === 220 && banner === expectedName
            ? pass("smtp.banner", subject, `220 ${banner}`)
            : fail(
                  "smtp.banner",
                  subject,
                  `banner "${probe.banner.code} ${probe.banner.lines[0] ?? ""}" does not name ${expectedName}`,
                  "set Postfix myhostname to the FQDN (smtpd_banner = $myhostname ESMTP)",
              ),
    );
    const ehlo = announcedName(probe.ehlo);
    findings.push(
        probe.ehlo.code === 250 && ehlo === expectedName
            ? pass("smtp.ehlo", subject, `250 ${ehlo}`)
            : fail(
                  "smtp.ehlo",
                  subject,
                  `EHLO answered "${probe.ehlo.code} ${probe.ehlo.lines[0] ?? ""}", not ${expectedName}`,
                  "set Postfix myhostname to the FQDN",
              ),
    );
    if (!probe.starttlsOffered || !probe.tls) {
        findings.push(
            fail(
                "smtp.starttls",
                subject,
                "STARTTLS not offered",
                "set smtpd_tls_security_level = may with a certificate (Gmail 421-4.7.29)",
            ),
        );
        return findings;
    }
    const tls = probe.tls;
    findings.push(pass("smtp.starttls", subject, `STARTTLS, ${tls.protocol}`));
    findings.push(
        tls.nameValid
            ? pass("tls.name", subject, `certificate valid for ${expectedName}`)
            : fail(
                  "tls.name",
                  subject,
                  `certificate (CN ${tls.subject}) is not valid for ${expectedName}: ${tls.nameError}`,
                  `issue the certificate for ${expectedName}`,
              ),
    );
    const days = Math.floor((tls.validTo.getTime() - ctx.now.getTime()) / DAY_MS);
    const chainOk = tls.chainValid || tls.chainError === "CERT_HAS_EXPIRED";
    findings.push(
        chainOk
            ? pass("tls.chain", subject, "chain verifies to a trusted root")
            : fail(
                  "tls.chain",
                  subject,
                  `chain does not verify: ${tls.chainError}`,
                  "serve the full chain (fullchain.pem) from a public CA such as Let's Encrypt",
              ),
    );
    if (days < 0) {
        findings.push(
            fail(
                "tls.expiry",
                subject,
                `expired ${-days} days ago (${tls.validTo.toISOString().slice(0, 10)})`,
                "renew the certificate (certbot renew) and reload Postfix",
            ),
        );
    } else if (days < EXPIRY_WARN_DAYS) {
        findings.push(
            warn("tls.expiry", subject, `expires in ${days} days`, "check that certbot renews (systemctl list-timers certbot.timer)"),
        );
    } else {
        findings.push(pass("tls.expiry", subject, `expires in ${days} days`));
    }
    return findings;
}
