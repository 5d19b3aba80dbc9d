// One task timed by tinybench, returning latency statistics in milliseconds, and the conversions
// of those latencies into the rows the suites print.
import { Bench } from "tinybench";

/**
 * @param {() => void | Promise<void>} fn  an async function is awaited
 * @param {{ time?: number, iterations?: number, warmup?: boolean, beforeEach?: () => void, afterEach?: () => void }} budget
 *   tinybench runs until both time and iterations are met; beforeEach/afterEach run around every call, untimed
 */
export async function measure(fn, { time = 400, iterations = 10, warmup = true, beforeEach, afterEach } = {}) {
  const bench = new Bench({ time, iterations, warmup, warmupTime: Math.min(time, 200), warmupIterations: Math.min(iterations, 5) });
  bench.add("task", fn, { beforeEach, afterEach });
  await bench.run();
  const result = bench.tasks[0].result;
  if (result.state !== "completed") throw result.error ?? new Error(`benchmark ended ${result.state}`);
  const { p50, min, max } = result.latency;
  return { median: p50, min, max };
}

// Latencies (ms) turned into a row's metric. The slowest run gives the min of a rate, the fastest its max.

/** `count` things done per run → things per second. */
export const perSecond = (count, t) => ({ metric: "samples/s", median: (count / t.median) * 1000, min: (count / t.max) * 1000, max: (count / t.min) * 1000 });

/** `flops` per run → GFLOP/s. */
export const gflops = (flops, t) => ({ metric: "GFLOP/s", median: flops / t.median / 1e6, min: flops / t.max / 1e6, max: flops / t.min / 1e6 });

/**
 * Wraps each function of `table` (an engine's kernels or runners, in place) to add its time (ms)
 * to `spent` and, where `flopsOf[name](args)` says, its floating-point operations to `flops`.
 */
export function timeCalls(table, spent, flopsOf = {}, flops = new Map()) {
  for (const [name, fn] of Object.entries(table)) {
    if (typeof fn !== "function") continue;
    table[name] = (...args) => {
      const started = performance.now();
      const result = fn(...args);
      spent.set(name, (spent.get(name) ?? 0) + performance.now() - started);
      // A runner takes its arguments as one array; a kernel, one by one.
      if (flopsOf[name]) flops.set(name, (flops.get(name) ?? 0) + flopsOf[name](args.length === 1 && Array.isArray(args[0]) ? args[0] : args));
      return result;
    };
  }
}

/** Latency in microseconds. */
export const micros = (t) => ({ metric: "µs", median: t.median * 1000, min: t.min * 1000, max: t.max * 1000 });
