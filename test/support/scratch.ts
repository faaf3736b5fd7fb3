/** Scratch folders for tests, removed when the test process exits (passing or failing). */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const made: string[] = [];
process.on("exit", () => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A new empty folder under the system's temporary folder, named `<prefix>XXXXXX`. */
export function scratchDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    made.push(dir);
    return dir;
}
