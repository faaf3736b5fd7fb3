// The mail lab as part of `npm test`: runs only as root on Linux (LAB=0 skips it).
//   node --test dist/lab/      (unit tests of the lab always; the lab itself when root)
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const skip =
    process.platform !== "linux" || process.getuid?.() !== 0
        ? "the mail lab needs Linux and root"
        : process.env.LAB === "0"
          ? "LAB=0"
          : false;

for (const stack of (process.env.LAB_STACKS ?? "do-example,linode-example").split(",")) {
    test(`mail lab: ${stack} (boot the user data offline, grade its mail, faults)`, { skip, timeout: 45 * 60 * 1000 }, () => {
        const r = spawnSync(process.execPath, [join(__dirname, "run.js"), "--stack", stack], { stdio: ["ignore", 2, 2] });
        assert.equal(r.status, 0, `lab failed for ${stack}: see out/lab/${stack}/report.json`);
    });
}
