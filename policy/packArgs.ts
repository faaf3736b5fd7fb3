import type { PolicyPackArgs } from "@pulumi/policy";
import { stackPolicy } from "./mailPolicy";
import { MAIL_POLICIES } from "./policies";

/** The pack's name, as previews print it (`mailserver@v0.1.0`). */
export const POLICY_PACK_NAME = "mailserver";

/** The pack's arguments: every mail policy as a mandatory stack validation over all resources. */
export const POLICY_PACK_ARGS: PolicyPackArgs = {
    description: "Rules receivers such as Gmail apply to a mail server's DNS and hosts, checked on every resource of the stack.",
    enforcementLevel: "mandatory",
    policies: MAIL_POLICIES.map(stackPolicy),
};
