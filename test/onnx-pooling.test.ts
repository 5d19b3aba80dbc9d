// An imported AveragePool between two convs runs on the NHWC kernel, padding, ceil_mode and
// count_include_pad included (ShuffleNet's 3×3 stride-2 pool with padding 1 is one), so the
// activations stay channels-last through it; MaxPool's padding never wins (GoogLeNet's 3×3
// stride-1 pools, padded by 1, with no padded copy). Both against
// onnxruntime-web, and the gradient through the pool against finite differences.
import * as ort from "onnxruntime-web";
import { beforeAll, describe, expect, it } from "vitest";
import { gradcheck, init, tensor } from "../src/index.js";
import { fromOnnx } from "../src/onnx.js";
import { FLOAT, floats, int, ints, model, node, value } from "./onnx-builder.js";
import { agreesWithOrt, transposes } from "./onnx-compare.js";
import { randomArray, rng } from "./helpers.js";

beforeAll(async () => {
  await init();
  ort.env.wasm.numThreads = 1;
});

const weights = (name: string, dims: number[], seed: number) => floats(name, dims, Array.from(randomArray(dims.reduce((a, b) => a * b, 1), rng(seed))));

/** Conv 3×3 → Relu (or `activation`) → the pool → Conv 1×1, on 6 channels of 7×7. */
function pooled(op: "AveragePool" | "MaxPool", attrs: { pads: number[]; ceil: number; includePad?: number }, activation = "Relu") {
  return model({
    nodes: [
      node("Conv", ["x", "w1", "b1"], ["c"], [ints("kernel_shape", [3, 3]), ints("pads", [1, 1, 1, 1])]),
      node(activation, ["c"], ["a"]),
      node(op, ["a"], ["p"], [ints("kernel_shape", [3, 3]), ints("strides", [2, 2]), ints("pads", attrs.pads), int("ceil_mode", attrs.ceil),
        ...(attrs.includePad === undefined ? [] : [int("count_include_pad", attrs.includePad)])]),
      node("Conv", ["p", "w2"], ["y"], [ints("kernel_shape", [1, 1])]),
    ],
    inputs: [value("x", FLOAT, ["N", 3, 7, 7])], outputs: [value("y", FLOAT, ["N", 4, "H", "W"])],
    initializers: [weights("w1", [6, 3, 3, 3], 1), weights("b1", [6], 2), weights("w2", [4, 6, 1, 1], 3)],
  });
}

const CASES = [
  { pads: [1, 1, 1, 1], ceil: 0, includePad: 0 }, // ShuffleNet's
  { pads: [1, 1, 1, 1], ceil: 0, includePad: 1 },
  { pads: [0, 1, 1, 0], ceil: 1, includePad: 0 },
  { pads: [1, 0, 0, 1], ceil: 1, includePad: 1 },
];

describe("pooling on channels-last activations", () => {
  it("AveragePool with padding, ceil_mode and count_include_pad gives onnxruntime-web's output at batch 1 and 2", async () => {
    for (const c of CASES) {
      for (const n of [1, 2]) await agreesWithOrt(pooled("AveragePool", c), randomArray(n * 147, rng(n + c.ceil)), [n, 3, 7, 7]);
    }
  });

  it("MaxPool with padding and ceil_mode gives onnxruntime-web's output", async () => {
    for (const { pads, ceil } of CASES.slice(0, 3)) await agreesWithOrt(pooled("MaxPool", { pads, ceil }), randomArray(2 * 147, rng(5)), [2, 3, 7, 7]);
  });

  it("transposes only the image in and the output out: the pool reads and writes NHWC", () => {
    for (const op of ["AveragePool", "MaxPool"] as const) {
      const { pads, ceil, includePad } = CASES[0];
      const m = fromOnnx(pooled(op, op === "MaxPool" ? { pads, ceil } : { pads, ceil, includePad }));
      const x = tensor(randomArray(2 * 147, rng(4)), { shape: [2, 3, 7, 7] });
      m.predict(x).dispose(); // the weights are laid out on the first run
      expect(transposes(() => m.predict(x).dispose())).toEqual(["2×3×7×7", "2×4×4×4"]);
    }
  });

  it("an imported MaxPool's gradient on the NHWC kernel (after a Conv) is the planar kernel's (on the image itself), padding and ceil_mode included", () => {
    // Max pools have kinks a finite difference may cross: an independent implementation instead.
    // The Conv before the NHWC pool has identity weights, so both pools see the same values.
    const identity = floats("eye", [3, 3, 1, 1], [1, 0, 0, 0, 1, 0, 0, 0, 1]);
    for (const { pads, ceil } of CASES.slice(0, 3)) {
      const pool = (input: string) => node("MaxPool", [input], ["y"], [ints("kernel_shape", [3, 3]), ints("strides", [2, 2]), ints("pads", pads), int("ceil_mode", ceil)]);
      const io = { inputs: [value("x", FLOAT, [2, 3, 7, 7])], outputs: [value("y", FLOAT, [2, 3, "H", "W"])] };
      const nhwc = fromOnnx(model({ nodes: [node("Conv", ["x", "eye"], ["c"]), pool("c")], ...io, initializers: [identity] }));
      const planar = fromOnnx(model({ nodes: [pool("x")], ...io }));
      const grads = (m: typeof nhwc) => {
        const x = tensor(randomArray(2 * 147, rng(10)), { shape: [2, 3, 7, 7], requiresGrad: true });
        const y = m.call(x);
        y.mul(tensor(randomArray(y.size, rng(11)), { shape: y.shape })).sum().backward();
        return [Array.from(y.data()), Array.from(x.grad!.data())];
      };
      expect(grads(nhwc)).toEqual(grads(planar));
    }
  });

  it("the gradient through an imported AveragePool matches finite differences", () => {
    for (const c of [CASES[0], CASES[3]]) {
      const m = fromOnnx(pooled("AveragePool", c, "Tanh")); // smooth: no kink for a nudge to cross
      const x = tensor(randomArray(147, rng(9)), { shape: [1, 3, 7, 7], requiresGrad: true });
      const r = gradcheck((x) => m.call(x), [x]);
      expect(r.ok, JSON.stringify(r.worst)).toBe(true);
    }
  });
});
