// Get the plan's user data and zones for a stack, with the lab's ACME options (the only way the
// lab changes the user data). With --fixture, use lab/fixtures/ instead (lab self-test).
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { run } from "./sys.js";
import { parsePlanZones, Zone } from "./zones.js";
import { throwawayRsaKey } from "../plan/throwawayKey.js";
import { dkimRecord } from "../components/records/dkim.js";
import { chunkTxt } from "../components/records/txt.js";

export interface Plan {
    source: string;
    userData: Buffer;
    zones: Zone[];
    zoneText: string;
    /** user data found in resources.json (decoded if base64) and whether it equals cloud-init.yaml */
    resourcesUserData?: { path: string; base64: boolean; equal: boolean; masked?: boolean };
    /** the header's "sha256 of the exact user data (this file without these N header lines)" */
    headerSha256?: { stated: string; actual: string; headerLines: number };
}

export async function getPlan(
    repo: string,
    stack: string,
    acmeUrl: string,
    acmeCaPem: string,
    fixture: boolean,
    outRoot: string,
): Promise<Plan> {
    if (fixture) {
        const dir = join(repo, "lab/fixtures");
        const indent = (pem: string) =>
            pem
                .trimEnd()
                .split("\n")
                .map((l) => "      " + l)
                .join("\n");
        // A fresh throwaway DKIM key per run: no private key is committed with the fixture.
        const key = throwawayRsaKey(2048);
        const ud = readFileSync(join(dir, "cloud-init.yaml"), "utf8")
            .replace("@@ACME_URL@@", acmeUrl)
            .replace("      @@ACME_CA@@", indent(acmeCaPem))
            .replace("      @@DKIM_KEY@@", indent(key.privateKeyPem));
        const zoneText = readFileSync(join(dir, "zone.txt"), "utf8").replace("@@DKIM_RECORD@@", chunkTxt(dkimRecord(key.publicKeyPem)));
        return { source: dir, userData: Buffer.from(ud), zones: parsePlanZones(zoneText), zoneText };
    }
    const cli = join(repo, "dist/plan/cli.js");
    if (!existsSync(cli)) throw new Error(`${cli} missing: build first (npx tsc -p tsconfig.json)`);
    // --out keeps this rendering (with the lab's ACME options) away from the project's out/plan/
    await run(
        process.execPath,
        [
            cli,
            "--stack",
            stack,
            "--out",
            outRoot,
            "--config",
            `mailserver:acmeDirectoryUrl=${acmeUrl}`,
            "--config",
            `mailserver:acmeCaBundle=${acmeCaPem}`,
        ],
        { timeoutMs: 120000 },
    );
    const dir = join(outRoot, stack);
    const planned = readFileSync(join(dir, "cloud-init.yaml"));
    const zoneText = readFileSync(join(dir, "zone.txt"), "utf8");
    // Boot the exact bytes the provider receives: cloud-init.yaml without the plan's header comment
    // lines, which must hash to the header's stated sha256 (for Linode: the decoded Metadata).
    const sha = headerSha256(planned);
    if (!sha || sha.stated !== sha.actual) throw new Error(`${dir}/cloud-init.yaml: header sha256 missing or not the user data's`);
    const plan: Plan = { source: dir, userData: sha.exact, zones: parsePlanZones(zoneText), zoneText };
    const resPath = join(dir, "resources.json");
    if (existsSync(resPath)) plan.resourcesUserData = findUserData(JSON.parse(readFileSync(resPath, "utf8")), sha.exact);
    plan.headerSha256 = { stated: sha.stated, actual: sha.actual, headerLines: sha.headerLines };
    return plan;
}

/** Look for a userData/user_data string anywhere in resources.json; decode base64 if needed. */
function findUserData(res: unknown, expected: Buffer): Plan["resourcesUserData"] {
    let found: Plan["resourcesUserData"];
    const walk = (v: unknown, path: string) => {
        if (found) return;
        if (typeof v === "string" && /(user_?data|metadatas)$/i.test(path) && v === "[secret]") {
            found = { path, base64: false, equal: false, masked: true };
        } else if (typeof v === "string" && /user_?data$/i.test(path)) {
            const isB64 = !v.startsWith("#cloud-config") && /^[A-Za-z0-9+/=\s]+$/.test(v);
            const bytes = isB64 ? Buffer.from(v, "base64") : Buffer.from(v);
            found = { path, base64: isB64, equal: bytes.equals(expected) };
        } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
        else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k);
    };
    walk(res, "");
    return found;
}

/** Check the header's stated sha256 against the file minus its header comment lines. */
function headerSha256(ud: Buffer): (NonNullable<Plan["headerSha256"]> & { exact: Buffer }) | undefined {
    const text = ud.toString("utf8");
    const m = /^# sha256 of the exact user data \(this file without these (\d+) header lines\): ([0-9a-f]{64})$/m.exec(text);
    if (!m) return undefined;
    const n = Number(m[1]);
    const lines = text.split("\n");
    const exact = [lines[0], ...lines.slice(1 + n)].join("\n");
    return { stated: m[2], actual: createHash("sha256").update(exact).digest("hex"), headerLines: n, exact: Buffer.from(exact) };
}
