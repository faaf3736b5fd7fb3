/**
 * The lab's DNS data: the plan's zone.txt (its `; zone <origin>` sections), the PTR records the
 * provider would serve, and what a real deployment gets from elsewhere (SOA/NS per zone, the
 * operator's MX for example.net, the outside client's domain, PTRs of the lab's own hosts),
 * rendered as NSD zone files and nsd.conf.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { reverseName, reverseZone } from "../components/records/reverse";
import { LAB, type Node } from "./topology";

export interface ZoneRecord {
    /** Fully qualified, lower case, trailing dot. */
    readonly owner: string;
    /** Upper case. */
    readonly type: string;
    /** The record exactly as written (may span lines). */
    readonly text: string;
    /** Added by the lab, not from the plan. */
    readonly lab?: boolean;
}

export interface Zone {
    /** Trailing dot. */
    readonly origin: string;
    readonly records: ZoneRecord[];
}

const fq = (name: string) => (name.endsWith(".") ? name : `${name}.`).toLowerCase();

/** Outside quoted strings: where a `;` comment starts, and how many of `ch` there are. */
function scan(line: string): { commentAt: number; open: number; close: number } {
    let quoted = false;
    let open = 0;
    let close = 0;
    for (let i = 0; i < line.length; i++) {
        const c = line[i];
        if (c === "\\") i++;
        else if (c === '"') quoted = !quoted;
        else if (!quoted && c === ";") return { commentAt: i, open, close };
        else if (!quoted && c === "(") open++;
        else if (!quoted && c === ")") close++;
    }
    return { commentAt: -1, open, close };
}

/** The plan's zone.txt: `; zone X` starts a section; records have fully-qualified owners. */
export function parsePlanZones(text: string): Zone[] {
    const zones: Zone[] = [];
    let current: Zone | undefined;
    let pending = "";
    let depth = 0;
    const flush = () => {
        const record = pending.trim();
        pending = "";
        if (!record) return;
        if (!current) throw new Error(`zone.txt: record before any "; zone" line: ${record}`);
        const tokens = record.replace(/[()]/g, " ").split(/\s+/);
        const owner = tokens[0];
        if (!owner.endsWith(".")) throw new Error(`zone.txt: owner not fully qualified: ${record}`);
        let i = 1;
        while (i < tokens.length && (/^\d+$/.test(tokens[i]) || /^(IN|CH|HS)$/i.test(tokens[i]))) i++;
        current.records.push({ owner: owner.toLowerCase(), type: (tokens[i] ?? "").toUpperCase(), text: record });
    };
    for (const raw of text.split("\n")) {
        const section = /^;\s*zone\s+(\S+)/.exec(raw);
        if (section && depth === 0) {
            flush();
            current = { origin: fq(section[1]), records: [] };
            zones.push(current);
            continue;
        }
        const { commentAt } = scan(raw);
        const line = commentAt >= 0 ? raw.slice(0, commentAt) : raw;
        if (depth === 0) {
            if (!line.trim() || /^\$(ORIGIN|TTL)\s/i.test(line)) continue;
            if (/^\s/.test(line) && pending === "") throw new Error(`zone.txt: record without owner: ${raw}`);
        }
        pending += (pending ? "\n" : "") + line;
        const { open, close } = scan(line);
        depth += open - close;
        if (depth <= 0) {
            depth = 0;
            flush();
        }
    }
    flush();
    return zones;
}

/** The PTR owner name of an address, fully qualified. */
export function ptrName(address: string): string {
    return `${reverseName(address)}.`;
}

export interface ZoneOptions {
    /** PTR records the provider serves for the server (from the plan's resources). */
    readonly ptrs: ReadonlyArray<{ readonly address: string; readonly name: string }>;
    /** Leave out the server's PTR records (the negative control for reverse DNS). */
    readonly withoutServerPtr?: boolean;
    /** Leave out the A/AAAA records of these names (the fault "DNS late"). */
    readonly withoutAddressesOf?: readonly string[];
    /** Leave out these records, as `<name> <type>` (those the plan writes only after the configuration step). */
    readonly without?: ReadonlySet<string>;
    /** The TXT records at these owners replaced by this value, or removed (null): negative controls. */
    readonly replaceTxt?: Readonly<Record<string, string | null>>;
    /** Extra TXT records the lab publishes (owner → value), e.g. the client's DKIM key. */
    readonly extraTxt?: Readonly<Record<string, string>>;
    /** Serve the receiving MX's name with only this address family (forces the sending family). */
    readonly mxFamily?: 4 | 6;
    readonly serial?: number;
}

interface LabRecord {
    readonly zone: string;
    readonly owner: string;
    readonly type: string;
    readonly rdata: string;
}

/** An outside domain with DMARC p=reject and SPF listing the lab's client only. */
export const LAB_STRICT_DOMAIN = "strict.example.org";

/** The lab's own records: name server, ACME server, the operator's MX, the outside client, their PTRs. */
function labRecords(extraTxt: Readonly<Record<string, string>>): LabRecord[] {
    const records: LabRecord[] = [];
    const host = (zone: string, node: Node) => {
        const name = fq(node.name);
        records.push({ zone, owner: name, type: "A", rdata: node.v4 }, { zone, owner: name, type: "AAAA", rdata: node.v6 });
        records.push(
            { zone: "", owner: ptrName(node.v4), type: "PTR", rdata: name },
            { zone: "", owner: ptrName(node.v6), type: "PTR", rdata: name },
        );
    };
    host("lab.test.", LAB.dns);
    host("lab.test.", LAB.acme);
    records.push({ zone: "example.net.", owner: "example.net.", type: "MX", rdata: `10 ${fq(LAB.mx.name)}` });
    records.push({ zone: "example.net.", owner: "example.net.", type: "TXT", rdata: '"v=spf1 -all"' });
    host("example.net.", LAB.mx);
    // The smarthost's addresses, for the senders that include them in their SPF.
    host("example.net.", LAB.relay);
    records.push({
        zone: "example.net.",
        owner: fq(LAB.relay.spfInclude),
        type: "TXT",
        rdata: `"v=spf1 ip4:${LAB.relay.v4} ip6:${LAB.relay.v6} -all"`,
    });
    records.push({ zone: "example.org.", owner: "example.org.", type: "MX", rdata: `10 ${fq(LAB.client.name)}` });
    records.push({
        zone: "example.org.",
        owner: "example.org.",
        type: "TXT",
        rdata: `"v=spf1 ip4:${LAB.client.v4} ip6:${LAB.client.v6} -all"`,
    });
    records.push({ zone: "example.org.", owner: "_dmarc.example.org.", type: "TXT", rdata: '"v=DMARC1; p=none"' });
    // A sender domain whose DMARC policy is reject: only the client may send as it (the filter's DMARC check).
    records.push(
        {
            zone: "example.org.",
            owner: fq(LAB_STRICT_DOMAIN),
            type: "TXT",
            rdata: `"v=spf1 ip4:${LAB.client.v4} ip6:${LAB.client.v6} -all"`,
        },
        { zone: "example.org.", owner: fq(`_dmarc.${LAB_STRICT_DOMAIN}`), type: "TXT", rdata: '"v=DMARC1; p=reject"' },
        { zone: "example.org.", owner: fq(LAB_STRICT_DOMAIN), type: "MX", rdata: `10 ${fq(LAB.client.name)}` },
    );
    host("example.org.", LAB.client);
    host("example.org.", LAB.app);
    for (const [owner, value] of Object.entries(extraTxt)) {
        const strings = value.match(/.{1,250}/g) ?? [""];
        records.push({ zone: "", owner: fq(owner), type: "TXT", rdata: strings.map((s) => `"${s}"`).join(" ") });
    }
    return records;
}

/** Every zone the lab's NSD serves, as origin and file text. */
export function buildZones(plan: readonly Zone[], options: ZoneOptions): Array<{ origin: string; text: string }> {
    const hidden = new Set((options.withoutAddressesOf ?? []).map(fq));
    const without = new Set([...(options.without ?? [])].map((r) => `${fq(r.split(" ")[0])} ${r.split(" ")[1]}`));
    const replaced = new Map(Object.entries(options.replaceTxt ?? {}).map(([owner, value]) => [fq(owner), value]));
    const zones: Zone[] = plan
        // The plan's own reverse sections are its claim; the provider's PTRs are served instead.
        .filter((z) => !z.origin.endsWith(".arpa."))
        .map((z) => ({
            origin: z.origin,
            records: z.records.filter(
                (r) =>
                    !without.has(`${r.owner} ${r.type}`) &&
                    !(hidden.has(r.owner) && (r.type === "A" || r.type === "AAAA")) &&
                    !(replaced.has(r.owner) && r.type === "TXT"),
            ),
        }));
    const zoneOf = (owner: string): Zone | undefined =>
        zones.filter((z) => owner === z.origin || owner.endsWith(`.${z.origin}`)).sort((a, b) => b.origin.length - a.origin.length)[0];
    const add = (zoneName: string, owner: string, type: string, rdata: string, lab: boolean) => {
        let zone = zoneName ? zones.find((z) => z.origin === zoneName) : zoneOf(owner);
        if (!zone) {
            const origin = zoneName || reverseOrigin(owner) || owner.split(".").slice(1).join(".");
            zone = zones.find((z) => z.origin === origin);
            if (!zone) {
                zone = { origin, records: [] };
                zones.push(zone);
            }
        }
        zone.records.push({ owner, type, text: `${owner} 300 IN ${type} ${rdata}`, lab });
    };
    if (!options.withoutServerPtr) {
        for (const ptr of options.ptrs)
            if (!without.has(`${ptrName(ptr.address)} PTR`))
                add(`${reverseZone(ptr.address)}.`, ptrName(ptr.address), "PTR", fq(ptr.name), false);
    }
    for (const [owner, value] of replaced) {
        if (value !== null) add("", owner, "TXT", (value.match(/.{1,250}/g) ?? [""]).map((part) => `"${part}"`).join(" "), true);
    }
    for (const r of labRecords(options.extraTxt ?? {})) {
        if (r.owner === fq(LAB.mx.name) && ((options.mxFamily === 4 && r.type === "AAAA") || (options.mxFamily === 6 && r.type === "A")))
            continue;
        add(r.zone, r.owner, r.type, r.rdata, true);
    }
    const serial = options.serial ?? Math.floor(Date.now() / 1000);
    return zones.map((z) => ({
        origin: z.origin,
        text:
            `; ${z.origin} as served by the mail lab (SOA/NS and records marked "lab" are the lab's)\n` +
            `$ORIGIN ${z.origin}\n$TTL 300\n` +
            `${z.origin} 300 IN SOA ${fq(LAB.dns.name)} hostmaster.lab.test. ${serial} 3600 600 86400 60\n` +
            `${z.origin} 300 IN NS ${fq(LAB.dns.name)}\n` +
            `${z.records.map((r) => r.text + (r.lab ? " ; lab" : "")).join("\n")}\n`,
    }));
}

function reverseOrigin(owner: string): string | undefined {
    if (owner.endsWith(".in-addr.arpa.")) return owner.split(".").slice(1).join(".");
    if (owner.endsWith(".ip6.arpa.")) return owner.split(".").slice(16).join(".");
    return undefined;
}

/** Writes nsd.conf and the zone files for one NSD instance into `dir`; returns nsd.conf's path. */
export function writeNsd(dir: string, listen: readonly string[], zones: ReadonlyArray<{ origin: string; text: string }>): string {
    mkdirSync(dir, { recursive: true });
    const conf = [
        "server:",
        ...listen.map((address) => `  ip-address: ${address}`),
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
    for (const zone of zones) {
        const file = `${zone.origin.replace(/\.$/, "")}.zone`;
        writeFileSync(join(dir, file), zone.text);
        conf.push("zone:", `  name: "${zone.origin}"`, `  zonefile: "${file}"`);
    }
    const path = join(dir, "nsd.conf");
    writeFileSync(path, `${conf.join("\n")}\n`);
    return path;
}
