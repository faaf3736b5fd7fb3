/** A bad argument of MailServer: the message names the argument and says what is allowed. */
export class MailServerArgumentError extends Error {
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
