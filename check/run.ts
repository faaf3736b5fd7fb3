import { checkAddresses } from "./checks/addresses";
import { checkBlocklists } from "./checks/blocklists";
import { checkDkim } from "./checks/dkim";
import { checkDmarc } from "./checks/dmarc";
import { checkMtaSts, checkTlsRpt } from "./checks/mtaSts";
import { checkMx } from "./checks/mx";
import { checkReverseDns } from "./checks/reverseDns";
import { checkSmtp } from "./checks/smtp";
import { checkSpf } from "./checks/spf";
import type { CheckContext } from "./context";
import { type Finding, Status } from "./finding";

export interface Report {
    readonly domain: string;
    readonly findings: Finding[];
    readonly summary: Record<Status, number>;
}

/** Every check of a domain, in the order a receiving server meets them. */
export async function runChecks(ctx: CheckContext): Promise<Report> {
    const mx = await checkMx(ctx);
    const hosts = await checkAddresses(ctx, mx.hosts);
    const reverse = await Promise.all(hosts.addresses.map(async (a) => ({ ...a, ...(await checkReverseDns(ctx, a.address)) })));
    const [smtp, spf, dkim, dmarc, mtaSts, tlsRpt, blocklists] = await Promise.all([
        // Without a confirmed PTR the banner is compared with the MX host name.
        Promise.all(reverse.map((r) => checkSmtp(ctx, r.address, r.ptrName ?? r.host))),
        checkSpf(ctx, hosts.addresses),
        checkDkim(ctx),
        checkDmarc(ctx),
        checkMtaSts(ctx, mx.hosts),
        checkTlsRpt(ctx),
        checkBlocklists(
            ctx,
            hosts.addresses.map((a) => a.address),
        ),
    ]);
    const findings = [
        ...mx.findings,
        ...hosts.findings,
        ...reverse.map((r) => r.finding),
        ...smtp.flat(),
        ...spf,
        ...dkim,
        ...dmarc,
        ...mtaSts,
        ...tlsRpt,
        ...blocklists,
    ];
    const summary = { [Status.Pass]: 0, [Status.Warn]: 0, [Status.Fail]: 0 };
    for (const f of findings) summary[f.status]++;
    return { domain: ctx.domain, findings, summary };
}
