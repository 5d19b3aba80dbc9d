// The activations added through the one table (gelu, silu/swish, elu, softplus, hardSigmoid,
// hardSwish): values against float64, gradients against finite differences, outputs equal to
// tfjs-layers' (which has no hard swish; PyTorch's Hardswish is test/pytorch's MobileNetV3),
// and the same through the fused Dense and Conv2D ops.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import { beforeAll, describe, expect, it } from "vitest";
import { Conv2D, Dense, Sequential, activate, gradcheck, init, tensor } from "../src/index.js";
import { randomArray, rng } from "./helpers.js";

beforeAll(async () => {
  await init();
  await tf.setBackend("cpu");
});

const erf = (x: number) => { // float64 erf (A&S 7.1.26 is not enough for a reference): series/continued fraction via Math
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const y = 1 - t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? y : -y;
};
const sigma = (x: number) => 1 / (1 + Math.exp(-x));
const REFERENCE: Record<string, (x: number) => number> = {
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  silu: (x) => x * sigma(x),
  swish: (x) => x * sigma(x),
  elu: (x) => (x > 0 ? x : Math.exp(x) - 1),
  softplus: (x) => Math.log1p(Math.exp(-Math.abs(x))) + Math.max(x, 0),
  hardSigmoid: (x) => Math.min(1, Math.max(0, 0.2 * x + 0.5)),
  hardSwish: (x) => x * Math.min(1, Math.max(0, x / 6 + 0.5)),
};
const NAMES = Object.keys(REFERENCE) as (keyof typeof REFERENCE)[];

describe("new activations", () => {
  const values = [-30, -6, -2.5, -1, -0.3, 0, 0.2, 1, 2.49, 4, 30];

  it.each(NAMES)("%s: float64 values, and ±Infinity-safe", (name) => {
    const y = activate(tensor(values), name as never).data();
    values.forEach((v, i) => expect(Math.abs(y[i] - REFERENCE[name](v))).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(REFERENCE[name](v)))));
    expect(Array.from(activate(tensor([Number.NaN]), name as never).data())).toEqual([Number.NaN]);
  });

  it.each(NAMES)("%s: gradient against finite differences, elementwise and fused in Dense and Conv2D", (name) => {
    const x = tensor(randomArray(12, rng(3)).map((v) => v * 2), { shape: [3, 4], requiresGrad: true }); // inside hardSigmoid's kinks at ±2.5 and hardSwish's at ±3
    expect(gradcheck((t) => activate(t, name as never), [x]).ok).toBe(true);
    const dense = new Sequential([new Dense(3, { activation: name as never })], { inputShape: [4], seed: 1 });
    expect(gradcheck(() => dense.forward(x.detach()), dense.parameters()).ok).toBe(true);
    const conv = new Sequential([new Conv2D(2, 2, { activation: name as never })], { inputShape: [3, 3, 2], seed: 1 });
    const image = tensor(randomArray(18, rng(4)), { shape: [1, 3, 3, 2] });
    expect(gradcheck(() => conv.forward(image), conv.parameters()).ok).toBe(true);
  });

  it.each(NAMES.filter((n) => n !== "silu" && n !== "hardSwish"))("%s: the same as tfjs-layers' activation of that name", (name) => {
    const xs = randomArray(64, rng(5)).map((v) => v * 4);
    const theirs = (tfl.layers.activation({ activation: name as never }).apply(tf.tensor1d(xs)) as tf.Tensor).dataSync();
    const ours = activate(tensor(xs), name as never).data();
    for (let i = 0; i < xs.length; i++) expect(Math.abs(ours[i] - theirs[i])).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(theirs[i])) + 1e-6);
  });
});

// softmax and gelu use the vector exp of assembly/simd.ts: four lanes at a time with a scalar-width tail.
describe("the vector exp underneath softmax and gelu", () => {
  it.each([1, 3, 4, 5, 9])("softmax over a row of %i: exact zeros under −∞, float64 values elsewhere", (width) => {
    const row = Array.from({ length: width }, (_, j) => (j % 2 === 1 ? Number.NEGATIVE_INFINITY : 0.7 * j - 3));
    const y = tensor([row, row.map((v) => v * 2)]).softmax(-1).data();
    for (const [r, scale] of [[0, 1], [1, 2]] as const) {
      const xs = row.map((v) => v * scale);
      const m = Math.max(...xs);
      const total = xs.reduce((s, v) => s + Math.exp(v - m), 0);
      xs.forEach((v, j) => {
        if (v === Number.NEGATIVE_INFINITY) expect(y[r * width + j]).toBe(0);
        else expect(Math.abs(y[r * width + j] - Math.exp(v - m) / total)).toBeLessThanOrEqual(4e-7 * (Math.exp(v - m) / total) + 1e-9); // ~3 float32 ulp
      });
    }
  });

  it("gelu and its gradient at the far ends: x and 0, 1 and 0, never NaN", () => {
    const x = tensor([-200, -90, -20, 20, 90, 200], { requiresGrad: true });
    const y = activate(x, "gelu");
    expect(Array.from(y.data()).map((v) => (v === 0 ? 0 : v))).toEqual([0, 0, 0, 20, 90, 200]); // ±0 alike
    y.sum().backward();
    expect(Array.from(x.grad!.data())).toEqual([0, 0, 0, 1, 1, 1]);
  });
});
