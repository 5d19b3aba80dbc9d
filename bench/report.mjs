// Rows are {suite, case, impl, metric, median, min, max}; higher is better for every metric
// except those in milliseconds or microseconds.

export function printJson(rows) {
  for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
}

const fmt = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/** A table a row per case and impl, and the ratio of each wasmgrad row to the case's peer row. */
export function printTable(suite, rows, { peer } = {}) {
  const lines = [["case", "impl", "metric", "median", "min–max", peer ? `× ${peer}` : ""]];
  for (const r of rows) {
    let ratio = "";
    if (peer && r.impl.startsWith("wasmgrad")) {
      const p = rows.find((q) => q.case === r.case && q.impl === peer && q.metric === r.metric);
      if (p) ratio = `${(lowerIsBetter(r.metric) ? p.median / r.median : r.median / p.median).toFixed(2)}×`;
    }
    const range = r.error ? `error: ${r.error}` : r.min === null ? "–" : `${fmt(r.min)}–${fmt(r.max)}`;
    lines.push([r.case, r.impl, r.metric, r.error ? "failed" : fmt(r.median), range, ratio]);
  }
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => String(l[i]).length)));
  console.log(`\n${suite}`);
  for (const l of lines) console.log(l.map((c, i) => String(c).padEnd(widths[i])).join("  ").trimEnd());
}

export const lowerIsBetter = (metric) => /^(ms|µs|us)$/.test(metric);
