/**
 * The program: one MailServer from the stack's config (stacks/Pulumi.<stack>.yaml), its outputs
 * exported. `pulumi up` runs this file; so does the offline plan (`npm start`), under mocks.
 */
import { MailServer } from "./components";
import { argsFromConfig } from "./components/programConfig";

const server = new MailServer("mail", argsFromConfig());

export const domain = server.domain;
export const fqdn = server.fqdn;
export const ipv4 = server.ipv4;
export const ipv6 = server.ipv6;
export const dnsRecords = server.dnsRecords;
export const ptrRecords = server.ptrRecords;
export const dkimSelector = server.dkimSelector;
export const dkimSelectors = server.dkimSelectors;
export const dkimRecord = server.dkimRecord;
export const operatorSteps = server.operatorSteps;
export const applied = server.applied;
/** Secret: `pulumi stack output --show-secrets mailboxPasswords`. */
export const mailboxPasswords = server.mailboxPasswords;
/** Secret: `pulumi stack output --show-secrets appPasswords`. */
export const appPasswords = server.appPasswords;
