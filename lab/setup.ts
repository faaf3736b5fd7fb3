/**
 * What every lab run starts with: the cached root filesystem and package repository, the network,
 * TLS material, Pebble, the plan (rendered with the lab's ACME options), NSD and the receiving MX.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ALL_PACKAGES } from "../components/host/bundle";
import { DIST_LAB, type Lab } from "./lab";
import { networkDown, networkUp } from "./network";
import { makePlan } from "./plan";
import type { Report } from "./report";
import { ACME_DIR_URL, type Dns, startNsd, startPebble, startReceiver, startRelay } from "./services";
import { killLeftovers, log, now, onCleanup, run, unmountLeftovers } from "./sys";
import { LAB } from "./topology";
import type { ZoneOptions } from "./zones";

export const REPO = resolve(__dirname, "..", "..");
export const LAB_SRC = join(REPO, "lab");
export const CACHE = process.env.LAB_CACHE_DIR ?? "/var/cache/mailserver-lab";

/** Undoes what a killed run left: its processes (by recorded id), mounts and namespaces. */
export async function cleanupLeftovers(): Promise<void> {
    await killLeftovers();
    await unmountLeftovers();
    await networkDown();
}

/** The root filesystem and the package repository holding exactly the packages the applier installs. */
export async function rootFilesystem(): Promise<{ rootfs: string; repo: string; log: string }> {
    const r = await run(join(LAB_SRC, "rootfs.sh"), [CACHE, ...ALL_PACKAGES], { timeoutMs: 1_800_000 });
    const value = (name: string) => {
        const match = new RegExp(`^${name}=(.*)$`, "m").exec(r.stdout);
        if (!match) throw new Error(`rootfs.sh printed no ${name}: ${r.stderr.slice(-1000)}`);
        return match[1];
    };
    return { rootfs: value("ROOTFS"), repo: value("REPO"), log: r.stderr };
}

/** TLS material for the lab's own services: a CA, Pebble's HTTPS certificate, the MX's and the smarthost's STARTTLS certificates. */
async function certificates(dir: string): Promise<void> {
    mkdirSync(dir, { recursive: true });
    const openssl = (args: string[]) => run("openssl", args);
    const ca = ["-keyout", join(dir, "ca.key"), "-out", join(dir, "ca.pem")];
    await openssl([
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=mail lab CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        ...ca,
    ]);
    const leaf = async (file: string, name: string, sans: string) => {
        await openssl([
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            `/CN=${name}`,
            "-keyout",
            join(dir, `${file}.key`),
            "-out",
            join(dir, `${file}.csr`),
        ]);
        writeFileSync(join(dir, `${file}.ext`), `subjectAltName=${sans}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
        const signing = ["-CA", join(dir, "ca.pem"), "-CAkey", join(dir, "ca.key"), "-CAcreateserial", "-days", "2"];
        await openssl([
            "x509",
            "-req",
            "-in",
            join(dir, `${file}.csr`),
            ...signing,
            "-extfile",
            join(dir, `${file}.ext`),
            "-out",
            join(dir, `${file}.pem`),
        ]);
    };
    await leaf("acme", LAB.acme.name, `DNS:${LAB.acme.name},IP:${LAB.acme.v4},IP:${LAB.acme.v6}`);
    await leaf("mx", LAB.mx.name, `DNS:${LAB.mx.name}`);
    await leaf("relay", LAB.relay.name, `DNS:${LAB.relay.name}`);
}

export async function setup(stack: string, out: string, report: Report): Promise<Lab> {
    if (process.platform !== "linux" || process.getuid?.() !== 0)
        throw new Error("the lab needs Linux and root (namespaces, mounts, systemd-nspawn)");
    const work = join(CACHE, "run", stack);
    await cleanupLeftovers();
    rmSync(out, { recursive: true, force: true });
    mkdirSync(join(out, "received"), { recursive: true });
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });

    let started = now();
    log("root filesystem and local package repository (cached) ...");
    const { rootfs, repo, log: rootfsLog } = await rootFilesystem();
    writeFileSync(join(out, "rootfs.log"), rootfsLog);
    report.time("rootfs", now() - started);

    started = now();
    log("network, certificates, Pebble, plan, DNS, receiving MX ...");
    await networkUp();
    onCleanup("remove the network", networkDown);
    const certs = join(work, "certs");
    await certificates(certs);
    const pebble = await startPebble(join(work, "pebble"), certs, join(out, "pebble.log"));
    const plan = await makePlan(REPO, stack, join(work, "plan"), ACME_DIR_URL, readFileSync(join(certs, "ca.pem"), "utf8"));
    writeFileSync(join(out, "user-data"), plan.userData);
    writeFileSync(join(out, "zone.txt"), plan.zoneText);
    report.info.plan = plan.dir;
    report.info.acmeDirectoryUrl = ACME_DIR_URL;
    report.add(
        "plan",
        "user-data-sha256",
        plan.headerSha256.stated === plan.headerSha256.actual,
        `cloud-init.yaml minus its ${plan.headerSha256.headerLines} header lines: sha256 ${plan.headerSha256.actual} (the header states ${plan.headerSha256.stated}); the seed is exactly those bytes`,
    );
    // The lab's network is fixed: the plan must give the server the same addresses.
    const lab = [LAB.server.v4, ...(plan.outputs.ipv6 ? [LAB.server.v6] : [])].join(" ");
    const planned = [plan.outputs.ipv4, ...(plan.outputs.ipv6 ? [plan.outputs.ipv6] : [])].join(" ");
    report.add("plan", "addresses-match-lab", planned === lab, `plan: ${planned}; lab: ${lab}`);

    const client = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const zoneOptions: ZoneOptions = {
        ptrs: plan.ptrs,
        extraTxt: {
            "lab._domainkey.example.org": `v=DKIM1; k=rsa; p=${client.publicKey.export({ type: "spki", format: "der" }).toString("base64")}`,
        },
        // Before the configuration step only what it depends on is published (as `pulumi up` orders it).
        without: plan.afterApply,
    };
    const dns: Dns = { dir: join(work, "nsd"), listen: [LAB.dns.v4, LAB.dns.v6], name: "nsd" };
    const dnsNoPtr: Dns = { dir: join(work, "nsd-noptr"), listen: [LAB.dnsNoPtr.v4, LAB.dnsNoPtr.v6], name: "nsd-noptr" };
    await startNsd(dns, plan.zones, zoneOptions, join(out, "nsd.log"));
    await startNsd(dnsNoPtr, plan.zones, { ...zoneOptions, without: new Set(), withoutServerPtr: true }, join(out, "nsd-noptr.log"));
    const mailDir = join(out, "received");
    await startReceiver(DIST_LAB, mailDir, certs, join(out, "receiver.log"));
    await startRelay(DIST_LAB, join(out, "relay"), certs, join(out, "relay.log"));
    report.time("lab-services", now() - started);
    return {
        stack,
        out,
        work,
        mailDir,
        report,
        plan,
        dns,
        dnsNoPtr,
        zoneOptions,
        container: undefined,
        rootfs,
        repoDir: repo,
        certs,
        pebble,
        clientKey: client.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    };
}
