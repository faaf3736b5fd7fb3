/** Who may reach an inbound port. */
export enum PortSource {
    Anywhere = "anywhere",
    /** The ranges `pulumi up` connects from (`deployFromCidrs`) and the admin's (`sshAllowedCidrs`). */
    Ssh = "ssh",
}

export interface InboundPort {
    /** Service name (/etc/services); for smtp also the Postfix master.cf service. */
    readonly service: string;
    readonly protocol: "tcp" | "icmp";
    /** Undefined for ICMP. */
    readonly port: number | undefined;
    readonly from: PortSource;
    readonly purpose: string;
    /** Open only when the server has mailboxes. */
    readonly mailboxesOnly?: boolean;
}

/**
 * Everything the host accepts from outside: the single source for the cloud firewalls, the
 * Postfix listener and certbot's http-01 port. Nothing else is open.
 */
export const INBOUND_PORTS: readonly InboundPort[] = [
    { service: "smtp", protocol: "tcp", port: 25, from: PortSource.Anywhere, purpose: "inbound mail (MX) for the domain" },
    { service: "http", protocol: "tcp", port: 80, from: PortSource.Anywhere, purpose: "ACME http-01 validation (certbot --standalone)" },
    {
        service: "ssh",
        protocol: "tcp",
        port: 22,
        from: PortSource.Ssh,
        purpose: "configuration by pulumi up (forced command) and the admin's login",
    },
    { service: "icmp", protocol: "icmp", port: undefined, from: PortSource.Anywhere, purpose: "path-MTU discovery and ping" },
    {
        service: "submission",
        protocol: "tcp",
        port: 587,
        from: PortSource.Anywhere,
        purpose: "mail from clients and applications: STARTTLS, then AUTH",
        mailboxesOnly: true,
    },
    {
        service: "submissions",
        protocol: "tcp",
        port: 465,
        from: PortSource.Anywhere,
        purpose: "mail from clients and applications over implicit TLS (RFC 8314), then AUTH",
        mailboxesOnly: true,
    },
    {
        service: "imaps",
        protocol: "tcp",
        port: 993,
        from: PortSource.Anywhere,
        purpose: "reading mail over IMAP, implicit TLS (RFC 8314)",
        mailboxesOnly: true,
    },
    {
        service: "imap",
        protocol: "tcp",
        port: 143,
        from: PortSource.Anywhere,
        purpose: "reading mail over IMAP after STARTTLS (no login before it)",
        mailboxesOnly: true,
    },
];

export const ANYWHERE = { ipv4: ["0.0.0.0/0"], ipv6: ["::/0"] } as const;

export interface FirewallRule {
    readonly service: string;
    readonly protocol: "tcp" | "icmp";
    readonly port: number | undefined;
    readonly ipv4: readonly string[];
    readonly ipv6: readonly string[];
    readonly purpose: string;
}

type Ranges = { readonly ipv4: readonly string[]; readonly ipv6: readonly string[] };

/** Both lists of ranges, each range once, in order. */
function union(a: Ranges, b: Ranges): Ranges {
    return { ipv4: [...new Set([...a.ipv4, ...b.ipv4])], ipv6: [...new Set([...a.ipv6, ...b.ipv6])] };
}

/** The inbound firewall rules; a port whose source list is empty is left closed. */
export function inboundRules(sources: {
    readonly deployFrom: Ranges;
    readonly sshAllowed: Ranges;
    readonly host: { readonly mail: { readonly mailboxes: readonly unknown[] } };
}): FirewallRule[] {
    const ports = INBOUND_PORTS.filter((p) => !p.mailboxesOnly || sources.host.mail.mailboxes.length > 0);
    return ports
        .map((p) => ({
            service: p.service,
            protocol: p.protocol,
            port: p.port,
            purpose: p.purpose,
            ...(p.from === PortSource.Anywhere ? ANYWHERE : union(sources.deployFrom, sources.sshAllowed)),
        }))
        .filter((r) => r.ipv4.length + r.ipv6.length > 0);
}

/** The port of a TCP service in the table. */
export function tcpPort(service: "smtp" | "http" | "ssh" | "submission" | "submissions" | "imap" | "imaps"): number {
    const entry = INBOUND_PORTS.find((p) => p.service === service && p.protocol === "tcp");
    if (!entry?.port) throw new Error(`no TCP port for ${service}`);
    return entry.port;
}
