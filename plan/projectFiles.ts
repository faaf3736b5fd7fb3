/**
 * Pulumi.yaml's `config:` block and the README's table of config keys, both rendered from the one
 * table in components/programConfig.ts. `npm run sync` writes them; test/project.test.ts fails when
 * either file differs from what the table renders.
 *
 *   node dist/plan/projectFiles.js [--check]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { Document, isMap, parseDocument } from "yaml";
import { CONFIG_KEYS, pulumiYamlConfig } from "../components/programConfig";

export const README_TABLE_BEGIN = "<!-- config-keys: rendered from components/programConfig.ts by `npm run sync` -->";
export const README_TABLE_END = "<!-- /config-keys -->";

/** Pulumi.yaml with its `config:` block replaced by the table's (everything else kept as written). */
export function renderPulumiYaml(current: string): string {
    const doc = parseDocument(current);
    const config = new Document(pulumiYamlConfig()).contents;
    if (!isMap(doc.contents)) throw new Error("Pulumi.yaml is not a mapping");
    doc.set("config", config);
    return doc.toString({ lineWidth: 0 });
}

function markdownCell(value: string): string {
    return value.replace(/\|/g, "\\|");
}

function defaultCell(key: keyof typeof CONFIG_KEYS): string {
    const spec = CONFIG_KEYS[key];
    if (spec.default === undefined) return "required";
    if (spec.defaultText !== undefined) return spec.defaultText;
    if (Array.isArray(spec.default)) return spec.default.length === 0 ? "`[]`" : `\`${JSON.stringify(spec.default)}\``;
    return `\`${String(spec.default)}\``;
}

/** What changing a key on a running stack does, as the README says it. */
function changeCell(key: keyof typeof CONFIG_KEYS): string {
    const spec = CONFIG_KEYS[key];
    const kind =
        spec.change === "dns-only"
            ? "DNS only"
            : spec.change === "new-host"
              ? "new host: refused unless `hostGeneration` is raised"
              : spec.onHost
                ? "in place: the host is reconfigured"
                : "in place";
    return spec.changeNote ? `${kind} (${spec.changeNote})` : kind;
}

/** The README's table of keys: key, type, default, meaning, what a change does. */
export function renderConfigTable(): string {
    const rows = (Object.keys(CONFIG_KEYS) as Array<keyof typeof CONFIG_KEYS>).map((key) => {
        const spec = CONFIG_KEYS[key];
        const type = spec.type === "array" ? "list of strings" : spec.type;
        return `| \`${key}\` | ${type} | ${markdownCell(defaultCell(key))} | ${markdownCell(spec.description)} | ${markdownCell(changeCell(key))} |`;
    });
    return ["| key | type | default | meaning | changing it later |", "|---|---|---|---|---|", ...rows].join("\n");
}

/** The README with the text between the markers replaced by the rendered table. */
export function renderReadme(current: string): string {
    const begin = current.indexOf(README_TABLE_BEGIN);
    const end = current.indexOf(README_TABLE_END);
    if (begin < 0 || end < begin) throw new Error(`README.md lacks the markers ${README_TABLE_BEGIN} … ${README_TABLE_END}`);
    return `${current.slice(0, begin + README_TABLE_BEGIN.length)}\n${renderConfigTable()}\n${current.slice(end)}`;
}

function main(): number {
    const { values } = parseArgs({ options: { check: { type: "boolean", default: false } } });
    const root = resolve(__dirname, "..", "..");
    let stale = 0;
    for (const [file, render] of [
        ["Pulumi.yaml", renderPulumiYaml],
        ["README.md", renderReadme],
    ] as const) {
        const path = join(root, file);
        const current = readFileSync(path, "utf8");
        const wanted = render(current);
        if (current === wanted) continue;
        stale++;
        if (values.check) console.error(`${file} differs from components/programConfig.ts: run npm run sync`);
        else writeFileSync(path, wanted);
    }
    return values.check && stale > 0 ? 1 : 0;
}

if (require.main === module) process.exit(main());
