/**
 * The plan the lab boots: `npm start`'s files for a stack, rendered with the lab's ACME server
 * (the only change the lab makes, through the component's own options), read back as the lab
 * needs them: the exact user data, the configuration step, the zones, and the PTR records the
 * provider would serve — derived from what the plan asks the provider for (the droplet's name,
 * the Rdns resources), not from the plan's own ptrRecords output.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Stage } from "../components/host/bundle";
import { DOVECOT, PATHS } from "../components/host/paths";
import { reverseName } from "../components/records/reverse";
import { TYPES } from "../components/resourceTypes";
import { STAGE_DIRS, type StepJson } from "../plan/artifacts";
import { run } from "./sys";
import { parsePlanZones, type Zone } from "./zones";

/** One stage of the configuration step as the plan recorded it (`apply/` or `commit/`: step.json and the files beside it). */
export interface ApplyStep extends StepJson {
    /** Paths of the bundle and of the deploy key (a throwaway). */
    readonly bundleFile: string;
    readonly keyFile: string;
}

/** A resource of resources.json. */
export interface PlannedResource {
    readonly type: string;
    readonly name: string;
    readonly dependsOn?: readonly string[];
    readonly inputs: Record<string, unknown>;
}

export interface PtrRecord {
    readonly address: string;
    readonly name: string;
    /** Which resource input the provider derives it from. */
    readonly from: string;
}

export interface Plan {
    readonly dir: string;
    /** The user data, byte for byte as the provider receives it (cloud-init.yaml minus its header). */
    readonly userData: Buffer;
    readonly headerSha256: { readonly stated: string; readonly actual: string; readonly headerLines: number };
    readonly zones: Zone[];
    readonly zoneText: string;
    readonly resources: readonly PlannedResource[];
    /** The configuration step's prepare stage (apply/) and its commit stage (commit/). */
    readonly apply: ApplyStep;
    readonly commit: ApplyStep;
    /** The records (`<name> <type>`, PTRs included) the plan writes after the prepare stage (they depend on it). */
    readonly afterApply: ReadonlySet<string>;
    readonly ptrs: readonly PtrRecord[];
    readonly outputs: { readonly ipv4: string; readonly ipv6: string | undefined };
    /** Where postmaster@ is forwarded: the operator's address, from the bundle's alias map. */
    readonly operator: string;
    /** The host's name (FQDN) as the plan configures it: the commit bundle's, read when the plan is loaded. */
    readonly hostname: string;
    /** The mailboxes and their (throwaway) passwords: the plan's mailbox-passwords.json; none when send-only. */
    readonly mailboxes: ReadonlyArray<{ readonly address: string; readonly password: string }>;
    /** Each mailbox's quota (`1G`, `2M`), as the commit bundle's Dovecot users file has it; unlimited ones are absent. */
    readonly quotas: Readonly<Record<string, string>>;
    /** The application logins and their (throwaway) passwords, from the same file. */
    readonly apps: ReadonlyArray<{ readonly address: string; readonly password: string }>;
    /** The aliases of the domain, as the commit bundle's alias map has them (neither role addresses nor the catch-all). */
    readonly aliases: ReadonlyArray<{ readonly address: string; readonly targets: readonly string[] }>;
    /** The mail domains, the primary first: those the commit bundle's OpenDKIM key table signs for. */
    readonly domains: readonly string[];
    /** The smarthost the commit bundle's main.cf sends through (`[host]:port`); undefined: direct delivery. */
    readonly relayhost: string | undefined;
}

/**
 * Plans `stack` with the CLI into `outRoot` (`--config` and `--change` pairs as given), with the
 * lab's ACME directory and CA.
 */
export async function makePlan(
    repo: string,
    stack: string,
    outRoot: string,
    acmeUrl: string,
    acmeCaPem: string,
    changes: Record<string, string> = {},
    /** Changes made before these ones: set as config (`pulumi config set`), so the plan's "before" is the host as it is now. */
    earlier: Record<string, string> = {},
): Promise<Plan> {
    const cli = join(repo, "dist", "plan", "cli.js");
    if (!existsSync(cli)) throw new Error(`${cli} missing: build first (npm run build)`);
    const args = [
        cli,
        "--stack",
        stack,
        "--out",
        outRoot,
        "--config",
        `acmeDirectoryUrl=${acmeUrl}`,
        "--config",
        `acmeCaBundle=${acmeCaPem}`,
        // The lab has no Internet: no DNS blocklists (their queries would only be refused).
        "--config",
        "dnsBlocklists=false",
    ];
    for (const [key, value] of Object.entries(earlier)) args.push("--config", `${key}=${value}`);
    for (const [key, value] of Object.entries(changes)) args.push("--change", `${key}=${value}`);
    await run(process.execPath, args, { timeoutMs: 180_000 });
    return readPlan(join(outRoot, stack, Object.keys(changes).length > 0 ? "after" : ""));
}

/** Reads a plan directory written by `npm start`. */
export function readPlan(dir: string): Plan {
    const header = headerSha256(readFileSync(join(dir, "cloud-init.yaml")));
    if (header.stated !== header.actual) throw new Error(`${dir}/cloud-init.yaml: the header's sha256 is not the user data's`);
    const zoneText = readFileSync(join(dir, "zone.txt"), "utf8");
    const resources = JSON.parse(readFileSync(join(dir, "resources.json"), "utf8")) as PlannedResource[];
    const apply = readStep(join(dir, STAGE_DIRS[Stage.Prepare]));
    const commit = readStep(join(dir, STAGE_DIRS[Stage.Commit]));
    const after = resources.filter((r) => (r.dependsOn ?? []).includes(apply.resource));
    const afterApply = new Set([
        ...after.filter((r) => r.type === TYPES.dnsRecord).map((r) => `${String(r.inputs.name)} ${String(r.inputs.type)}`),
        ...after.filter((r) => r.type === TYPES.rdns).map((r) => `${reverseName(String(r.inputs.address))} PTR`),
    ]);
    const outputs = plannedAddresses(resources);
    const commitPayload = (JSON.parse(readFileSync(commit.bundleFile, "utf8")) as { payload: BundlePayload }).payload;
    return {
        dir,
        userData: header.exact,
        headerSha256: { stated: header.stated, actual: header.actual, headerLines: header.headerLines },
        zones: parsePlanZones(zoneText),
        zoneText,
        resources,
        apply,
        commit,
        afterApply,
        ptrs: providerPtrs(resources, outputs),
        outputs,
        operator: operatorOf(commitPayload),
        hostname: commitPayload.hostname,
        mailboxes: passwordsOf(dir, "passwords"),
        apps: passwordsOf(dir, "apps"),
        aliases: aliasesOf(commitPayload),
        relayhost: relayhostOf(commitPayload),
        domains: domainsOf(commitPayload),
        quotas: quotasOf(commitPayload),
    };
}

/** The plan's mailboxes (`passwords`) or application logins (`apps`) with their passwords (written only when there are mailboxes). */
function passwordsOf(dir: string, which: "passwords" | "apps"): Plan["mailboxes"] {
    const file = join(dir, "mailbox-passwords.json");
    if (!existsSync(file)) return [];
    const read = JSON.parse(readFileSync(file, "utf8")) as Record<typeof which, Record<string, string> | undefined>;
    return Object.entries(read[which] ?? {}).map(([address, password]) => ({ address, password }));
}

/** The alias lines of the payload's /etc/postfix/virtual, without the role addresses, identity lines and the catch-all. */
export function aliasesOf(payload: BundlePayload): Plan["aliases"] {
    const virtual = payload.files.find((f) => f.path === "/etc/postfix/virtual")?.content ?? "";
    return virtual
        .split("\n")
        .filter((line) => line !== "" && !/^(postmaster|abuse|root)@/.test(line) && !line.startsWith("@"))
        .map((line) => {
            const [address, ...rest] = line.split(" ");
            return { address, targets: rest.join(" ").split(/,\s*/) };
        })
        .filter((alias) => !(alias.targets.length === 1 && alias.targets[0] === alias.address));
}

/** One stage's step.json, with its bundle checked against the SHA-256 it states. */
function readStep(stageDir: string): ApplyStep {
    const step = JSON.parse(readFileSync(join(stageDir, "step.json"), "utf8")) as Omit<ApplyStep, "bundleFile" | "keyFile">;
    const result: ApplyStep = { ...step, bundleFile: join(stageDir, "bundle.json"), keyFile: join(stageDir, "deploy-key") };
    const sha = createHash("sha256").update(readFileSync(result.bundleFile)).digest("hex");
    if (sha !== result.bundleSha256) throw new Error(`${result.bundleFile}: sha256 ${sha}, step.json says ${result.bundleSha256}`);
    return result;
}

/** What the lab reads of a bundle's payload when it loads a plan. */
export interface BundlePayload {
    readonly hostname: string;
    readonly files: ReadonlyArray<{ readonly path: string; readonly content: string }>;
}

/** Quotas from the payload's Dovecot users file (`address:hash::::::userdb_quota_storage_size=1G`). */
export function quotasOf(payload: BundlePayload): Plan["quotas"] {
    const users = payload.files.find((f) => f.path === DOVECOT.users)?.content ?? "";
    return Object.fromEntries([...users.matchAll(/^([^:\n]+):.*userdb_quota_storage_size=(\S+)$/gm)].map((m) => [m[1], m[2]]));
}

/** The domains OpenDKIM's key table signs for (`<selector>._domainkey.<d> <d>:<selector>:<path>`), in its order. */
export function domainsOf(payload: BundlePayload): string[] {
    const table = payload.files.find((f) => f.path === `${PATHS.opendkimDir}/key.table`)?.content ?? "";
    return table
        .split("\n")
        .filter(Boolean)
        .map((line) => (line.split(/\s+/)[1] ?? "").split(":")[0]);
}

/** main.cf's relayhost in the payload, when it sets one. */
export function relayhostOf(payload: BundlePayload): string | undefined {
    const main = payload.files.find((f) => f.path === "/etc/postfix/main.cf")?.content ?? "";
    return /^relayhost = (\S+)$/m.exec(main)?.[1];
}

/** The address postmaster@ goes to, in the payload's /etc/postfix/virtual. */
function operatorOf(payload: BundlePayload): string {
    const virtual = payload.files.find((f) => f.path === "/etc/postfix/virtual")?.content ?? "";
    const target = /^postmaster@\S+ (\S+)$/m.exec(virtual)?.[1];
    if (!target) throw new Error("the bundle forwards postmaster@ nowhere");
    return target;
}

/** The host's addresses: its A and AAAA records in the plan. */
function plannedAddresses(resources: readonly PlannedResource[]): { ipv4: string; ipv6: string | undefined } {
    const address = (type: string) => resources.find((r) => r.type === TYPES.dnsRecord && r.inputs.type === type)?.inputs.content;
    const ipv4 = address("A");
    if (typeof ipv4 !== "string") throw new Error("the plan has no A record");
    const ipv6 = address("AAAA");
    return { ipv4, ipv6: typeof ipv6 === "string" ? ipv6 : undefined };
}

/**
 * What the provider serves as PTR: DigitalOcean names the droplet's IPv4 and IPv6 address after
 * the droplet (its `name` input, when it is a FQDN); Linode serves what each Rdns resource asks.
 */
export function providerPtrs(resources: readonly PlannedResource[], addresses: { ipv4: string; ipv6: string | undefined }): PtrRecord[] {
    const droplet = resources.find((r) => r.type === TYPES.droplet);
    if (droplet) {
        const name = String(droplet.inputs.name);
        const withV6 = droplet.inputs.ipv6 === true && addresses.ipv6 !== undefined;
        return [addresses.ipv4, ...(withV6 ? [addresses.ipv6 as string] : [])].map((address) => ({
            address,
            name,
            from: `${droplet.name}.name`,
        }));
    }
    return resources
        .filter((r) => r.type === TYPES.rdns)
        .map((r) => ({ address: String(r.inputs.address), name: String(r.inputs.rdns), from: `${r.name}.rdns` }));
}

/** cloud-init.yaml: the header's stated sha256 against the file minus its header comment lines. */
function headerSha256(file: Buffer): { stated: string; actual: string; headerLines: number; exact: Buffer } {
    const text = file.toString("utf8");
    const match = /^# sha256 of the exact user data \(this file without these (\d+) header lines\): ([0-9a-f]{64})$/m.exec(text);
    if (!match) throw new Error("cloud-init.yaml has no sha256 header");
    const lines = text.split("\n");
    const exact = [lines[0], ...lines.slice(1 + Number(match[1]))].join("\n");
    return {
        stated: match[2],
        actual: createHash("sha256").update(exact).digest("hex"),
        headerLines: Number(match[1]),
        exact: Buffer.from(exact),
    };
}
