import { HostProvider } from "./args";

/**
 * Operating-system families whose packages and paths the rendered host files know. Only what the
 * mail lab boots is offered: Debian 13 (trixie), current stable. Debian 12 is oldstable (its
 * regular security support ended in June 2026) and Ubuntu's archive is out of the lab's reach.
 */
export enum ImageFamily {
    Debian13 = "debian13",
}

/**
 * Supported images per provider, first is the default. Slugs: DigitalOcean's image list
 * (`debian-13-x64`), Linode's acceptance tests (`linode/debian13`).
 */
export const IMAGES: Readonly<Record<HostProvider, ReadonlyArray<readonly [image: string, family: ImageFamily]>>> = {
    [HostProvider.DigitalOcean]: [["debian-13-x64", ImageFamily.Debian13]],
    [HostProvider.Linode]: [["linode/debian13", ImageFamily.Debian13]],
};

/** Cheapest plan per provider that runs Postfix, OpenDKIM and certbot (512 MB / 1 GB). */
export const DEFAULT_SIZES: Readonly<Record<HostProvider, string>> = {
    [HostProvider.DigitalOcean]: "s-1vcpu-512mb-10gb",
    [HostProvider.Linode]: "g6-nanode-1",
};

/**
 * The default plans with mailboxes: 1 GB of memory and 25 GB of disk. Dovecot, a few IMAP
 * sessions, an Argon2 check (19 MiB) and an unattended upgrade do not fit beside Postfix in
 * 512 MB without swap, and mail needs the disk. Linode's smallest plan already is 1 GB.
 */
export const MAILBOX_SIZES: Readonly<Record<HostProvider, string>> = {
    [HostProvider.DigitalOcean]: "s-1vcpu-1gb",
    [HostProvider.Linode]: "g6-nanode-1",
};

export function defaultImage(provider: HostProvider): string {
    return IMAGES[provider][0][0];
}

/** The family of `image` on `provider`, or undefined when the image is not supported. */
export function imageFamily(provider: HostProvider, image: string): ImageFamily | undefined {
    return IMAGES[provider].find(([name]) => name === image)?.[1];
}
