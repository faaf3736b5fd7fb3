/**
 * The policy pack's entry point, loaded by the Pulumi CLI (`pulumi preview --policy-pack policy`)
 * through policy/package.json's `main`. Importing it starts the pack's gRPC server: tests import
 * `./packArgs` and `./policies` instead.
 */
import { PolicyPack } from "@pulumi/policy";
import { POLICY_PACK_ARGS, POLICY_PACK_NAME } from "./packArgs";

new PolicyPack(POLICY_PACK_NAME, POLICY_PACK_ARGS);
