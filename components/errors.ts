import * as pulumi from "@pulumi/pulumi";

/**
 * A bad argument of MailServer: the message names the argument and says what is allowed. A
 * pulumi.RunError, so `pulumi preview` prints the message alone, without a stack trace.
 */
export class MailServerArgumentError extends pulumi.RunError {
    constructor(
        readonly argument: string,
        readonly problem: string,
        /** The MailServer's resource name, when known. */
        readonly resourceName?: string,
    ) {
        super(`${resourceName !== undefined ? `MailServer "${resourceName}": ` : ""}${argument}: ${problem}`);
        this.name = "MailServerArgumentError";
    }
}
