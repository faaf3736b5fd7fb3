/**
 * The pack as the Pulumi CLI runs it: @pulumi/pulumi's run-policy-pack started in policy/, then
 * the engine's AnalyzeStack call over gRPC, with properties marshalled as the engine marshals them
 * (secrets kept as secret values, unknowns as sentinels). No Pulumi CLI needed.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import * as pulumi from "@pulumi/pulumi";
import * as analyzerGrpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzer from "@pulumi/pulumi/proto/analyzer_pb";
import { renderBootstrap } from "../components/host/bootstrap";
import { throwawayEd25519Key } from "../plan/throwawayKey";
import { urnOf } from "./support/policyStack";

const hostKey = throwawayEd25519Key("host");
/** The component's user data: it holds the host's SSH private key. */
const USER_DATA_WITH_KEY = renderBootstrap({
    deployPublicKey: throwawayEd25519Key("deploy").publicKeyOpenssh ?? "",
    hostKey: { privateOpenssh: hostKey.privateKeyOpenssh ?? "", publicOpenssh: hostKey.publicKeyOpenssh ?? "" },
});

const { Struct } = require("google-protobuf/google/protobuf/struct_pb") as { Struct: { fromJavaScript(v: unknown): unknown } };

const ROOT = join(__dirname, "..", "..");
/** How the engine marshals a secret and an unknown value (the SDK's own constants). */
const SECRET_SIG = { [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig };
const UNKNOWN_STRING = pulumi.runtime.unknownValue;
const DROPLET = "digitalocean:index/droplet:Droplet";
const CF = "cloudflare:index/dnsRecord:DnsRecord";

function stackResource(type: string, name: string, props: Record<string, unknown>): analyzer.AnalyzerResource {
    const r = new analyzer.AnalyzerResource();
    r.setType(type);
    r.setName(name);
    r.setUrn(urnOf(type, name));
    r.setProperties(Struct.fromJavaScript(props) as never);
    r.setOptions(new analyzer.AnalyzerResourceOptions());
    return r;
}

describe("policy pack under @pulumi/pulumi's run-policy-pack (the message is the policy's description, a newline, the violation)", () => {
    let pack: ChildProcess;
    let client: analyzerGrpc.AnalyzerClient;

    before(async () => {
        pack = spawn(process.execPath, [join(ROOT, "node_modules/@pulumi/pulumi/cmd/run-policy-pack/index.js"), "127.0.0.1:1", "."], {
            cwd: join(ROOT, "policy"),
            stdio: ["ignore", "pipe", "pipe"],
        });
        const port = await new Promise<string>((resolve, reject) => {
            let out = "";
            let err = "";
            const timer = setTimeout(() => reject(new Error(`no port after 30 s; stderr: ${err}`)), 30_000);
            pack.stderr?.on("data", (d: Buffer) => (err += d.toString()));
            pack.stdout?.on("data", (d: Buffer) => {
                out += d.toString();
                const m = /^(\d+)\n/.exec(out);
                if (m) {
                    clearTimeout(timer);
                    resolve(m[1]);
                }
            });
            pack.on("exit", (code) => reject(new Error(`pack exited ${code}: ${err}`)));
        });
        client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    });

    after(() => {
        client?.close();
        pack?.kill();
    });

    it("answers AnalyzeStack; a secret-marked user data holding a key still reads as plain text, and unknowns do not stop it", async () => {
        const request = new analyzer.AnalyzeStackRequest();
        request.setResourcesList([
            stackResource(DROPLET, "mail-droplet", {
                name: "mail",
                userData: { ...SECRET_SIG, value: USER_DATA_WITH_KEY },
                ipv4Address: UNKNOWN_STRING,
            }),
            stackResource(CF, "mail-mx-example.com", { name: "example.com", type: "MX", content: "mail.example.com", zoneId: "z" }),
            stackResource(CF, "mail-spf-example.com", { name: "example.com", type: "TXT", content: UNKNOWN_STRING, zoneId: "z" }),
        ]);
        const response = await new Promise<analyzer.AnalyzeResponse>((resolve, reject) =>
            client.analyzeStack(request, (e, r) => (e ? reject(e) : resolve(r))),
        );
        const diagnostics = response
            .getDiagnosticsList()
            .map((d) => [d.getPolicyname(), d.getUrn(), d.getEnforcementlevel(), d.getMessage()]);
        const mandatory = analyzer.EnforcementLevel.MANDATORY;
        assert.deepEqual(diagnostics, [
            [
                "mailserver-dmarc-record",
                urnOf(CF, "mail-mx-example.com"),
                mandatory,
                "Every domain with an MX record has a DMARC record (_dmarc.<domain> TXT starting v=DMARC1).\n" +
                    `example.com has an MX record "mail-mx-example.com" (${CF}) but no DMARC record: add a TXT record named _dmarc.example.com with "v=DMARC1; p=quarantine" (p=none at least; Gmail, Yahoo and Outlook require one).`,
            ],
            [
                "mailserver-user-data-secret",
                urnOf(DROPLET, "mail-droplet"),
                mandatory,
                "Droplet and Linode user data holding a private key (PRIVATE KEY, base64 or not) is secret.\n" +
                    `"mail-droplet" (${DROPLET}) has a private key in userData that is not known to be secret: it would show in plain text in previews, pull-request comments and state. Wrap it in pulumi.secret(...) (or compute it from a tls.PrivateKey's privateKeyPem) and declare it with the resource option additionalSecretOutputs: ["userData"], which is what this policy can see.`,
            ],
        ]);
    });
});
