// Values held in another order (src/io/onnx/channels-last.ts): Reshape, Flatten and Transpose
// take them as they are held and move as little as the result needs. A channel shuffle moves
// channels within each pixel instead of making the activations NCHW and back; ViT's patches
// (Reshape to [n, c, h·w], Transpose) and a TensorFlow model's NHWC input (Transpose to NCHW)
// move nothing. Each is checked against onnxruntime-web, its gradients against finite
// differences, and the rule itself against the planar reshape and transpose on random shapes.
import fc from "fast-check";
import * as ort from "onnxruntime-web";
import { beforeAll, describe, expect, it } from "vitest";
import { Tensor, gradcheck, init, tensor } from "../src/index.js";
import { reshapePermuted, transposePermuted } from "../src/io/onnx/channels-last.js";
import { Permuted, isPermuted } from "../src/io/onnx/values.js";
import { fromOnnx } from "../src/onnx.js";
import { FLOAT, floats, int, int64s, ints, model, node, value } from "./onnx-builder.js";
import { agreesWithOrt, transposes } from "./onnx-compare.js";
import { randomArray, rng } from "./helpers.js";

beforeAll(async () => {
  await init();
  ort.env.wasm.numThreads = 1;
});

const weights = (name: string, dims: number[], seed: number) => floats(name, dims, Array.from(randomArray(dims.reduce((a, b) => a * b, 1), rng(seed))));

/**
 * ShuffleNet's unit: a grouped 1×1 conv, the channel shuffle (Reshape to [n, g, c/g, h, w],
 * Transpose, Reshape back; 0 and −1 in the shapes as the model zoo's files have), a depthwise
 * 3×3 conv. `between` goes between the Transpose and the second Reshape (an op that does not
 * know the order: it gets the 5-D value planar).
 */
function shuffleUnit(activation = "Relu", between: object[] = []) {
  const shuffled = between.length ? "m" : "t";
  return model({
    nodes: [
      node("Conv", ["x", "w1", "b1"], ["c"], [ints("kernel_shape", [1, 1]), int("group", 2)]),
      node(activation, ["c"], ["a"]),
      node("Reshape", ["a", "split"], ["r"]),
      node("Transpose", ["r"], ["t"], [ints("perm", [0, 2, 1, 3, 4])]),
      ...between,
      node("Reshape", [shuffled, "merge"], ["s"]),
      node("Conv", ["s", "w2"], ["y"], [ints("kernel_shape", [3, 3]), ints("pads", [1, 1, 1, 1]), int("group", 8)]),
    ],
    inputs: [value("x", FLOAT, ["N", 8, 5, 5])], outputs: [value("y", FLOAT, ["N", 8, 5, 5])],
    initializers: [weights("w1", [8, 4, 1, 1], 1), weights("b1", [8], 2), weights("w2", [8, 1, 3, 3], 3), int64s("split", [0, 2, 4, 5, 5]), int64s("merge", [0, -1, 5, 5]), floats("k", [], [0.5])],
  });
}

describe("a channel shuffle on channels-last activations", () => {
  it("gives onnxruntime-web's output at batch 1 and 3, with or without an op that does not know the order in the middle", async () => {
    for (const bytes of [shuffleUnit(), shuffleUnit("Relu", [node("Mul", ["t", "k"], ["p"]), node("Sigmoid", ["p"], ["m"])])]) {
      for (const n of [1, 3]) await agreesWithOrt(bytes, randomArray(n * 200, rng(10 + n)), [n, 8, 5, 5]);
    }
  });

  it("moves channels within each pixel: the image in, one [n, h, w, 2, 4] transpose, the output out, and no NCHW activation between", () => {
    const m = fromOnnx(shuffleUnit());
    const x = tensor(randomArray(3 * 200, rng(4)), { shape: [3, 8, 5, 5] });
    m.predict(x).dispose(); // lays the weights out
    expect(transposes(() => m.predict(x).dispose())).toEqual(["3×8×5×5", "3×5×5×2×4", "3×5×5×8"]);
    m.dispose();
  });

  it("passes gradients through the shuffle: the weights' and the input's match finite differences", () => {
    const m = fromOnnx(shuffleUnit("Tanh")); // smooth, so central differences are exact enough
    m.train();
    const x = tensor(randomArray(2 * 200, rng(5)), { shape: [2, 8, 5, 5] });
    x.requiresGrad = true;
    const checked = [...m.parameters(), x];
    const report = gradcheck(() => m.call(x).tanh().sum(), checked);
    expect(report.ok).toBe(true);
    expect(report.checked).toBe(checked.reduce((s, p) => s + p.size, 0));
    m.dispose();
  });
});

describe("reshapes and transposes that move nothing", () => {
  // ViT's patch embedding: a 4×4 conv at stride 4, its [n, c, h, w] as [n, c, h·w], then tokens × channels.
  const patches = model({
    nodes: [
      node("Conv", ["x", "w"], ["c"], [ints("kernel_shape", [4, 4]), ints("strides", [4, 4])]),
      node("Reshape", ["c", "tokens"], ["r"]),
      node("Transpose", ["r"], ["t"], [ints("perm", [0, 2, 1])]),
      node("MatMul", ["t", "proj"], ["y"]),
    ],
    inputs: [value("x", FLOAT, ["N", 3, 8, 8])], outputs: [value("y", FLOAT, ["N", 4, 5])],
    initializers: [weights("w", [6, 3, 4, 4], 6), int64s("tokens", [0, 0, -1]), weights("proj", [6, 5], 7)],
  });
  // tf2onnx's way in: the NHWC image made NCHW by a Transpose, then conv, pool, flatten, dense.
  const fromTensorFlow = model({
    nodes: [
      node("Transpose", ["x"], ["t"], [ints("perm", [0, 3, 1, 2])]),
      node("Conv", ["t", "w"], ["c"], [ints("kernel_shape", [3, 3])]),
      node("Relu", ["c"], ["a"]),
      node("GlobalAveragePool", ["a"], ["p"]),
      node("Flatten", ["p"], ["f"]),
      node("Gemm", ["f", "dense"], ["y"]),
    ],
    inputs: [value("x", FLOAT, ["N", 6, 6, 3])], outputs: [value("y", FLOAT, ["N", 2])],
    initializers: [weights("w", [4, 3, 3, 3], 8), weights("dense", [4, 2], 9)],
  });

  it("ViT's patches: onnxruntime-web's output, and only the image is transposed", async () => {
    await agreesWithOrt(patches, randomArray(2 * 192, rng(11)), [2, 3, 8, 8]);
    const m = fromOnnx(patches);
    const x = tensor(randomArray(2 * 192, rng(12)), { shape: [2, 3, 8, 8] });
    m.predict(x).dispose();
    expect(transposes(() => m.predict(x).dispose())).toEqual(["2×3×8×8"]);
  });

  it("a TensorFlow model's NHWC input: onnxruntime-web's output, and nothing is transposed at all", async () => {
    await agreesWithOrt(fromTensorFlow, randomArray(2 * 108, rng(13)), [2, 6, 6, 3]);
    const m = fromOnnx(fromTensorFlow);
    const x = tensor(randomArray(2 * 108, rng(14)), { shape: [2, 6, 6, 3] });
    m.predict(x).dispose();
    expect(transposes(() => m.predict(x).dispose())).toEqual([]);
  });
});

describe("the rule against the planar reshape and transpose", () => {
  /** Dims (rank 1–5, each 1–4), a held order, a target of the same size, a perm. */
  const cases = fc.integer({ min: 1, max: 5 }).chain((rank) => fc.record({
    dims: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: rank, maxLength: rank }),
    order: fc.shuffledSubarray([...Array(rank).keys()], { minLength: rank, maxLength: rank }),
    perm: fc.shuffledSubarray([...Array(rank).keys()], { minLength: rank, maxLength: rank }),
    cuts: fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 6 }),
  }));
  /** A target shape for `size` elements: factors taken one by one (a size-1 axis where a cut picks 1). */
  const targetOf = (size: number, cuts: number[]) => {
    const target: number[] = [];
    let left = size;
    for (const c of cuts) {
      const divisors = Array.from({ length: left }, (_, i) => i + 1).filter((d) => left % d === 0);
      const d = divisors[c % divisors.length];
      target.push(d);
      left /= d;
    }
    return [...target, left];
  };
  const planarData = (v: Tensor | Permuted | unknown) => (isPermuted(v as Permuted) ? (v as Permuted).planar() : (v as Tensor)).data();

  it("a value held in any order reshapes and transposes to what its planar form does", () => {
    fc.assert(fc.property(cases, ({ dims, order, perm, cuts }) => {
      const size = dims.reduce((a, b) => a * b, 1);
      const plain = tensor(Float32Array.from({ length: size }, (_, i) => i), { shape: dims });
      const held = new Permuted(plain.transpose(order), order);
      expect(held.dims).toEqual(dims);
      const target = targetOf(size, cuts);
      const reshaped = reshapePermuted(held, target)!;
      expect(isPermuted(reshaped) ? reshaped.dims : (reshaped as Tensor).shape).toEqual(target);
      expect(Array.from(planarData(reshaped))).toEqual(Array.from(plain.reshape(target).data()));
      expect(Array.from(planarData(transposePermuted(held, perm)))).toEqual(Array.from(plain.transpose(perm).data()));
    }), { seed: 21, numRuns: 300 });
  });
});
