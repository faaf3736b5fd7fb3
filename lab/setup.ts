// Lab setup shared by run.ts and bench.ts: cached root fs, namespaces, certificates, the plan
// (rendered with the lab's ACME options), NSD, Pebble and the receiving MX.
import { mkdirSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { generateKeyPairSync } from "node:crypto";
import { run, log, now, onCleanup, killLeftovers, unmountLeftovers } from "./sys.js";
import { LAB } from "./topology.js";
import { getPlan } from "./plan.js";
import { Dns, startNsd, startPebble, startReceiver, ACME_DIR_URL } from "./services.js";
import type * as ct from "./container.js";
import { Report } from "./report.js";
import { ZoneOptions } from "./zones.js";
import { Lab, DIST_LAB } from "./lab.js";

export const REPO = resolve(__dirname, "../..");
export const LAB_SRC = join(REPO, "lab");
export const CACHE = process.env.LAB_CACHE_DIR ?? "/var/cache/mailserver-lab";

/** Undo what a killed run left: its processes (by recorded id), mounts and namespaces. */
export async function cleanupLeftovers() {
    await killLeftovers();
    await unmountLeftovers();
    await run(join(LAB_SRC, "netns.sh"), ["down"], { allowFail: true });
}

export async function setup(stack: string, fixture: boolean, out: string, report: Report): Promise<Lab> {
    if (process.platform !== "linux" || process.getuid?.() !== 0)
        throw new Error("the lab needs Linux and root (namespaces, mounts, systemd-nspawn)");
    const work = join(CACHE, "run", stack);
    await cleanupLeftovers();
    rmSync(out, { recursive: true, force: true });
    mkdirSync(join(out, "received"), { recursive: true });
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });

    let t = now();
    log("root filesystem and local package repository (cached) ...");
    const rf = await run(join(LAB_SRC, "rootfs.sh"), [CACHE], { timeoutMs: 1800000 });
    writeFileSync(join(out, "rootfs.log"), rf.stderr);
    const ROOTFS = /^ROOTFS=(.*)$/m.exec(rf.stdout)![1],
        REPODIR = /^REPO=(.*)$/m.exec(rf.stdout)![1];
    report.time("rootfs", now() - t);

    t = now();
    log("namespaces, certificates, plan, DNS, ACME, receiving MX ...");
    await run(join(LAB_SRC, "netns.sh"), ["up"]);
    onCleanup("remove namespaces", async () => {
        await run(join(LAB_SRC, "netns.sh"), ["down"], { allowFail: true });
    });
    const certs = join(work, "certs");
    await run(join(LAB_SRC, "certs.sh"), [certs]);
    const plan = await getPlan(REPO, stack, ACME_DIR_URL, readFileSync(join(certs, "ca.pem"), "utf8"), fixture, join(work, "plan"));
    writeFileSync(join(out, "user-data"), plan.userData);
    writeFileSync(join(out, "zone.txt"), plan.zoneText);
    report.info.plan = plan.source;
    report.info.acmeDirectoryUrl = ACME_DIR_URL;
    const ru = plan.resourcesUserData;
    if (ru?.masked) report.info.resourcesUserData = `${ru.path} is masked ("[secret]") in resources.json: not compared`;
    else if (ru)
        report.add(
            "plan",
            "user-data-equals-resources",
            ru.equal,
            `${ru.path} (${ru.base64 ? "base64-decoded" : "plain"}) ${ru.equal ? "==" : "!="} cloud-init.yaml`,
        );
    const hs = plan.headerSha256;
    if (hs)
        report.add(
            "plan",
            "user-data-sha256",
            hs.stated === hs.actual,
            `cloud-init.yaml minus its ${hs.headerLines} header comment lines: sha256 ${hs.actual} (header states ${hs.stated}); the seed is exactly those bytes, as the provider receives them`,
        );
    // The lab's network is fixed (lab/netns.sh): the plan must give the server the same name and addresses.
    const hostRecords = plan.zones
        .flatMap((z) => z.records)
        .filter((r) => r.owner === LAB.server.name && (r.type === "A" || r.type === "AAAA"));
    const planned = hostRecords
        .map((r) => r.text.trim().split(/\s+/).pop())
        .sort()
        .join(" ");
    const expected = [LAB.server.v4, LAB.server.v6].sort().join(" ");
    report.add(
        "plan",
        "addresses-match-lab",
        planned === expected,
        `plan: ${LAB.server.name} A/AAAA ${planned || "none"}; lab network: ${expected}`,
    );

    const clientKeys = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const clientKey = clientKeys.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const clientPub = clientKeys.publicKey.export({ type: "spki", format: "der" }).toString("base64");
    const zoneOpts: ZoneOptions = { extraTxt: { "lab._domainkey.example.org": `v=DKIM1; k=rsa; p=${clientPub}` } };
    const dns: Dns = { dir: join(work, "nsd"), listen: [LAB.ns.v4, LAB.ns.v6], name: "nsd" };
    const dnsNoPtr: Dns = { dir: join(work, "nsd-noptr"), listen: [LAB.nsNoPtr.v4, LAB.nsNoPtr.v6], name: "nsd-noptr" };
    await startNsd(dns, plan.zones, zoneOpts, join(out, "nsd.log"));
    await startNsd(dnsNoPtr, plan.zones, { ...zoneOpts, withoutPlanPtr: true }, join(out, "nsd-noptr.log"));
    const pebble = await startPebble(join(work, "pebble"), certs, join(out, "pebble.log"));
    const mailDir = join(out, "received");
    await startReceiver(DIST_LAB, mailDir, certs, join(out, "receiver.log"));
    report.time("lab-services", now() - t);

    return {
        stack,
        out,
        work,
        mailDir,
        report,
        plan,
        dns,
        dnsNoPtr,
        zoneOpts,
        container: undefined as unknown as ct.Container,
        rootfs: ROOTFS,
        repoDir: REPODIR,
        certs,
        pebbleRoot: pebble.root,
        pebble: pebble.proc,
        clientKey,
    };
}
