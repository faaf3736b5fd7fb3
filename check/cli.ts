#!/usr/bin/env node
/**
 * `npm run check -- <domain>... [options]` or `npx mailserver check <domain>... [options]`: checks
 * live domains (a server's several mail domains, one after the other) the way a receiving server
 * does, from DNS and SMTP. Exit code 1 when any check of any domain fails.
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { Dns } from "./dns";
import { formatReport } from "./format";
import { runChecks } from "./run";
import { selectorFromProject } from "./selector";

const USAGE = `usage: mailserver check <domain>... [--json] [--selector S] [--resolver host[:port]] [--smtp-port N]
                        [--https-port N] [--timeout ms] [--ca-file pem] [--blocklist zone]...
  <domain>...    one or more mail domains (a server's primary domain and its extraDomains)
  --selector     DKIM selector, with one domain only (default: each domain's selector in the
                 stack, when run inside the project)
  --resolver     ask only this DNS server (default: the system's resolvers)
  --smtp-port    port of the SMTP checks (default 25)
  --https-port   port of the MTA-STS policy host (default 443)
  --timeout      per network operation, milliseconds (default 5000)
  --ca-file      trust these CA certificates instead of the system store
  --blocklist    also ask this DNS blocklist zone (e.g. zen.spamhaus.org); none by default
  --json         print the report as JSON (an array of reports for several domains)`;

function usage(message: string): number {
    process.stderr.write(`${message}\n${USAGE}\n`);
    return 2;
}

function positiveInt(name: string, value: string | undefined, fallback: number): number {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name}: "${value}" is not a positive whole number`);
    return n;
}

/** The command line, parsed; throws on an unknown or malformed option. */
function parseCommandLine(args: string[]) {
    return parseArgs({
        args,
        allowPositionals: true,
        options: {
            json: { type: "boolean" },
            selector: { type: "string" },
            resolver: { type: "string" },
            "smtp-port": { type: "string" },
            "https-port": { type: "string" },
            timeout: { type: "string" },
            "ca-file": { type: "string" },
            blocklist: { type: "string", multiple: true },
            help: { type: "boolean", short: "h" },
        },
    });
}

export async function main(argv: string[]): Promise<number> {
    const args = argv[0] === "check" ? argv.slice(1) : argv;
    let parsed: ReturnType<typeof parseCommandLine>;
    try {
        parsed = parseCommandLine(args);
    } catch (error) {
        return usage((error as Error).message);
    }
    const { values, positionals } = parsed;
    if (values.help) {
        process.stdout.write(`${USAGE}\n`);
        return 0;
    }
    if (positionals.length === 0) return usage("give at least one domain");
    if (values.selector && positionals.length > 1)
        return usage(
            "--selector names one domain's DKIM selector: give one domain with it, or leave it out to take each domain's from the stack",
        );
    const domains = positionals.map((d) => d.toLowerCase().replace(/\.$/, ""));
    let timeoutMs: number;
    let smtpPort: number;
    let httpsPort: number;
    try {
        timeoutMs = positiveInt("timeout", values.timeout, 5000);
        smtpPort = positiveInt("smtp-port", values["smtp-port"], 25);
        httpsPort = positiveInt("https-port", values["https-port"], 443);
    } catch (error) {
        return usage((error as Error).message);
    }
    const ca = values["ca-file"] ? readFileSync(values["ca-file"], "utf8") : undefined;
    const reports: object[] = [];
    let failed = false;
    for (const [i, domain] of domains.entries()) {
        const fromProject = values.selector ? undefined : selectorFromProject(resolve(__dirname, "..", ".."), domain);
        const report = await runChecks({
            domain,
            dns: new Dns({ server: values.resolver, timeoutMs }),
            timeoutMs,
            smtpPort,
            httpsPort,
            selector: values.selector ?? fromProject?.selector,
            helo: hostname().includes(".") ? hostname() : "mailserver-check.invalid",
            ca,
            blocklists: values.blocklist ?? [],
            now: new Date(),
        });
        failed ||= report.summary.fail > 0;
        if (values.json) {
            reports.push({ ...report, selector: values.selector ?? fromProject?.selector ?? null });
        } else {
            if (i > 0) process.stdout.write("\n");
            if (fromProject) process.stdout.write(`DKIM selector ${fromProject.selector} from ${fromProject.source}\n`);
            process.stdout.write(formatReport(report));
        }
    }
    if (values.json) process.stdout.write(`${JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2)}\n`);
    return failed ? 1 : 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (error: unknown) => {
            process.stderr.write(`${error instanceof Error ? error.stack : error}\n`);
            process.exit(2);
        },
    );
}
