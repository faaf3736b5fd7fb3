import type { MailPolicy } from "../mailPolicy";
import { dkimStringsPolicy } from "./dkimStrings";
import { dmarcRecordPolicy } from "./dmarcRecord";
import { dropletFqdnNamePolicy } from "./dropletFqdnName";
import { linodeRdnsPolicy } from "./linodeRdns";
import { mailHostNotProxiedPolicy } from "./mailHostNotProxied";
import { spfRecordPolicy } from "./spfRecord";
import { userDataSecretPolicy } from "./userDataSecret";

export {
    dkimStringsPolicy,
    dmarcRecordPolicy,
    dropletFqdnNamePolicy,
    linodeRdnsPolicy,
    mailHostNotProxiedPolicy,
    spfRecordPolicy,
    userDataSecretPolicy,
};

/** Every policy of the pack, in the order previews list them. */
export const MAIL_POLICIES: readonly MailPolicy[] = [
    spfRecordPolicy,
    dmarcRecordPolicy,
    dkimStringsPolicy,
    mailHostNotProxiedPolicy,
    dropletFqdnNamePolicy,
    linodeRdnsPolicy,
    userDataSecretPolicy,
];
