import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { spread, spreadCell } from "../bench/stats";

describe("benchmark statistics", () => {
    it("min / median / max of an odd and an even sample, in any order", () => {
        assert.deepEqual(spread([30.04, 10, 20]), { min: 10, median: 20, max: 30 });
        assert.deepEqual(spread([4, 1, 3, 2]), { min: 1, median: 2.5, max: 4 });
    });
    it("a table cell: median (min–max)", () => {
        assert.equal(spreadCell([1200.4, 1100, 1300]), "1200 (1100–1300)");
        assert.equal(spreadCell([0.25, 0.5, 0.75], 1), "0.5 (0.3–0.8)");
    });
    it("refuses an empty sample", () => assert.throws(() => spread([]), /no samples/));
});
