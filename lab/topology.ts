// Fixed lab addresses (documentation ranges only; see lab/netns.sh, which must agree).
export const LAB = {
    server: { name: "mail.example.com.", v4: "192.0.2.10", v6: "2001:db8::10", domain: "example.com" },
    ns: { name: "ns.lab.test.", v4: "192.0.2.53", v6: "2001:db8::53" },
    nsNoPtr: { v4: "192.0.2.54", v6: "2001:db8::54" },
    mx: { name: "mx.example.net.", v4: "192.0.2.20", v6: "2001:db8::20", netns: "mlab-mx" },
    client: { name: "client.example.org.", v4: "192.0.2.30", v6: "2001:db8::30", netns: "mlab-client" },
    acme: { name: "acme.lab.test.", v4: "192.0.2.40", v6: "2001:db8::40", netns: "mlab-acme" },
    dnsNetns: "mlab-dns",
    hubNetns: "mlab-hub",
    bridge: "br0",
    operator: "ops@example.net",
} as const;
