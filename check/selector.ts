import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { DEFAULTS } from "../components/config";
import { parseExtraDomain } from "../components/domains";

/**
 * The DKIM selector of `domain` when run inside the project: the current stack's `dkimSelectors`
 * output (needs the Pulumi CLI and a logged-in backend), else the stack file whose
 * `mailserver:domain` is `domain` (its `mailserver:dkimSelector`, or the component's default) or
 * whose `mailserver:extraDomains` has it (its entry's `selector=`, or the default).
 */
export function selectorFromProject(projectDir: string, domain: string): { selector: string; source: string } | undefined {
    if (!existsSync(join(projectDir, "Pulumi.yaml"))) return undefined;
    const pulumi = spawnSync("pulumi", ["stack", "output", "--json", "--cwd", projectDir], { encoding: "utf8", timeout: 15_000 });
    if (pulumi.status === 0) {
        try {
            const outputs = JSON.parse(pulumi.stdout) as { domain?: string; dkimSelector?: string; dkimSelectors?: Record<string, string> };
            const selector = outputs.dkimSelectors?.[domain];
            if (selector) return { selector, source: "the stack's dkimSelectors output" };
            if (outputs.domain === domain && outputs.dkimSelector)
                return { selector: outputs.dkimSelector, source: "the stack's dkimSelector output" };
        } catch {
            // not JSON: fall through to the stack files
        }
    }
    const stacksDir = join(projectDir, "stacks");
    if (!existsSync(stacksDir)) return undefined;
    for (const file of readdirSync(stacksDir)
        .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
        .sort()) {
        const config = ((parse(readFileSync(join(stacksDir, file), "utf8")) ?? {}) as { config?: Record<string, unknown> }).config ?? {};
        if (config["mailserver:domain"] === domain) {
            const selector =
                typeof config["mailserver:dkimSelector"] === "string" ? config["mailserver:dkimSelector"] : DEFAULTS.dkimSelector;
            return { selector, source: `stacks/${file}` };
        }
        const extras = Array.isArray(config["mailserver:extraDomains"]) ? (config["mailserver:extraDomains"] as unknown[]) : [];
        for (const entry of extras) {
            const parsed = typeof entry === "string" ? parseExtraDomain(entry, DEFAULTS.dkimSelector) : undefined;
            if (parsed && "value" in parsed && parsed.value.name === domain)
                return { selector: parsed.value.dkimSelector, source: `stacks/${file} (extraDomains)` };
        }
    }
    return undefined;
}
