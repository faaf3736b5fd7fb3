/** min / median / max of a sample, to one decimal: how every benchmark of the repository reports. */
export function spread(samples: readonly number[]): { min: number; median: number; max: number } {
    if (samples.length === 0) throw new Error("no samples");
    const sorted = [...samples].sort((a, b) => a - b);
    const mid = sorted.length / 2;
    const median = sorted.length % 2 ? sorted[Math.floor(mid)] : (sorted[mid - 1] + sorted[mid]) / 2;
    const round = (n: number) => Math.round(n * 10) / 10;
    return { min: round(sorted[0]), median: round(median), max: round(sorted[sorted.length - 1]) };
}

/** "median (min–max)" for a table cell, with `digits` decimals. */
export function spreadCell(samples: readonly number[], digits = 0): string {
    const { min, median, max } = spread(samples);
    return `${median.toFixed(digits)} (${min.toFixed(digits)}–${max.toFixed(digits)})`;
}
