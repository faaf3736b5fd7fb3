/** The package root: `import { MailServer } from "mailserver"`. */
export { BackupSchedule, DmarcAlignment, DmarcPolicy, HostProvider, type MailServerArgs, SpfAll } from "./args";
export { MailServerArgumentError } from "./errors";
export { MAILSERVER_TYPE, MailServer } from "./mailServer";
export type { DnsRecord } from "./records/recordSet";
export type { PtrRecord } from "./records/zoneFile";
