// LeNet suite: training samples/s of LeNet-5 at batch 64 on real MNIST digits for wasmgrad (both
// builds), TensorFlow.js on its cpu backend, and TensorFlow.js on its wasm backend (which cannot
// train a convnet: its failure is reported with its error); then GFLOP/s of wasmgrad's conv
// layers, forward and backward, beside a plain GEMM measured in the same run.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import * as tfl from "@tensorflow/tfjs-layers";
import { Adam, conv2d, noGrad, ones, tensor, withArena } from "../dist/index.js";
import { lenet } from "../examples/models.mjs";
import { loadMnist } from "../examples/mnist-data.mjs";
import { gflops, measure, perSecond } from "./measure.mjs";
import { interleavedScaling, threadPairs, wasmgradEngines } from "./engines.mjs";

export const describe = () => ({ peer: "tfjs-cpu" });
const BATCH = 64;

function tfjsLenet() {
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 6, kernelSize: 5, padding: "same", activation: "relu" }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 16, kernelSize: 5, padding: "valid", activation: "relu" }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 120, activation: "relu" }),
      tfl.layers.dense({ units: 84, activation: "relu" }),
      tfl.layers.dense({ units: 10, activation: "softmax" }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.001), loss: "categoricalCrossentropy" });
  return model;
}


export async function* run(log) {
  const engines = await wasmgradEngines();
  const { train } = loadMnist();
  const images = train.x.data();
  const labels = train.labels;

  log("lenet: training");
  for (const [impl, engine] of engines) {
    const x = tensor(images, { shape: [labels.length, 28, 28, 1], engine });
    const y = tensor(labels, { engine });
    const model = lenet({ seed: 1, engine });
    model.compile({ loss: "crossEntropy", optimizer: new Adam(model.parameters(), { lr: 0.001 }) });
    const t = await measure(() => model.fitSync(x, y, { epochs: 1, batchSize: BATCH, verbose: false }), { time: 4000, iterations: 3 });
    yield { suite: "lenet", case: "train LeNet-5 batch 64", impl, ...perSecond(labels.length, t) };
  }
  // Thread scaling measured side by side in time: an epoch over 2,048 digits on one thread, then
  // on N, by turns.
  const epochOn = (engine) => {
    const n = 2048;
    const x = tensor(images.subarray(0, n * 784), { shape: [n, 28, 28, 1], engine });
    const y = tensor(labels.slice(0, n), { engine });
    const model = lenet({ seed: 1, engine });
    model.compile({ loss: "crossEntropy", optimizer: new Adam(model.parameters(), { lr: 0.001 }) });
    const epoch = () => model.fitSync(x, y, { epochs: 1, batchSize: BATCH, verbose: false });
    epoch(); // warm
    return epoch;
  };
  for (const [impl, engine, one] of threadPairs(engines)) {
    log(`lenet: ${impl} ÷ one thread, interleaved`);
    yield { suite: "lenet", case: "train LeNet-5 batch 64: N threads ÷ 1 (interleaved epochs)", impl, ...interleavedScaling(epochOn(one), epochOn(engine), 7) };
  }
  tf.env().set("PROD", true); // no advice printed about tfjs-node
  for (const backend of ["cpu", "wasm"]) {
    await tf.setBackend(backend);
    await tf.ready();
    // One batch per run: tfjs-cpu trains LeNet at a few samples per second.
    const xs = tf.tensor4d(images.subarray(0, BATCH * 784), [BATCH, 28, 28, 1]);
    const ys = tf.cast(tf.oneHot(tf.tensor1d(labels.slice(0, BATCH), "int32"), 10), "float32");
    const model = tfjsLenet();
    const impl = `tfjs-${backend}`;
    try {
      const t = await measure(async () => {
        await model.fit(xs, ys, { epochs: 1, batchSize: BATCH, verbose: 0 });
      }, { time: 0, iterations: 2, warmup: false });
      yield { suite: "lenet", case: "train LeNet-5 batch 64", impl, ...perSecond(BATCH, t) };
    } catch (e) {
      yield { suite: "lenet", case: "train LeNet-5 batch 64", impl, metric: "samples/s", median: null, min: null, max: null, error: String(e.message).split("\n")[0] };
    }
    model.dispose();
    xs.dispose();
    ys.dispose();
  }

  log("lenet: layers");
  // As in LeNet: the first layer's backward computes ∂W only (its input is the data), the second's
  // ∂W and ∂x.
  const layers = [
    ["conv 5×5×1→6 same, 64×28×28", [BATCH, 28, 28, 1], [5, 5, 1, 6], "same", 28 * 28, false],
    ["conv 5×5×6→16 valid, 64×14×14", [BATCH, 14, 14, 6], [5, 5, 6, 16], "valid", 10 * 10, true],
  ];
  for (const [impl, engine] of engines) {
    const mem = engine.memory;
    const a = mem.alloc(256 * 256 * 4), b = mem.alloc(256 * 256 * 4), c = mem.alloc(256 * 256 * 4);
    const tg = await measure(() => engine.gemm({ m: 256, n: 256, k: 256, a, b, c }), { time: 500, iterations: 20 });
    [a, b, c].forEach((p) => mem.free(p));
    yield { suite: "lenet", case: "gemm NN 256x256·256x256 (reference)", impl, ...gflops(2 * 256 ** 3, tg) };
    for (const [name, xShape, wShape, padding, outPixels, inputGrad] of layers) {
      const flops = 2 * BATCH * outPixels * wShape[0] * wShape[1] * wShape[2] * wShape[3];
      const random = (n) => Float32Array.from({ length: n }, (_, i) => Math.sin(i));
      const x = tensor(random(xShape.reduce((p, q) => p * q)), { shape: xShape, requiresGrad: inputGrad, engine });
      const w = tensor(random(wShape.reduce((p, q) => p * q)), { shape: wShape, requiresGrad: true, engine });
      const bias = tensor(new Float32Array(wShape[3]), { requiresGrad: true, engine });
      const forward = await measure(() => withArena(() => noGrad(() => (conv2d(x, w, bias, { padding }), 0)), engine), { time: 500, iterations: 20 });
      // Backward alone: each call's forward runs untimed before it (outside the arena, which a
      // timed call must not reset under it).
      const seed = ones([BATCH, Math.sqrt(outPixels), Math.sqrt(outPixels), wShape[3]], { engine }); // ∂L/∂y
      let y = null;
      const backward = await measure(() => y.backward({ grad: seed }), {
        time: 500, iterations: 20, beforeEach: () => (y = conv2d(x, w, bias, { padding })), afterEach: () => y.dispose(),
      });
      // ∂W and ∂x each cost the forward's flops.
      const what = inputGrad ? "(∂W, ∂x)" : "(∂W)";
      yield { suite: "lenet", case: `${name} forward`, impl, ...gflops(flops, forward) };
      yield { suite: "lenet", case: `${name} backward ${what}`, impl, ...gflops((inputGrad ? 2 : 1) * flops, backward) };
    }
  }
}
