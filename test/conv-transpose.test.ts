// convTranspose2d (the convolution's input-gradient path run forward) against float64 loops
// written from the definition, on strides, padding, output padding and dilations; its gradients
// against finite differences; the same bits on any thread count; and ONNX's ConvTranspose
// imported onto it (channels-last) against onnxruntime, with its gradients.
import { beforeAll, describe, expect, it } from "vitest";
import { ArgumentError, ShapeError, convTranspose2d, gradcheck, init, tensor } from "../src/index.js";
import { BUILDS, randomArray, rng } from "./helpers.js";
import { agreesWithOrt, runsOn } from "./onnx-compare.js";
import { type Attr, FLOAT, floats, int, ints, model, node, value } from "./onnx-builder.js";

interface Case {
  x: number[]; // [n, h, w, c]
  k: [number, number, number]; // kh, kw, filters
  stride: number;
  padding: [number, number, number, number];
  outputPadding: [number, number];
  dilation: [number, number];
}

/**
 * Every product the transposed convolution adds, from its definition: input pixel (iy, ix) spreads
 * x·W over output (iy·stride − top + ky·dh, ix·stride − left + kx·dw), those inside the output.
 */
function forEachTerm({ x: [n, h, w, c], k: [kh, kw, m], stride, padding: [top, left, bottom, right], outputPadding, dilation: [dh, dw] }: Case,
  term: (xi: number, wi: number, yi: number) => void) {
  const H = (h - 1) * stride + (kh - 1) * dh + 1 - top - bottom + outputPadding[0];
  const W = (w - 1) * stride + (kw - 1) * dw + 1 - left - right + outputPadding[1];
  for (let b = 0; b < n; b++) for (let iy = 0; iy < h; iy++) for (let ix = 0; ix < w; ix++)
    for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) {
      const oy = iy * stride - top + ky * dh, ox = ix * stride - left + kx * dw;
      if (oy < 0 || oy >= H || ox < 0 || ox >= W) continue;
      for (let ci = 0; ci < c; ci++) for (let mo = 0; mo < m; mo++) {
        term(((b * h + iy) * w + ix) * c + ci, ((ky * kw + kx) * m + mo) * c + ci, ((b * H + oy) * W + ox) * m + mo);
      }
    }
  return [n, H, W, m];
}

const CASES: Case[] = [
  { x: [2, 4, 5, 3], k: [2, 2, 4], stride: 2, padding: [0, 0, 0, 0], outputPadding: [0, 0], dilation: [1, 1] }, // U-Net's up-sampling
  { x: [1, 5, 4, 6], k: [3, 3, 5], stride: 2, padding: [1, 1, 1, 1], outputPadding: [1, 1], dilation: [1, 1] },
  { x: [3, 3, 3, 2], k: [4, 4, 3], stride: 2, padding: [1, 2, 1, 0], outputPadding: [0, 1], dilation: [1, 1] },
  { x: [2, 5, 5, 4], k: [3, 3, 7], stride: 1, padding: [1, 1, 1, 1], outputPadding: [0, 0], dilation: [1, 1] },
  { x: [2, 4, 4, 3], k: [3, 2, 2], stride: 3, padding: [2, 0, 1, 3], outputPadding: [2, 0], dilation: [2, 3] },
  { x: [1, 1, 9, 4], k: [1, 5, 3], stride: 2, padding: [0, 2, 0, 1], outputPadding: [0, 1], dilation: [1, 2] }, // 1-D
  { x: [4, 6, 6, 8], k: [1, 1, 16], stride: 1, padding: [0, 0, 0, 0], outputPadding: [0, 0], dilation: [1, 1] }, // pointwise: one GEMM
];

const title = (c: Case) => `x [${c.x}], ${c.k[0]}×${c.k[1]}→${c.k[2]}, stride ${c.stride}, padding [${c.padding}], output padding [${c.outputPadding}], dilation [${c.dilation}]`;

describe.each(BUILDS)("convTranspose2d (%s build)", (build) => {
  beforeAll(async () => {
    await init({ build });
  });

  it.each(CASES.map((c) => [title(c), c] as const))("%s: y, ∂x, ∂W, ∂b match float64 loops", (_, c) => {
    const random = rng(c.x.reduce((a, b) => a * b, c.stride + c.k[2]));
    const wShape = [c.k[0], c.k[1], c.k[2], c.x[3]];
    const xv = randomArray(c.x.reduce((a, b) => a * b), random), wv = randomArray(wShape.reduce((a, b) => a * b), random), bv = randomArray(c.k[2], random);
    const x = tensor(xv, { shape: c.x, requiresGrad: true }), w = tensor(wv, { shape: wShape, requiresGrad: true }), b = tensor(bv, { requiresGrad: true });
    const y = convTranspose2d(x, w, b, { stride: c.stride, padding: c.padding, outputPadding: c.outputPadding, dilation: c.dilation });
    const terms: [number, number, number][] = [];
    const shape = forEachTerm(c, (...t) => terms.push(t));
    expect(y.shape).toEqual(shape);
    const want = new Float64Array(y.size).map((_, i) => bv[i % c.k[2]]);
    for (const [xi, wi, yi] of terms) want[yi] += xv[xi] * wv[wi];
    const got = y.data();
    want.forEach((v, i) => expect(Math.abs(got[i] - v)).toBeLessThan(1e-5));
    const g = randomArray(y.size, random);
    y.mul(tensor(g, { shape: y.shape })).sum().backward();
    const dx = new Float64Array(xv.length), dw = new Float64Array(wv.length), db = new Float64Array(bv.length);
    for (const [xi, wi, yi] of terms) (dx[xi] += g[yi] * wv[wi], dw[wi] += g[yi] * xv[xi]);
    g.forEach((v, i) => (db[i % c.k[2]] += v));
    const [gx, gw, gb] = [x.grad!.data(), w.grad!.data(), b.grad!.data()];
    dx.forEach((v, i) => expect(Math.abs(gx[i] - v)).toBeLessThan(1e-5));
    dw.forEach((v, i) => expect(Math.abs(gw[i] - v)).toBeLessThan(1e-4));
    db.forEach((v, i) => expect(Math.abs(gb[i] - v)).toBeLessThan(1e-4));
  });
});

describe("convTranspose2d's checks and gradients", () => {
  beforeAll(async () => {
    await init();
  });

  it.each(CASES.slice(1, 5).map((c) => [title(c), c] as const))("%s: gradients as finite differences", (_, c) => {
    const random = rng(3);
    const wShape = [c.k[0], c.k[1], c.k[2], c.x[3]];
    const x = tensor(randomArray(c.x.reduce((a, b) => a * b), random), { shape: c.x, requiresGrad: true });
    const w = tensor(randomArray(wShape.reduce((a, b) => a * b), random), { shape: wShape, requiresGrad: true });
    const b = tensor(randomArray(c.k[2], random), { requiresGrad: true });
    const report = gradcheck((x, w, b) => convTranspose2d(x, w, b, c).tanh(), [x, w, b]);
    expect(report.ok, JSON.stringify(report.worst)).toBe(true);
  });

  it("refuses bad shapes and options with typed errors naming them, before anything is made", () => {
    const x = tensor(new Float32Array(2 * 3 * 3 * 4), { shape: [2, 3, 3, 4] });
    const w = tensor(new Float32Array(2 * 2 * 5 * 4), { shape: [2, 2, 5, 4] });
    expect(() => convTranspose2d(x, tensor(new Float32Array(2 * 2 * 5 * 3), { shape: [2, 2, 5, 3] }), null)).toThrow(ShapeError);
    expect(() => convTranspose2d(x, w, tensor(new Float32Array(4)))).toThrow(/b \[filters\]/);
    expect(() => convTranspose2d(x, w, null, { stride: 0 })).toThrow(/convTranspose2d: stride must be a positive integer/);
    expect(() => convTranspose2d(x, w, null, { padding: [1, 1] as never })).toThrow(ArgumentError);
    expect(() => convTranspose2d(x, w, null, { outputPadding: [-1, 0] })).toThrow(/convTranspose2d: outputPadding must be 2 whole numbers ≥ 0/);
    expect(() => convTranspose2d(x, w, null, { dilation: [2, 0] })).toThrow(/convTranspose2d: dilation must be a positive integer or two of them/);
    expect(() => convTranspose2d(x, w, null, { padding: [3, 3, 3, 3] })).toThrow(/gives a -2×-2 output/);
  });
});

describe("ONNX's ConvTranspose on the input-gradient path", () => {
  beforeAll(async () => {
    await init();
  });

  const random = rng(8);
  const weights = (dims: number[]) => Array.from({ length: dims.reduce((a, b) => a * b) }, () => random() - 0.5);
  // [label, x dims, W dims [c, m, kh, kw], attributes]: a Conv before it (the input arrives channels-last), a Tanh after.
  const IMPORTS: [string, number[], number[], Attr[]][] = [
    ["2×2 stride 2 (U-Net)", [2, 4, 3, 5], [4, 3, 2, 2], [ints("strides", [2, 2])]],
    ["3×3 stride 2, pads, output_padding", [1, 4, 3, 4], [4, 2, 3, 3], [ints("strides", [2, 2]), ints("pads", [1, 0, 1, 2]), ints("output_padding", [1, 1])]],
    ["dilated, output_shape", [2, 4, 3, 4], [4, 3, 3, 3], [ints("dilations", [2, 2]), ints("output_shape", [7, 8])]],
    ["1-D, stride 3", [2, 3, 6], [3, 2, 4], [ints("strides", [3]), ints("pads", [1, 2])]],
  ];
  it.each(IMPORTS)("%s: onnxruntime's values, convTranspose2d in the graph (no planar kernel), gradients as finite differences", async (_, xDims, wDims, attrs) => {
    const c = xDims[1];
    const pre = [c, c, ...xDims.slice(2).map(() => 1)];
    const bytes = model({
      nodes: [node("Conv", ["x", "pre"], ["h"]), node("ConvTranspose", ["h", "w", "b"], ["t"], attrs), node("Tanh", ["t"], ["y"])],
      inputs: [value("x", FLOAT, xDims)],
      outputs: [value("y", FLOAT, xDims.map(() => "?"))],
      initializers: [floats("pre", pre, weights(pre)), floats("w", wDims, weights(wDims)), floats("b", [wDims[1]], weights([wDims[1]]))],
    });
    await runsOn(bytes, Float32Array.from(weights(xDims)), xDims, "convTranspose2d", "convTransposePlanes");
  });

  it("a grouped ConvTranspose stays on the planar kernels, with onnxruntime's values", async () => {
    const wDims = [4, 1, 3, 3];
    const bytes = model({
      nodes: [node("ConvTranspose", ["x", "w"], ["y"], [ints("strides", [2, 2]), int("group", 2)])],
      inputs: [value("x", FLOAT, [1, 4, 3, 3])],
      outputs: [value("y", FLOAT, [1, 2, 7, 7])],
      initializers: [floats("w", wDims, weights(wDims))],
    });
    await agreesWithOrt(bytes, Float32Array.from(weights([36])), [1, 4, 3, 3]);
  });
});
