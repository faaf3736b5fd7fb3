/**
 * `npm run bench`: wall time of the offline plan for 1, 10 and 50 MailServers in one program,
 * against a bare Pulumi program with no resources, measured in the same run. Each sample is a
 * fresh process (the Pulumi runtime is global); the scenarios alternate round by round, so drift
 * of the machine hits every row alike; median (min–max) of the rounds. DKIM keys are generated
 * once per process: key generation is the mock's cost, not the component's.
 *
 *   node dist/bench/plan.js [--runs 5]
 */
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { spread, spreadCell } from "./stats";

const { values } = parseArgs({ options: { runs: { type: "string", default: "5" } } });
const RUNS = Number(values.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs: "${values.runs}" is not a whole number from 1 up`);
const SCENARIOS = [0, 1, 10, 50];

interface Sample {
    resources: number;
    ms: number;
    processMs: number;
    maxRssKb: number;
}

function sample(servers: number): Sample {
    const started = performance.now();
    const child = spawnSync(process.execPath, [join(__dirname, "planChild.js"), String(servers)], { encoding: "utf8" });
    const processMs = performance.now() - started;
    if (child.status !== 0) throw new Error(`bench child failed: ${child.stderr}`);
    const result = JSON.parse(child.stdout.trim().split("\n").pop() as string) as Omit<Sample, "processMs">;
    return { ...result, processMs };
}

const samples = new Map<number, Sample[]>(SCENARIOS.map((s) => [s, []]));
for (let round = 0; round < RUNS; round++) for (const servers of SCENARIOS) samples.get(servers)?.push(sample(servers));

const of = (servers: number) => samples.get(servers) ?? [];
const bareMs = spread(of(0).map((s) => s.ms)).median;
const bareProcessMs = spread(of(0).map((s) => s.processMs)).median;
const header = ["program", "resources", "plan ms", "× bare", "ms / server (over bare)", "process ms", "process × bare", "peak RSS MB"];
const table = SCENARIOS.map((servers) => {
    const list = of(servers);
    const ms = spread(list.map((s) => s.ms)).median;
    const processMs = spread(list.map((s) => s.processMs)).median;
    return [
        servers === 0 ? "bare (no resources)" : `${servers} MailServer${servers > 1 ? "s" : ""}`,
        String(list[0].resources),
        spreadCell(list.map((s) => s.ms)),
        (ms / bareMs).toFixed(2),
        servers === 0 ? "-" : ((ms - bareMs) / servers).toFixed(1),
        spreadCell(list.map((s) => s.processMs)),
        (processMs / bareProcessMs).toFixed(2),
        spreadCell(list.map((s) => s.maxRssKb / 1024)),
    ];
});
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
console.log(
    `Offline plan, ${RUNS} alternating rounds, median (min–max); ratios of the medians; node ${process.version}, ${cpus().length} cores.`,
);
console.log("plan ms: setMocks → all resources registered; process ms: whole child process incl. module loading.");
console.log(line(header));
console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
for (const row of table) console.log(line(row));
