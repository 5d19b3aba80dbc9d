// Inference fusion of an imported CNN (src/io/onnx/fusion.ts): at predict() each Conv takes the
// BatchNormalization and the Relu or Clip after it into its own output pass: BatchNorm folded
// into W and B, the clamp in the GEMM's epilogue. Where a gradient is wanted, or BatchNorm
// normalises by the batch, the nodes run as they are. (PyTorch's ResNet and MobileNet blocks,
// residuals and ReLU6 included, are checked against onnxruntime through predict() in
// pytorch.test.ts.)
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { Tensor, init, noGrad, tensor } from "../src/index.js";
import { fromOnnx } from "../src/onnx.js";
import { randomArray, rng } from "./helpers.js";

const FILE = new Uint8Array(readFileSync(join(__dirname, "../examples/transfer/backbone.onnx"))); // PyTorch: (Conv, BatchNorm, Relu, MaxPool) ×2, Conv, BatchNorm, Relu, GAP, Gemm
const images = (n: number, seed: number) => tensor(randomArray(n * 784, rng(seed)), { shape: [n, 1, 28, 28] });

/** The tensor methods `run` calls, by name: what ran between the convolutions. */
function opsCalled(run: () => void): Record<string, number> {
  const names = ["mul", "add", "sub", "div", "relu", "clip", "sqrt"] as const;
  const calls: Record<string, number> = {};
  const originals = names.map((name) => Tensor.prototype[name]);
  names.forEach((name, i) => {
    (Tensor.prototype as unknown as Record<string, unknown>)[name] = function (this: Tensor, ...a: unknown[]) {
      calls[name] = (calls[name] ?? 0) + 1;
      return (originals[i] as (...a: unknown[]) => Tensor).apply(this, a);
    };
  });
  try {
    run();
  } finally {
    names.forEach((name, i) => ((Tensor.prototype as unknown as Record<string, unknown>)[name] = originals[i]));
  }
  return calls;
}

function largestDifference(a: Float32Array, b: Float32Array) {
  let error = 0, scale = 0;
  a.forEach((v, i) => {
    error = Math.max(error, Math.abs(v - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  });
  return error / scale;
}

beforeAll(async () => {
  await init();
});

describe("inference fusion: Conv + BatchNorm + Relu as one pass", () => {
  it("predict() runs no BatchNorm arithmetic and no ReLU of its own once the folded weights are made", () => {
    const model = fromOnnx(FILE);
    const x = images(2, 1);
    const first = opsCalled(() => model.predict(x).dispose()); // folds: the scale and shift, W·a, B·a + shift
    expect(first.sqrt).toBe(3);
    const calls = opsCalled(() => model.predict(x).dispose());
    // Only the head's Gemm adds its bias, and the output is copied out to the caller (a mul by 1): nothing between the convolutions.
    expect(calls).toEqual({ add: 1, mul: 1 });
    model.dispose();
  });

  it("gives what the nodes give run one by one, within float32 rounding", () => {
    const model = fromOnnx(FILE);
    const x = images(3, 2);
    const fused = model.predict(x).data();
    // A gradient wanted by the input: every node runs as itself.
    x.requiresGrad = true;
    let plain: Float32Array | null = null;
    const calls = opsCalled(() => (plain = model.forward(x).data()));
    expect(calls.relu).toBe(3);
    expect(largestDifference(fused, plain!)).toBeLessThan(1e-5);
    expect(Array.from(fused)).not.toEqual(Array.from(plain!)); // folded: other roundings, so the fused path did run
    model.dispose();
  });

  it("does not fuse where BatchNorm normalises by the batch (training, batchStatistics), even without a graph", () => {
    const model = fromOnnx(FILE, { batchStatistics: true });
    model.train();
    const x = images(4, 3);
    const calls = opsCalled(() => noGrad(() => model.call(x).dispose()));
    expect(calls.relu).toBe(3);
    model.dispose();
  });

  it("refolds after a running statistic or a BatchNorm scale changes: predict() gives what a fresh import of the same state gives", () => {
    const model = fromOnnx(FILE);
    const x = images(2, 4);
    const first = model.predict(x).data();
    const state = model.stateDict();
    state["features.5.running_var"].set(randomArray(state["features.5.running_var"].size, rng(5)).map((v) => 0.5 + Math.abs(v)));
    state["features.9.weight"].copyFrom(state["features.9.weight"].mul(1.5));
    const changed = model.predict(x).data();
    expect(Array.from(changed)).not.toEqual(Array.from(first));
    const fresh = fromOnnx(FILE);
    fresh.loadStateDict(model.stateDict());
    expect(Array.from(fresh.predict(x).data())).toEqual(Array.from(changed));
    fresh.dispose();
    model.dispose();
  });
});
