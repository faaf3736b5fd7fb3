import { HostProvider, type MailServerArgs } from "../../components";

/** An admin key that decodes as ed25519 (32 zero bytes): valid input, never a usable key. */
export const ADMIN_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA ops@example.net";

/** The arguments the host-file tests start from: DigitalOcean, an admin key and two ranges. */
export const HOST_ARGS: MailServerArgs = {
    domain: "example.com",
    operatorEmail: "ops@example.net",
    provider: HostProvider.DigitalOcean,
    region: "fra1",
    sshPublicKeys: [ADMIN_KEY],
    sshAllowedCidrs: ["203.0.113.0/24", "2001:db8:ffff::/48"],
};
