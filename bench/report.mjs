// Rows are {suite, case, impl, metric, median, min, max}; higher is better for every metric
// except those in milliseconds or microseconds.

export function printJson(rows) {
  for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
}

const fmt = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/**
 * A table a row per case and impl, and the ratio of each wasmgrad row to the case's peer row. A
 * peer may be several impls: the ratio is then to the fastest of them that worked, named. `also`
 * adds a second ratio column, to another peer.
 */
export function printTable(suite, rows, { peer, also } = {}) {
  const columns = [peer, also].filter(Boolean).map((p) => [p].flat());
  const lines = [["case", "impl", "metric", "median", "min–max", ...columns.map((p) => `× ${p.join(" or ")}`)]];
  const speed = (r) => (lowerIsBetter(r.metric) ? 1 / r.median : r.median);
  const ratio = (r, peers) => {
    if (!r.impl.startsWith("wasmgrad") || r.error) return "";
    const worked = rows.filter((q) => q.case === r.case && peers.includes(q.impl) && q.metric === r.metric && !q.error);
    const p = worked.sort((a, b) => speed(b) - speed(a))[0];
    return p ? `${(speed(r) / speed(p)).toFixed(2)}×${peers.length > 1 ? ` ${p.impl}` : ""}` : "";
  };
  for (const r of rows) {
    const range = r.error ? `error: ${r.error}` : r.min === null ? "–" : `${fmt(r.min)}–${fmt(r.max)}`;
    lines.push([r.case, r.impl, r.metric, r.error ? "failed" : fmt(r.median), range, ...columns.map((p) => ratio(r, p))]);
  }
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => String(l[i]).length)));
  console.log(`\n${suite}`);
  for (const l of lines) console.log(l.map((c, i) => String(c).padEnd(widths[i])).join("  ").trimEnd());
  for (const note of new Set(rows.filter((r) => r.note).map((r) => `${r.impl}: ${r.note}`))) console.log(`  ${note}`);
  // Thread scaling: each "… N threads" row against the one-thread row of its build and case.
  const scaled = rows.filter((r) => / \d+ threads$/.test(r.impl) && !r.error);
  if (scaled.length > 0) console.log(`\n${suite}: thread scaling (N threads ÷ 1 thread, same build, same run)`);
  for (const r of scaled) {
    const one = rows.find((q) => q.case === r.case && q.metric === r.metric && q.impl === r.impl.replace(/ \d+ threads$/, "") && !q.error);
    if (one) console.log(`  ${r.case}  ${r.impl}  ${(lowerIsBetter(r.metric) ? one.median / r.median : r.median / one.median).toFixed(2)}×`);
  }
}

export const lowerIsBetter = (metric) => /^(ms|µs|us)$/.test(metric);
