import type * as pulumi from "@pulumi/pulumi";

/** The value of an Output (for tests under mocks, where every Output resolves). */
export function outputValue<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((value) => resolve(value)));
}
