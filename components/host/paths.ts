/** Paths on the host, shared by the rendered files that refer to each other. */
export const PATHS = {
    /** Symlinks Postfix reads; they point at the snakeoil pair until certbot succeeds. */
    tlsCert: "/etc/mailserver/tls/fullchain.pem",
    tlsKey: "/etc/mailserver/tls/privkey.pem",
    snakeoilCert: "/etc/ssl/certs/ssl-cert-snakeoil.pem",
    snakeoilKey: "/etc/ssl/private/ssl-cert-snakeoil.key",
    acmeCaBundle: "/etc/mailserver/acme-ca.pem",
    certScript: "/usr/local/sbin/mailserver-cert",
    certUnit: "mailserver-cert",
    deployHook: "/etc/letsencrypt/renewal-hooks/deploy/mailserver-postfix",
    virtualMap: "/etc/postfix/virtual",
    opendkimDir: "/etc/opendkim",
    opendkimConf: "/etc/opendkim.conf",
} as const;

/** OpenDKIM's milter socket, shared by opendkim.conf and Postfix. */
export const DKIM_MILTER = { host: "127.0.0.1", port: 8891 } as const;

export function dkimKeyPath(selector: string): string {
    return `${PATHS.opendkimDir}/keys/${selector}.private`;
}
