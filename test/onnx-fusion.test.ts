// Inference fusion of an imported CNN (src/io/onnx/fusion.ts): at predict() each Conv takes the
// BatchNormalization and the Relu or Clip (or HardSwish) after it into its own output pass:
// BatchNorm folded into W and B, the clamp in the GEMM's epilogue, the activation in place. Where a gradient is wanted, or BatchNorm
// normalises by the batch, the nodes run as they are. (PyTorch's ResNet and MobileNet blocks,
// residuals and ReLU6 included, are checked against onnxruntime through predict() in
// pytorch.test.ts.)
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { Tensor, getEngine, gradcheck, init, noGrad, tensor } from "../src/index.js";
import { fromOnnx } from "../src/onnx.js";
import { randomArray, rng } from "./helpers.js";
import { agreesWithOrt } from "./onnx-compare.js";
import { FLOAT, floats, ints, model, node, value } from "./onnx-builder.js";

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

/** The calls of these elementwise kernels `run` makes, in order, each "name" or "name in place" (x and y one address). */
function kernelCalls(kernels: readonly string[], run: () => void): string[] {
  const engine = getEngine();
  const calls: string[] = [];
  const original = engine.parallel;
  engine.parallel = function (this: typeof engine, kernel, count, args, options) {
    if (kernels.includes(kernel)) {
      const [x, y] = args(0, count);
      calls.push(`${kernel}${x === y ? " in place" : ""}`);
    }
    return original.call(this, kernel, count, args, options);
  };
  try {
    run();
  } finally {
    engine.parallel = original;
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

describe("inference fusion: Conv + BatchNorm + HardSwish (MobileNetV3's block)", () => {
  const random = rng(31);
  const weights = (dims: number[]) => Array.from({ length: dims.reduce((a, b) => a * b) }, () => random() - 0.5);
  const positive = (n: number) => Array.from({ length: n }, () => 0.5 + random());
  const bytes = model({
    nodes: [
      node("Conv", ["x", "w", "b"], ["c"], [ints("pads", [1, 1, 1, 1])]),
      node("BatchNormalization", ["c", "scale", "shift", "mean", "var"], ["n"]),
      node("HardSwish", ["n"], ["y"]),
    ],
    inputs: [value("x", FLOAT, [2, 8, 12, 12])],
    outputs: [value("y", FLOAT, [2, 16, 12, 12])],
    initializers: [
      floats("w", [16, 8, 3, 3], weights([16, 8, 3, 3]).map((v) => 4 * v)), floats("b", [16], weights([16])),
      floats("scale", [16], positive(16)), floats("shift", [16], weights([16])), floats("mean", [16], weights([16])), floats("var", [16], positive(16)),
    ],
    opset: 14,
  });
  const input = Float32Array.from(weights([2, 8, 12, 12]));

  it("predict() gives onnxruntime's output, the HardSwish applied in place on the Conv's output", async () => {
    await agreesWithOrt(bytes, input, [2, 8, 12, 12]);
    const imported = fromOnnx(bytes);
    const x = tensor(input, { shape: [2, 8, 12, 12] });
    expect(kernelCalls(["hardSwish"], () => imported.predict(x).dispose())).toEqual(["hardSwish in place"]);
    // Where a gradient is wanted, the node runs as itself: a new tensor.
    x.requiresGrad = true;
    expect(kernelCalls(["hardSwish"], () => imported.forward(x).dispose())).toEqual(["hardSwish"]);
    imported.dispose();
  });

  it("gives what the nodes give run one by one, within float32 rounding", () => {
    const imported = fromOnnx(bytes);
    const x = tensor(input, { shape: [2, 8, 12, 12] });
    const fused = imported.predict(x).data();
    x.requiresGrad = true;
    const plain = imported.forward(x).data();
    expect(largestDifference(fused, plain)).toBeLessThan(1e-5);
    imported.dispose();
  });
});

describe("x·σ(x) written as a Sigmoid and a Mul (PyTorch's SiLU) runs as one silu", () => {
  const random = rng(41);
  const weights = (dims: number[]) => Array.from({ length: dims.reduce((a, b) => a * b) }, () => random() - 0.5);
  const positive = (n: number) => Array.from({ length: n }, () => 0.5 + random());
  /** Conv, BatchNorm, then x·σ(x) as PyTorch writes it, the Mul's operands in `order`; `extra`: the Sigmoid's output read again. */
  const file = (order: "xs" | "sx", extra = false) => model({
    nodes: [
      node("Conv", ["x", "w", "b"], ["c"], [ints("pads", [1, 1, 1, 1])]),
      node("BatchNormalization", ["c", "scale", "shift", "mean", "var"], ["n"]),
      node("Sigmoid", ["n"], ["s"]),
      node("Mul", order === "xs" ? ["n", "s"] : ["s", "n"], [extra ? "m" : "y"]),
      ...(extra ? [node("Add", ["m", "s"], ["y"])] : []),
    ],
    inputs: [value("x", FLOAT, [2, 6, 10, 10])],
    outputs: [value("y", FLOAT, [2, 8, 10, 10])],
    initializers: [
      floats("w", [8, 6, 3, 3], weights([8, 6, 3, 3]).map((v) => 4 * v)), floats("b", [8], weights([8])),
      floats("scale", [8], positive(8)), floats("shift", [8], weights([8])), floats("mean", [8], weights([8])), floats("var", [8], positive(8)),
    ],
  });
  const input = Float32Array.from(weights([2, 6, 10, 10]));
  /** The kernels x·σ(x) may run on. */
  const SILU = ["silu", "sigmoid"];

  it.each(["xs", "sx"] as const)("Mul's operands %s: onnxruntime's output; in the Conv's output pass at predict(), one silu with a gradient", async (order) => {
    const bytes = file(order);
    await agreesWithOrt(bytes, input, [2, 6, 10, 10]);
    const imported = fromOnnx(bytes);
    const x = tensor(input, { shape: [2, 6, 10, 10] });
    expect(kernelCalls(SILU, () => imported.predict(x).dispose())).toEqual(["silu in place"]);
    const fused = imported.predict(x).data();
    x.requiresGrad = true;
    let plain: Float32Array | null = null;
    expect(kernelCalls(SILU, () => (plain = imported.forward(x).data()))).toEqual(["silu"]);
    expect(largestDifference(fused, plain!)).toBeLessThan(1e-5);
    // Gradients on a smaller input: a sum of fewer squares, which float32 central differences resolve.
    const small = tensor(input.subarray(0, 6 * 4 * 4), { shape: [1, 6, 4, 4] });
    const report = gradcheck(() => imported.call(small).square().sum(), imported.parameters());
    expect(report.ok, JSON.stringify(report.worst)).toBe(true);
    imported.dispose();
  });

  it("a Sigmoid whose output is read again stays two ops, with onnxruntime's output", async () => {
    const bytes = file("xs", true);
    await agreesWithOrt(bytes, input, [2, 6, 10, 10]);
    const imported = fromOnnx(bytes);
    expect(kernelCalls(SILU, () => imported.predict(tensor(input, { shape: [2, 6, 10, 10] })).dispose())).toEqual(["sigmoid"]);
    imported.dispose();
  });
});

describe("ONNX's Swish (opset 24) with an alpha other than 1", () => {
  it("is x·σ(αx): float64 values, gradient as finite differences, and it stays out of a Conv's output pass", () => {
    const bytes = model({
      nodes: [node("Conv", ["x", "w"], ["c"]), node("Swish", ["c"], ["y"], [{ name: "alpha", type: 1, f: 0.5 }])],
      inputs: [value("x", FLOAT, [1, 2, 3, 3])],
      outputs: [value("y", FLOAT, [1, 2, 3, 3])],
      initializers: [floats("w", [2, 2, 1, 1], [1, 0, 0, 1])], // the identity: y is Swish of x itself
      opset: 24, ir: 10,
    });
    const input = randomArray(18, rng(43)).map((v) => 4 * v);
    const imported = fromOnnx(bytes);
    const x = tensor(input, { shape: [1, 2, 3, 3], requiresGrad: true });
    const y = imported.predict(x.detach()).data();
    input.forEach((v, i) => expect(Math.abs(y[i] - v / (1 + Math.exp(-0.5 * v)))).toBeLessThan(1e-6 * Math.max(1, Math.abs(v))));
    expect(kernelCalls(["silu"], () => imported.predict(x.detach()).dispose())).toEqual([]);
    const report = gradcheck((t) => imported.call(t), [x]);
    expect(report.ok, JSON.stringify(report.worst)).toBe(true);
    imported.dispose();
  });
});
