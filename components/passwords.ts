/**
 * Mailbox passwords as the host stores them: Argon2id, in Dovecot's passwd-file form. Computed
 * here, so no password ever reaches the host or the bundle; the salt is derived from the login
 * and the password, so an unchanged password gives an unchanged hash and an unchanged bundle
 * (a random salt would make the configuration step run on every `pulumi up`). The salt still
 * differs per login and per password: nothing can be precomputed across users.
 */
import { createHmac } from "node:crypto";
import { argon2id } from "hash-wasm";
import { ARGON2 } from "./host/dovecot";

/** Length of a generated password: letters and digits only (no quoting trouble in any client), ≈ 142 bits. */
export const GENERATED_PASSWORD_LENGTH = 24;

const SALT_CONTEXT = "mailserver/dovecot-salt/v1\0";

/** The passwd-file password field of `login`: `{ARGON2ID}$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`. */
export async function dovecotPasswordHash(login: string, password: string): Promise<string> {
    const salt = createHmac("sha256", password)
        .update(SALT_CONTEXT + login)
        .digest()
        .subarray(0, 16);
    const encoded = await argon2id({ password, salt, ...ARGON2, outputType: "encoded" });
    return `{ARGON2ID}${encoded}`;
}

/** Each mailbox's hash, by address. */
export async function passwordHashes(passwords: Readonly<Record<string, string>>): Promise<Record<string, string>> {
    const entries = await Promise.all(
        Object.entries(passwords).map(async ([login, password]) => [login, await dovecotPasswordHash(login, password)] as const),
    );
    return Object.fromEntries(entries);
}
