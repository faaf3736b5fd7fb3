import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import type { ZoneRef } from "../domains";
import { MailServerArgumentError } from "../errors";
import type { LiveValues, RecordSpec } from "../records/recordSet";

/**
 * The zone's id: given, or looked up by name at preview. A filtered lookup's `id` is not
 * guaranteed to be the zone's id (terraform-provider-cloudflare #5245, #6111); `zoneId` is.
 */
export function cloudflareZoneId(zone: ZoneRef, parent: pulumi.Resource, argument: string): pulumi.Output<string> {
    if ("id" in zone) return pulumi.output(zone.id);
    return cloudflare.getZoneOutput({ filter: { name: zone.name } }, { parent }).apply((z) => {
        if (!z.zoneId) throw new MailServerArgumentError(argument, `Cloudflare found no zone named "${zone.name}"`);
        return z.zoneId;
    });
}

export interface DnsInput {
    readonly name: string;
    /** Zone ids by RecordSpec.zone. */
    readonly zoneIds: ReadonlyMap<string, pulumi.Output<string>>;
    readonly specs: readonly RecordSpec[];
    readonly live: pulumi.Output<LiveValues>;
    readonly parent: pulumi.Resource;
    readonly dependsOn?: pulumi.Resource[];
}

/**
 * One cloudflare.DnsRecord per record spec: full FQDN names (relative names drift), never
 * proxied (Cloudflare's proxy does not carry SMTP), TXT pre-chunked.
 */
export function cloudflareRecords(input: DnsInput): Map<string, cloudflare.DnsRecord> {
    const records = new Map<string, cloudflare.DnsRecord>();
    for (const spec of input.specs) {
        const zoneId = input.zoneIds.get(spec.zone);
        if (!zoneId) throw new Error(`no zone id for ${spec.zone}`);
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
                { parent: input.parent, dependsOn: input.dependsOn ?? [] },
            ),
        );
    }
    return records;
}
