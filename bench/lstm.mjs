// LSTM suite: a character model (embedding 32 → LSTM 128 → dense to the vocabulary, softmax
// cross-entropy over every step, Adam) trained on real text (Debian's fortunes, as the text example;
// a fixed public-domain paragraph when it is missing) at batch 32, sequence 64: training and
// inference tokens/s for wasmgrad (both builds), TensorFlow.js layers on its wasm and cpu backends
// (each reported failing with its error if it fails), and brain.js's recurrent LSTM (hidden 128),
// which trains one string at a time with its own vocabulary: its row is tokens/s on strings of 64
// characters of the same text, and says so.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import * as tfl from "@tensorflow/tfjs-layers";
import { Adam, Dense, Embedding, LSTM, Sequential, crossEntropy, noGrad, tensor } from "../dist/index.js";
import { measure, perSecond } from "./measure.mjs";
import { wasmgradEngines } from "./engines.mjs";

const require = createRequire(import.meta.url);
export const describe = () => ({ peer: ["tfjs-wasm", "tfjs-cpu"], also: "brain.js" });

const B = 32, T = 64, E = 32, H = 128;
const tokens = (t) => ({ ...perSecond(B * T, t), metric: "tokens/s" });

function corpus() {
  const file = "/usr/share/games/fortunes/fortunes";
  const raw = existsSync(file) ? readFileSync(file, "latin1")
    : "We hold these truths to be self-evident, that all men are created equal, that they are endowed by their Creator with certain unalienable Rights, that among these are Life, Liberty and the pursuit of Happiness. ".repeat(40);
  return raw.replace(/\t/g, " ").replace(/[^\n\x20-\x7e]/g, "?");
}

export async function* run(log) {
  const engines = await wasmgradEngines();
  const text = corpus();
  const vocab = [...new Set(text)].sort();
  const V = vocab.length;
  const index = new Map(vocab.map((c, i) => [c, i]));
  // One fixed batch of windows (the same for everybody): inputs and next-character targets.
  const xs = new Float32Array(B * T), ys = new Float32Array(B * T);
  const stride = Math.floor((text.length - T - 1) / B);
  for (let k = 0; k < B; k++) for (let t = 0; t < T; t++) {
    xs[k * T + t] = index.get(text[k * stride + t]);
    ys[k * T + t] = index.get(text[k * stride + t + 1]);
  }

  for (const [impl, engine] of engines) {
    log(`lstm: ${impl}`);
    const model = new Sequential([new Embedding(V, E), new LSTM(H, { returnSequences: true }), new Dense(V)], { inputShape: [T], seed: 1, engine });
    const optimizer = new Adam(model.parameters(), { lr: 3e-3 });
    const x = tensor(xs, { shape: [B, T], engine }), y = tensor(ys, { shape: [B, T], engine });
    const step = () => {
      optimizer.zeroGrad();
      crossEntropy(model.call(x), y).backward();
      optimizer.step();
    };
    model.train();
    step();
    yield { suite: "lstm", case: "train", impl, ...tokens(await measure(step, { time: 3000, iterations: 10 })) };
    model.eval();
    const infer = () => noGrad(() => model.call(x).data());
    yield { suite: "lstm", case: "inference", impl, ...tokens(await measure(infer, { time: 1500, iterations: 10 })) };
  }

  tf.env().set("PROD", true);
  const oneHot = new Float32Array(B * T * V);
  ys.forEach((c, i) => (oneHot[i * V + c] = 1));
  for (const backend of ["wasm", "cpu"]) {
    await tf.setBackend(backend);
    await tf.ready();
    const impl = `tfjs-${backend}`;
    log(`lstm: ${impl}`);
    const x = tf.tensor2d(xs, [B, T]);
    const y = tf.tensor3d(oneHot, [B, T, V]);
    const model = tfl.sequential({
      layers: [
        tfl.layers.embedding({ inputDim: V, outputDim: E, inputLength: T }),
        tfl.layers.lstm({ units: H, returnSequences: true, recurrentActivation: "sigmoid", recurrentInitializer: "glorotUniform" }),
        tfl.layers.dense({ units: V, activation: "softmax" }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(3e-3), loss: "categoricalCrossentropy" });
    for (const [name, fn, budget] of [
      ["train", async () => { await model.fit(x, y, { epochs: 1, batchSize: B, verbose: 0 }); }, { time: 0, iterations: 3 }],
      ["inference", () => { const out = model.predict(x); out.dataSync(); out.dispose(); }, { time: 0, iterations: 5 }],
    ]) {
      try {
        await fn(); // warm
        yield { suite: "lstm", case: name, impl, ...tokens(await measure(fn, { ...budget, warmup: false })) };
      } catch (e) {
        yield { suite: "lstm", case: name, impl, metric: "tokens/s", median: null, min: null, max: null, error: String(e.message).split("\n")[0] };
      }
    }
    model.dispose();
    x.dispose();
    y.dispose();
  }

  // brain.js: strings of T characters from the same text, one at a time (its only mode).
  log("lstm: brain.js");
  const brain = require("brain.js");
  const net = new brain.recurrent.LSTM({ hiddenLayers: [H] });
  const strings = Array.from({ length: 8 }, (_, k) => text.slice(k * stride, k * stride + T));
  net.train(strings, { iterations: 1, log: false }); // builds its vocabulary and model
  const t = await measure(() => net.train(strings, { iterations: 1, log: false, errorThresh: 1e-9 }), { time: 0, iterations: 3, warmup: false });
  yield { suite: "lstm", case: "train", impl: "brain.js", ...perSecond(strings.length * T, t), metric: "tokens/s", note: "one string at a time, its own vocabulary" };
  const ti = await measure(() => net.run(strings[0].slice(0, 1)), { time: 0, iterations: 5, warmup: false });
  // run() generates until its end token or maxPredictionLength (100): per generated token is not
  // measurable from outside, so this row is per call.
  yield { suite: "lstm", case: "inference", impl: "brain.js", metric: "generate() calls/s", median: 1000 / ti.median, min: 1000 / ti.max, max: 1000 / ti.min };
}
