// MLP suite: the main job's network (784-128-64-10, ReLU, softmax cross-entropy, Adam) on real
// MNIST digits: training samples/s at batch 64 (and 256), and inference latency at batch 1 and 64, for
// wasmgrad (both builds), TensorFlow.js layers on its wasm backend, brain.js, and for inference
// ONNX Runtime Web (wasm backend) on the same network exported with toOnnx.
import { createRequire } from "node:module";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";
import * as tfl from "@tensorflow/tfjs-layers";
import * as ort from "onnxruntime-web";
import { Adam, Dense, Sequential, tensor } from "../dist/index.js";
import { toOnnx } from "../dist/onnx.js";
import { interleavedScaling, threadPairs, threadsAsked } from "./engines.mjs";
import { loadMnist } from "../examples/mnist-data.mjs";
import { measure, micros, perSecond } from "./measure.mjs";
import { wasmgradEngines } from "./engines.mjs";

const require = createRequire(import.meta.url);
export const describe = () => ({ peer: "tfjs-wasm" });

const BATCH = 64;

function wasmgradModel(engine) {
  const model = new Sequential(
    [new Dense(128, { activation: "relu" }), new Dense(64, { activation: "relu" }), new Dense(10)],
    { inputShape: [784], seed: 1, engine },
  );
  model.compile({ loss: "crossEntropy", optimizer: new Adam(model.parameters(), { lr: 0.001 }) });
  return model;
}

function tfjsModel() {
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [784], units: 128, activation: "relu" }),
      tfl.layers.dense({ units: 64, activation: "relu" }),
      tfl.layers.dense({ units: 10, activation: "softmax" }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.001), loss: "categoricalCrossentropy" });
  return model;
}


export async function* run(log) {
  const engines = await wasmgradEngines();
  await tf.setBackend("wasm");
  await tf.ready();

  // The same 8,000 training digits for everybody (loaded into the last engine, then copied).
  const { train } = loadMnist();
  const images = train.x.data();
  const labels = train.labels;
  const oneHot = new Float32Array(labels.length * 10);
  labels.forEach((l, i) => (oneHot[i * 10 + l] = 1));

  log("mlp: training");
  for (const [impl, engine] of engines) {
    const x = tensor(images, { shape: [labels.length, 784], engine });
    const y = tensor(labels, { engine });
    const model = wasmgradModel(engine);
    const options = { epochs: 1, batchSize: BATCH, verbose: false };
    model.fitSync(x, y, options); // warm: compiled code, arena sized, the data-loading garbage collected
    const t = await measure(() => model.fitSync(x, y, options), { time: 2000, iterations: 5 });
    yield { suite: "mlp", case: "train batch 64", impl, ...perSecond(labels.length, t) };
    // The yielding fit (a turn for the event loop every 25 ms) against the tight synchronous loop,
    // epochs interleaved so that both see the same machine; and the longest stretch the yielding
    // one held the event loop, measured by a timer that asks for a turn every millisecond.
    const times = { sync: [], async: [] };
    let longest = 0;
    for (let round = 0; round < 6; round++) {
      let started = performance.now();
      model.fitSync(x, y, options);
      times.sync.push(performance.now() - started);
      let last = performance.now();
      const probe = setInterval(() => {
        const now = performance.now();
        longest = Math.max(longest, now - last);
        last = now;
      }, 1);
      started = performance.now();
      await model.fit(x, y, options);
      times.async.push(performance.now() - started);
      clearInterval(probe);
    }
    const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
    const stats = (v) => ({ median: median(v), min: Math.min(...v), max: Math.max(...v) });
    yield { suite: "mlp", case: "train batch 64, fitSync (interleaved)", impl, ...perSecond(labels.length, stats(times.sync)) };
    yield { suite: "mlp", case: "train batch 64, await fit (interleaved)", impl, ...perSecond(labels.length, stats(times.async)) };
    yield { suite: "mlp", case: "await fit: longest event-loop block", impl, metric: "ms", median: longest, min: longest, max: longest };
  }
  log("mlp: training at batch 256");
  const epochAt = (engine, batchSize) => {
    const x = tensor(images, { shape: [labels.length, 784], engine });
    const y = tensor(labels, { engine });
    const model = wasmgradModel(engine);
    const epoch = () => model.fitSync(x, y, { epochs: 1, batchSize, verbose: false });
    epoch(); // warm
    return epoch;
  };
  for (const [impl, engine] of engines) {
    const t = await measure(epochAt(engine, 256), { time: 2000, iterations: 5 });
    yield { suite: "mlp", case: "train batch 256", impl, ...perSecond(labels.length, t) };
  }
  // Thread scaling measured side by side in time: an epoch on one thread, then one on N, by turns.
  for (const [impl, engine, one] of threadPairs(engines)) {
    for (const batch of [64, 256]) {
      log(`mlp: ${impl} ÷ one thread, batch ${batch}, interleaved`);
      yield { suite: "mlp", case: `train batch ${batch}: N threads ÷ 1 (interleaved epochs)`, impl, ...interleavedScaling(epochAt(one, batch), epochAt(engine, batch)) };
    }
  }
  {
    const n = 2000; // tfjs trains at a few thousand samples/s: a quarter of the data keeps the run short
    const xs = tf.tensor2d(images.subarray(0, n * 784), [n, 784]);
    const ys = tf.tensor2d(oneHot.subarray(0, n * 10), [n, 10]);
    const model = tfjsModel();
    const epoch = async () => {
      await model.fit(xs, ys, { epochs: 1, batchSize: BATCH, verbose: 0 });
    };
    await epoch(); // warm, as for wasmgrad
    const t = await measure(epoch, { time: 3000, iterations: 3 });
    yield { suite: "mlp", case: "train batch 64", impl: "tfjs-wasm", ...perSecond(n, t) };
    model.dispose();
    xs.dispose();
    ys.dispose();
  }
  const brain = require("brain.js");
  const brainData = Array.from({ length: 300 }, (_, i) => ({
    input: Array.from(images.subarray(i * 784, (i + 1) * 784)),
    output: Array.from(oneHot.subarray(i * 10, (i + 1) * 10)),
  }));
  const brainNet = new brain.NeuralNetwork({ hiddenLayers: [128, 64], activation: "relu", learningRate: 0.01 });
  brainNet.train(brainData.slice(0, 10), { iterations: 1 }); // sizes the network
  {
    // brain.js trains one sample at a time (its only mode): 300 samples per run.
    const t = await measure(() => brainNet.train(brainData, { iterations: 1, errorThresh: 1e-9 }), { time: 3000, iterations: 3 });
    yield { suite: "mlp", case: "train batch 64", impl: "brain.js (per sample)", ...perSecond(brainData.length, t) };
  }

  for (const batch of [1, 64]) {
    const name = `predict batch ${batch}`;
    log(`mlp: ${name}`);
    const input = images.subarray(0, batch * 784);
    const predictOn = (engine) => {
      const x = tensor(input, { shape: [batch, 784], engine });
      const model = wasmgradModel(engine);
      return () => {
        const out = model.predict(x);
        out.data();
        out.dispose();
      };
    };
    for (const [impl, engine] of engines) {
      const t = await measure(predictOn(engine), { time: 1000, iterations: 200 });
      yield { suite: "mlp", case: name, impl, ...micros(t) };
    }
    for (const [impl, engine, one] of threadPairs(engines)) {
      const times = (fn) => () => { for (let i = 0; i < 200; i++) fn(); };
      yield { suite: "mlp", case: `${name}: N threads ÷ 1 (interleaved, 200 calls a turn)`, impl, ...interleavedScaling(times(predictOn(one)), times(predictOn(engine)), 15) };
    }
    {
      const model = tfjsModel();
      const x = tf.tensor2d(input, [batch, 784]);
      const t = await measure(() => {
        const out = model.predict(x);
        out.dataSync();
        out.dispose();
      }, { time: 1000, iterations: 200 });
      yield { suite: "mlp", case: name, impl: "tfjs-wasm", ...micros(t) };
      x.dispose();
      model.dispose();
    }
    {
      // ONNX Runtime Web's wasm backend on the same network (exported by toOnnx), one thread and,
      // with --threads N, N threads as it is asked (its Node build may decline and run one).
      const model = wasmgradModel(engines[0][1]);
      const bytes = toOnnx(model);
      const input = new ort.Tensor("float32", images.slice(0, batch * 784), [batch, 784]);
      for (const threads of [...new Set([1, threadsAsked()])]) {
        ort.env.wasm.numThreads = threads;
        const impl = threads === 1 ? "onnxruntime-web" : `onnxruntime-web ${threads} threads`;
        try {
          const session = await ort.InferenceSession.create(bytes);
          const feeds = { [session.inputNames[0]]: input };
          await session.run(feeds);
          const t = await measure(async () => {
            const out = await session.run(feeds);
            out[session.outputNames[0]].data;
          }, { time: 1000, iterations: 200 });
          yield { suite: "mlp", case: name, impl, ...micros(t) };
          await session.release();
        } catch (e) {
          yield { suite: "mlp", case: name, impl, metric: "µs", median: null, min: null, max: null, error: String(e.message).split("\n")[0] };
        }
      }
    }
    if (batch === 1) {
      const sample = brainData[0].input;
      const t = await measure(() => brainNet.run(sample), { time: 1000, iterations: 200 });
      yield { suite: "mlp", case: name, impl: "brain.js", ...micros(t) };
    }
  }
}
