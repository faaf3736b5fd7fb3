import type { StackValidationPolicy } from "@pulumi/policy";
import { fromPolicyResource, type StackResource, type Violation } from "./stackResource";

/** A mandatory mail policy: its name, what it requires, and its pure check over the whole stack. */
export interface MailPolicy {
    /** Policy name, as shown in previews (`mailserver-…`). */
    readonly name: string;
    /** One sentence: what it requires. */
    readonly description: string;
    /** The violations among all resources of the stack; none when it holds. */
    readonly check: (resources: readonly StackResource[]) => Violation[];
}

/** A mail policy as a mandatory stack validation for @pulumi/policy: each violation reported against its resource. */
export function stackPolicy(policy: MailPolicy): StackValidationPolicy {
    return {
        name: policy.name,
        description: policy.description,
        enforcementLevel: "mandatory",
        validateStack: (args, reportViolation) => {
            for (const violation of policy.check(args.resources.map(fromPolicyResource))) {
                reportViolation(violation.message, violation.urn);
            }
        },
    };
}
