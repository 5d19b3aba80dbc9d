// One task timed by tinybench; returns latency statistics in milliseconds.
import { Bench } from "tinybench";

/**
 * @param {() => void | Promise<void>} fn  an async function is awaited
 * @param {{ time?: number, iterations?: number, warmup?: boolean }} budget  tinybench runs until both are met
 */
export async function measure(fn, { time = 400, iterations = 10, warmup = true } = {}) {
  const bench = new Bench({ time, iterations, warmup, warmupTime: Math.min(time, 200), warmupIterations: Math.min(iterations, 5) });
  bench.add("task", fn);
  await bench.run();
  const result = bench.tasks[0].result;
  if (result.state !== "completed") throw result.error ?? new Error(`benchmark ended ${result.state}`);
  const { p50, min, max } = result.latency;
  return { median: p50, min, max };
}
