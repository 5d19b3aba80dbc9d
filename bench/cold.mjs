// Cold-start suite: whole processes, started one after another — bare `node` against a process
// that imports wasmgrad, runs init(), builds a 784→10 network and predicts once
// (bench/cold-start-job.mjs) — interleaved so that both see the same machine; medians of wall
// time and peak RSS over 20 pairs, and the difference.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const describe = () => ({ peer: null });
const RUNS = 20;
const job = fileURLToPath(new URL("./cold-start-job.mjs", import.meta.url));
const bare = ["-e", "console.log(process.resourceUsage().maxRSS)"];

function once(args) {
  const started = performance.now();
  const child = spawnSync(process.execPath, args, { encoding: "utf8" });
  const ms = performance.now() - started;
  if (child.status !== 0) throw new Error(`cold start failed: ${child.stderr}`);
  return { ms, rssMiB: Number(child.stdout.trim()) / 1024 };
}

const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
const stats = (v) => ({ median: median(v), min: Math.min(...v), max: Math.max(...v) });

export async function* run(log) {
  log(`cold: ${RUNS} pairs of processes`);
  once(bare), once([job]); // warm the file cache
  const runs = { bare: [], wasmgrad: [] };
  for (let i = 0; i < RUNS; i++) runs.bare.push(once(bare)), runs.wasmgrad.push(once([job]));
  for (const [impl, r] of Object.entries(runs)) {
    yield { suite: "cold", case: "process wall time", impl, metric: "ms", ...stats(r.map((x) => x.ms)) };
    yield { suite: "cold", case: "process peak RSS", impl, metric: "MiB", ...stats(r.map((x) => x.rssMiB)) };
  }
  const extra = runs.wasmgrad.map((x, i) => x.ms - runs.bare[i].ms);
  const extraRss = runs.wasmgrad.map((x, i) => x.rssMiB - runs.bare[i].rssMiB);
  yield { suite: "cold", case: "wasmgrad over bare node, wall time", impl: "wasmgrad", metric: "ms", ...stats(extra) };
  yield { suite: "cold", case: "wasmgrad over bare node, peak RSS", impl: "wasmgrad", metric: "MiB", ...stats(extraRss) };
}
