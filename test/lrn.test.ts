// lrn() (assembly/lrn.ts) against float64 loops written from ONNX's definition, the channels
// along the last axis (channels-last images) and along axis 1 (planar), odd and even windows, β
// = ¾ (its square-root path) and others; its gradient against the float64 derivative and finite
// differences; typed errors. ONNX's own LRN cases and GoogLeNet's file run in the conformance suite.
import { beforeAll, describe, expect, it } from "vitest";
import { ArgumentError, gradcheck, init, tensor } from "../src/index.js";
import { lrn } from "../src/autograd/ops/lrn.js";
import { BUILDS, randomArray, rng } from "./helpers.js";

interface Case { shape: number[]; axis: number; size: number; alpha: number; beta: number; bias: number }

/** y and ∂(Σ g·y)/∂x in float64, the sums over each window written out. */
function reference(x: Float32Array, g: Float32Array, { shape, axis, size, alpha, beta, bias }: Case) {
  const c = shape[axis], inner = shape.slice(axis + 1).reduce((p, q) => p * q, 1), outer = x.length / (c * inner);
  const lo = Math.floor((size - 1) / 2), hi = Math.ceil((size - 1) / 2);
  const at = (o: number, ch: number, i: number) => (o * c + ch) * inner + i;
  const d = new Float64Array(x.length), y = new Float64Array(x.length), gx = new Float64Array(x.length);
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let k = Math.max(0, ch - lo); k <= Math.min(c - 1, ch + hi); k++) s += x[at(o, k, i)] ** 2;
    d[at(o, ch, i)] = bias + (alpha / size) * s;
    y[at(o, ch, i)] = x[at(o, ch, i)] * d[at(o, ch, i)] ** -beta;
  }
  // ∂y[ch]/∂x[k] = δ(ch, k)·d^−β − β·x[ch]·d^(−β−1)·(2α/size)·x[k] for k in ch's window.
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) for (let ch = 0; ch < c; ch++) {
    const j = at(o, ch, i);
    gx[j] += g[j] * d[j] ** -beta;
    for (let k = Math.max(0, ch - lo); k <= Math.min(c - 1, ch + hi); k++) {
      gx[at(o, k, i)] -= g[j] * beta * x[j] * d[j] ** (-beta - 1) * ((2 * alpha) / size) * x[at(o, k, i)];
    }
  }
  return { y, gx };
}

const CASES: Case[] = [
  { shape: [2, 3, 3, 13], axis: 3, size: 5, alpha: 1e-4, beta: 0.75, bias: 1 }, // GoogLeNet's, channels-last
  { shape: [2, 7, 3, 4], axis: 1, size: 5, alpha: 1e-4, beta: 0.75, bias: 1 }, // planar
  { shape: [3, 6, 9], axis: 2, size: 4, alpha: 0.5, beta: 0.75, bias: 2 }, // an even window: one more channel after than before
  { shape: [2, 5, 4, 2], axis: 1, size: 3, alpha: 2, beta: 0.6, bias: 1.5 }, // β other than ¾: pow
  { shape: [1, 2, 2, 3], axis: 3, size: 9, alpha: 1, beta: 1, bias: 0.5 }, // a window wider than the channels
];

describe.each(BUILDS)("lrn (%s build)", (build) => {
  beforeAll(async () => {
    await init({ build });
  });

  it.each(CASES.map((c) => [JSON.stringify(c), c] as const))("%s: y and ∂x match float64 loops", (_, c) => {
    const n = c.shape.reduce((p, q) => p * q, 1), random = rng(n + c.size);
    const xv = randomArray(n, random).map((v) => 3 * v), g = randomArray(n, random);
    const x = tensor(xv, { shape: c.shape, requiresGrad: true });
    const y = lrn(x, c);
    y.mul(tensor(g, { shape: c.shape })).sum().backward();
    const want = reference(xv, g, c);
    const got = y.data(), gx = x.grad!.data();
    want.y.forEach((v, i) => expect(Math.abs(got[i] - v)).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(v))));
    want.gx.forEach((v, i) => expect(Math.abs(gx[i] - v)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(v))));
  });
});

describe("lrn's gradient and checks", () => {
  beforeAll(async () => {
    await init();
  });

  it.each(CASES.map((c) => [JSON.stringify(c), c] as const))("%s: gradient as finite differences", (_, c) => {
    const x = tensor(randomArray(c.shape.reduce((p, q) => p * q, 1), rng(4)), { shape: c.shape, requiresGrad: true });
    const report = gradcheck((t) => lrn(t, c), [x]);
    expect(report.ok, JSON.stringify(report.worst)).toBe(true);
  });

  it("refuses a window that is not a positive integer and an axis out of range, with typed errors", () => {
    const x = tensor(new Float32Array(24), { shape: [2, 3, 4] });
    expect(() => lrn(x, { size: 0 })).toThrow(ArgumentError);
    expect(() => lrn(x, { size: 2.5 })).toThrow(/lrn: size/);
    expect(() => lrn(x, { size: 3, axis: 3 })).toThrow(/axis 3 is out of range/);
    expect(() => lrn(x, { size: 3, beta: Number.NaN })).toThrow(/lrn: beta/);
  });
});
