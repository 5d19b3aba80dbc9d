// Profile suite: where a one-thread training step of the main job's network (784-128-64-10, ReLU,
// softmax cross-entropy, Adam) goes, at batch 64 and 256, in each build. Every kernel call is
// timed (the engine's kernel table and its parallel-kernel runners wrapped, timing included in
// each kernel's share); what no kernel accounts for is JavaScript: ops, graph, checks, batching.
// The GEMM-bound share is the step's GEMM time over the whole step.
import { Adam, Dense, Sequential, detectFeatures, init, tensor } from "../dist/index.js";
import { loadMnist } from "../examples/mnist-data.mjs";
import { timeCalls } from "./measure.mjs";

export const describe = () => ({ peer: null });

const SAMPLES = 4096;
const EPOCHS = 6;

export async function* run(log) {
  let train = null;
  const builds = detectFeatures().relaxedSimd ? ["simd", "relaxed"] : ["simd"];
  for (const build of builds) {
    for (const batch of [64, 256]) {
      log(`profile: ${build}, batch ${batch}`);
      const engine = await init({ build, threads: 1 });
      train ??= loadMnist().train; // its tensors need an engine: the first one made
      const x = tensor(train.x.data().subarray(0, SAMPLES * 784), { shape: [SAMPLES, 784], engine });
      const y = tensor(train.labels.slice(0, SAMPLES), { engine });
      const model = new Sequential([new Dense(128, { activation: "relu" }), new Dense(64, { activation: "relu" }), new Dense(10)], { inputShape: [784], seed: 1, engine });
      model.compile({ loss: "crossEntropy", optimizer: new Adam(model.parameters(), { lr: 0.001 }) });
      const epoch = () => model.fitSync(x, y, { epochs: 1, batchSize: batch, verbose: false, shuffle: false });
      epoch(); // warm
      const spent = new Map();
      // The kernels the façade calls directly, and those it calls through the engine's runners
      // (the ones threads may share: Adam, the activations); internal to the engine, reached here
      // only to time them.
      engine.kernels = { ...engine.kernels };
      timeCalls(engine.kernels, spent);
      timeCalls(engine.runners, spent);
      const started = performance.now();
      for (let i = 0; i < EPOCHS; i++) epoch();
      const steps = (EPOCHS * SAMPLES) / batch;
      const stepUs = ((performance.now() - started) / steps) * 1000;
      const kernelUs = [...spent.values()].reduce((a, b) => a + b, 0) / steps * 1000;
      const impl = `wasmgrad-${build}`;
      const row = (what, us) => ({ suite: "profile", case: `batch ${batch}: ${what}`, impl, metric: "µs", median: us, min: us, max: us });
      yield row("whole step", stepUs);
      for (const [name, ms] of [...spent].sort((a, b) => b[1] - a[1])) {
        const us = (ms / steps) * 1000;
        if (us / stepUs >= 0.004) yield row(`${name} (${((100 * us) / stepUs).toFixed(1)}%)`, us);
      }
      yield row(`JavaScript, no kernel (${((100 * (stepUs - kernelUs)) / stepUs).toFixed(1)}%)`, stepUs - kernelUs);
      const gemmUs = ((spent.get("sgemm") ?? 0) / steps) * 1000;
      // Forward, ∂W and ∂x of each layer, less the first layer's ∂x (its input is the data).
      const flops = 2 * batch * (3 * (784 * 128 + 128 * 64 + 64 * 10) - 784 * 128);
      yield { suite: "profile", case: `batch ${batch}: GEMM inside the step`, impl, metric: "GFLOP/s", median: flops / gemmUs / 1e3, min: null, max: null };
      const share = gemmUs / stepUs;
      yield { suite: "profile", case: `batch ${batch}: GEMM's share of the step (the step at this share of its GEMM-bound rate)`, impl, metric: "ratio", median: share, min: share, max: share };
    }
  }
}
