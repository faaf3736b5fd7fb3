import { HostProvider } from "./args";

/** Operating-system families whose packages and paths the rendered user data knows. */
export enum ImageFamily {
    Debian12 = "debian12",
    Ubuntu2404 = "ubuntu2404",
}

/** Supported images per provider, first is the default. */
export const IMAGES: Readonly<Record<HostProvider, ReadonlyArray<readonly [image: string, family: ImageFamily]>>> = {
    [HostProvider.DigitalOcean]: [
        ["debian-12-x64", ImageFamily.Debian12],
        ["ubuntu-24-04-x64", ImageFamily.Ubuntu2404],
    ],
    [HostProvider.Linode]: [
        ["linode/debian12", ImageFamily.Debian12],
        ["linode/ubuntu24.04", ImageFamily.Ubuntu2404],
    ],
};

/** Cheapest plan per provider that runs Postfix, OpenDKIM and certbot (512 MB / 1 GB). */
export const DEFAULT_SIZES: Readonly<Record<HostProvider, string>> = {
    [HostProvider.DigitalOcean]: "s-1vcpu-512mb-10gb",
    [HostProvider.Linode]: "g6-nanode-1",
};

export function defaultImage(provider: HostProvider): string {
    return IMAGES[provider][0][0];
}

/** The family of `image` on `provider`, or undefined when the image is not supported. */
export function imageFamily(provider: HostProvider, image: string): ImageFamily | undefined {
    return IMAGES[provider].find(([name]) => name === image)?.[1];
}
