import * as ipaddr from "ipaddr.js";

/** The reverse-DNS owner name of an address: `10.2.0.192.in-addr.arpa` or the ip6.arpa nibble form. */
export function reverseName(address: string): string {
    const ip = ipaddr.parse(address);
    if (ip.kind() === "ipv4") return `${ip.toByteArray().reverse().join(".")}.in-addr.arpa`;
    const nibbles = ip
        .toByteArray()
        .flatMap((b) => [b >> 4, b & 15])
        .map((n) => n.toString(16));
    return `${nibbles.reverse().join(".")}.ip6.arpa`;
}

/** The reverse zone a provider typically delegates: the /24 of an IPv4 address, the /64 of an IPv6 one. */
export function reverseZone(address: string): string {
    const name = reverseName(address);
    const labels = name.split(".");
    // IPv4: drop the host octet; IPv6: drop the 16 interface-identifier nibbles.
    return labels.slice(ipaddr.parse(address).kind() === "ipv4" ? 1 : 16).join(".");
}
