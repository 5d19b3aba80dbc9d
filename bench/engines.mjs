// The wasmgrad builds every suite compares: baseline SIMD always, relaxed SIMD where the host runs
// it; with `--threads N` (N > 1) each build also with N threads, named "… N threads", so the
// table shows thread scaling beside the one-thread rows of the same run. (init's default is
// "auto": the one-thread engines ask for one.)
import { detectFeatures, init } from "../dist/index.js";

export function threadsAsked() {
  const at = process.argv.indexOf("--threads");
  const n = at < 0 ? 1 : Number(process.argv[at + 1]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--threads takes a whole number ≥ 1, got ${process.argv[at + 1]}`);
  return n;
}

/** [[impl name, engine], …], one engine per build (and per thread count). */
export async function wasmgradEngines() {
  const builds = detectFeatures().relaxedSimd ? ["simd", "relaxed"] : ["simd"];
  const threads = threadsAsked();
  const engines = [];
  for (const build of builds) {
    engines.push([`wasmgrad-${build}`, await init({ build, threads: 1 })]);
    if (threads > 1) {
      const engine = await init({ build, threads });
      await engine.threadsReady();
      if (engine.threads !== threads) throw new Error(`asked for ${threads} threads, got ${engine.threads}: ${engine.threadsNote}`);
      engines.push([`wasmgrad-${build} ${threads} threads`, engine]);
    }
  }
  return engines;
}

/**
 * N threads ÷ 1 thread measured interleaved: `rounds` rounds, each timing `one()` then `many()`
 * once, and the median (and range) of the rounds' ratios — on a shared machine whose speed moves
 * by ±30% within minutes, only runs side by side in time compare.
 */
export function interleavedScaling(one, many, rounds = 9) {
  const ratios = [];
  for (let i = 0; i < rounds; i++) {
    let started = performance.now();
    one();
    const t1 = performance.now() - started;
    started = performance.now();
    many();
    ratios.push(t1 / (performance.now() - started));
  }
  ratios.sort((a, b) => a - b);
  return { metric: "×", median: ratios[ratios.length >> 1], min: ratios[0], max: ratios[ratios.length - 1] };
}

/** [[impl name, N-thread engine, its build's one-thread engine], …]: the pairs interleavedScaling compares. */
export const threadPairs = (engines) =>
  engines.filter(([name]) => / \d+ threads$/.test(name)).map(([name, engine]) => [name, engine, engines.find(([one]) => one === name.replace(/ \d+ threads$/, ""))[1]]);
