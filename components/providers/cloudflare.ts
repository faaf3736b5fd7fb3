import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import type { MailServerConfig } from "../config";
import type { LiveValues, RecordSpec } from "../records/recordSet";

export interface DnsInput {
    readonly name: string;
    readonly zone: MailServerConfig["zone"];
    readonly specs: readonly RecordSpec[];
    readonly live: pulumi.Output<LiveValues>;
    readonly parent: pulumi.Resource;
}

/**
 * One cloudflare.DnsRecord per record spec: full FQDN names (relative names drift), never
 * proxied (Cloudflare's proxy does not carry SMTP), TXT pre-chunked.
 */
export function cloudflareRecords(input: DnsInput): Map<string, cloudflare.DnsRecord> {
    const zoneId =
        "id" in input.zone
            ? pulumi.output(input.zone.id)
            : cloudflare.getZoneOutput({ filter: { name: input.zone.name } }, { parent: input.parent }).apply((z) => z.id);
    const records = new Map<string, cloudflare.DnsRecord>();
    for (const spec of input.specs) {
        records.set(
            spec.key,
            new cloudflare.DnsRecord(
                `${input.name}-${spec.key}`,
                {
                    zoneId,
                    name: spec.name,
                    type: spec.type,
                    ttl: spec.ttl,
                    content: input.live.apply(spec.value),
                    ...(spec.priority !== undefined ? { priority: spec.priority } : {}),
                    proxied: false,
                    comment: `mailserver: ${spec.purpose}`.slice(0, 100),
                },
                { parent: input.parent },
            ),
        );
    }
    return records;
}
