/**
 * `npm run bench`: wall time of the offline plan for 1, 10 and 50 MailServers in one program,
 * against a bare Pulumi program with no resources, measured in the same run. Each run is a fresh
 * process (the Pulumi runtime is global); the median of RUNS is shown. DKIM keys are generated
 * once per process: key generation is the mock's cost, not the component's.
 */
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
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

function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
}

const rows = SCENARIOS.map((servers) => {
    const samples = Array.from({ length: RUNS }, () => sample(servers));
    return {
        servers,
        resources: samples[0].resources,
        ms: median(samples.map((s) => s.ms)),
        processMs: median(samples.map((s) => s.processMs)),
        rssMb: median(samples.map((s) => s.maxRssKb)) / 1024,
    };
});
const bare = rows[0];
const header = ["program", "resources", "plan ms", "× bare", "ms / server (over bare)", "process ms", "process × bare", "peak RSS MB"];
const table = rows.map((r) => [
    r.servers === 0 ? "bare (no resources)" : `${r.servers} MailServer${r.servers > 1 ? "s" : ""}`,
    String(r.resources),
    r.ms.toFixed(0),
    (r.ms / bare.ms).toFixed(2),
    r.servers === 0 ? "-" : ((r.ms - bare.ms) / r.servers).toFixed(1),
    r.processMs.toFixed(0),
    (r.processMs / bare.processMs).toFixed(2),
    r.rssMb.toFixed(0),
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
console.log(`Offline plan, median of ${RUNS} runs per row, node ${process.version}, ${cpus().length} cores.`);
console.log("plan ms: setMocks → all resources registered; process ms: whole child process incl. module loading.");
console.log(line(header));
console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
for (const row of table) console.log(line(row));
