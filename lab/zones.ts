// The lab's DNS data: the plan's zone.txt (parsed into its `; zone <origin>` sections) plus what
// a real deployment gets from elsewhere (SOA/NS per zone, the operator's MX for example.net, the
// outside client's domain, PTRs of the lab's own hosts), rendered as NSD zone files + nsd.conf.
import { writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { LAB } from "./topology.js";
import { reverseName } from "../components/records/reverse.js";

export interface ZoneRecord {
    owner: string; // fully qualified, lower case, trailing dot
    type: string; // upper case
    text: string; // the record exactly as written (may span lines)
    lab?: boolean; // added by the lab, not from the plan
}
export interface Zone {
    origin: string; // trailing dot
    records: ZoneRecord[];
}

const fq = (n: string) => (n.endsWith(".") ? n : n + ".").toLowerCase();

/** Parse the plan's zone.txt: `; zone X` starts a section; records have FQDN owners. */
export function parsePlanZones(text: string): Zone[] {
    const zones: Zone[] = [];
    let cur: Zone | undefined;
    let pending = "";
    let depth = 0;
    const flush = () => {
        const rec = pending.trim();
        pending = "";
        if (!rec) return;
        if (!cur) throw new Error(`zone.txt: record before any "; zone" line: ${rec}`);
        const toks = rec.replace(/[()]/g, " ").split(/\s+/);
        const owner = toks[0];
        if (!owner.endsWith(".")) throw new Error(`zone.txt: owner not fully qualified: ${rec}`);
        let i = 1;
        while (i < toks.length && (/^\d+$/.test(toks[i]) || /^(IN|CH|HS)$/i.test(toks[i]))) i++;
        cur.records.push({ owner: owner.toLowerCase(), type: (toks[i] ?? "").toUpperCase(), text: rec });
    };
    for (const raw of text.split("\n")) {
        const m = /^;\s*zone\s+(\S+)/.exec(raw);
        if (m && depth === 0) {
            flush();
            cur = { origin: fq(m[1]), records: [] };
            zones.push(cur);
            continue;
        }
        const line = stripComment(raw);
        if (depth === 0) {
            if (!line.trim()) continue;
            if (/^\$ORIGIN\s/i.test(line)) {
                if (cur) cur.origin = fq(line.trim().split(/\s+/)[1]);
                continue;
            }
            if (/^\$TTL\s/i.test(line)) continue;
            if (/^\s/.test(line) && pending === "") throw new Error(`zone.txt: record without owner: ${raw}`);
        }
        pending += (pending ? "\n" : "") + line;
        depth += count(line, "(") - count(line, ")");
        if (depth <= 0) {
            depth = 0;
            flush();
        }
    }
    flush();
    return zones;
}

function stripComment(line: string): string {
    let q = false;
    for (let i = 0; i < line.length; i++) {
        const c = line[i];
        if (c === "\\") i++;
        else if (c === '"') q = !q;
        else if (c === ";" && !q) return line.slice(0, i);
    }
    return line;
}
function count(line: string, ch: string): number {
    let n = 0,
        q = false;
    for (let i = 0; i < line.length; i++) {
        if (line[i] === "\\") i++;
        else if (line[i] === '"') q = !q;
        else if (line[i] === ch && !q) n++;
    }
    return n;
}

/** The PTR owner name of an address, fully qualified (the component's reverseName). */
export function ptrName(ip: string): string {
    return `${reverseName(ip)}.`;
}

export interface ZoneOptions {
    /** drop the plan's PTR records (negative control: reverse DNS must then fail) */
    withoutPlanPtr?: boolean;
    /** drop the A/AAAA records of these names (fault scenario "DNS late") */
    withoutAddressesOf?: string[];
    /** extra TXT records (owner FQDN → value) the lab publishes, e.g. the client's DKIM key */
    extraTxt?: Record<string, string>;
    /** serve the receiving MX's name with only this address family (forces the sending family) */
    mxFamily?: 4 | 6;
    serial?: number;
}

/** The lab's own records: name server, ACME server, operator MX, outside client, their PTRs. */
function labRecords(extraTxt: Record<string, string>): { zone: string; owner: string; type: string; rdata: string }[] {
    const r: { zone: string; owner: string; type: string; rdata: string }[] = [];
    const host = (zone: string, name: string, v4: string, v6: string) => {
        r.push({ zone, owner: name, type: "A", rdata: v4 }, { zone, owner: name, type: "AAAA", rdata: v6 });
        r.push({ zone: "", owner: ptrName(v4), type: "PTR", rdata: name }, { zone: "", owner: ptrName(v6), type: "PTR", rdata: name });
    };
    host("lab.test.", LAB.ns.name, LAB.ns.v4, LAB.ns.v6);
    host("lab.test.", LAB.acme.name, LAB.acme.v4, LAB.acme.v6);
    r.push({ zone: "example.net.", owner: "example.net.", type: "MX", rdata: `10 ${LAB.mx.name}` });
    r.push({ zone: "example.net.", owner: "example.net.", type: "TXT", rdata: '"v=spf1 -all"' });
    host("example.net.", LAB.mx.name, LAB.mx.v4, LAB.mx.v6);
    r.push({ zone: "example.org.", owner: "example.org.", type: "MX", rdata: `10 ${LAB.client.name}` });
    r.push({ zone: "example.org.", owner: "example.org.", type: "TXT", rdata: `"v=spf1 ip4:${LAB.client.v4} ip6:${LAB.client.v6} -all"` });
    r.push({ zone: "example.org.", owner: "_dmarc.example.org.", type: "TXT", rdata: '"v=DMARC1; p=none"' });
    host("example.org.", LAB.client.name, LAB.client.v4, LAB.client.v6);
    for (const [owner, value] of Object.entries(extraTxt)) {
        const chunks = value.match(/.{1,250}/g) ?? [""];
        r.push({ zone: "", owner: fq(owner), type: "TXT", rdata: chunks.map((c) => `"${c}"`).join(" ") });
    }
    return r;
}

/** All zones the lab NSD serves, as {origin, file text}. */
export function buildZones(plan: Zone[], opts: ZoneOptions = {}): { origin: string; text: string }[] {
    const hidden = new Set((opts.withoutAddressesOf ?? []).map(fq));
    const zones: Zone[] = plan.map((z) => ({
        origin: z.origin,
        records: z.records.filter((rec) => {
            if (opts.withoutPlanPtr && rec.type === "PTR") return false;
            if (hidden.has(rec.owner) && (rec.type === "A" || rec.type === "AAAA")) return false;
            return true;
        }),
    }));
    const findZone = (owner: string): Zone | undefined =>
        zones.filter((z) => owner === z.origin || owner.endsWith("." + z.origin)).sort((a, b) => b.origin.length - a.origin.length)[0];
    for (const rec of labRecords(opts.extraTxt ?? {})) {
        if (rec.owner === LAB.mx.name && ((opts.mxFamily === 4 && rec.type === "AAAA") || (opts.mxFamily === 6 && rec.type === "A")))
            continue;
        let zone = rec.zone ? zones.find((z) => z.origin === rec.zone) : findZone(rec.owner);
        if (!zone) {
            const origin = rec.zone || defaultReverseOrigin(rec.owner) || rec.owner.split(".").slice(1).join(".");
            zone = zones.find((z) => z.origin === origin);
            if (!zone) zones.push((zone = { origin, records: [] }));
        }
        zone.records.push({ owner: rec.owner, type: rec.type, text: `${rec.owner} 300 IN ${rec.type} ${rec.rdata}`, lab: true });
    }
    const serial = opts.serial ?? Math.floor(Date.now() / 1000);
    return zones.map((z) => ({
        origin: z.origin,
        text:
            `; ${z.origin} as served by the mail lab (SOA/NS and records marked "lab" are the lab's)\n` +
            `$ORIGIN ${z.origin}\n$TTL 300\n` +
            `${z.origin} 300 IN SOA ${LAB.ns.name} hostmaster.lab.test. ${serial} 3600 600 86400 60\n` +
            `${z.origin} 300 IN NS ${LAB.ns.name}\n` +
            z.records.map((r) => r.text + (r.lab ? " ; lab" : "")).join("\n") +
            "\n",
    }));
}

function defaultReverseOrigin(owner: string): string | undefined {
    if (owner.endsWith(".in-addr.arpa.")) return owner.split(".").slice(1).join(".");
    if (owner.endsWith(".ip6.arpa.")) return owner.split(".").slice(16).join("."); // the /64
    return undefined;
}

/** Write nsd.conf + zone files into dir for one NSD instance. */
export function writeNsd(dir: string, listen: string[], zones: { origin: string; text: string }[]): string {
    mkdirSync(dir, { recursive: true });
    const conf = [
        "server:",
        ...listen.map((a) => `  ip-address: ${a}`),
        "  port: 53",
        '  username: ""',
        '  chroot: ""',
        '  database: ""',
        `  zonesdir: "${dir}"`,
        `  pidfile: "${dir}/nsd.pid"`,
        `  xfrdfile: "${dir}/xfrd.state"`,
        `  zonelistfile: "${dir}/zone.list"`,
        `  logfile: "${dir}/nsd.log"`,
        "  server-count: 1",
        "  verbosity: 1",
        "  hide-version: yes",
        "  refuse-any: yes",
        "remote-control:",
        "  control-enable: no",
    ];
    for (const z of zones) {
        const file = z.origin.replace(/\.$/, "") + ".zone";
        writeFileSync(join(dir, file), z.text);
        conf.push("zone:", `  name: "${z.origin}"`, `  zonefile: "${file}"`);
    }
    const path = join(dir, "nsd.conf");
    writeFileSync(path, conf.join("\n") + "\n");
    return path;
}
