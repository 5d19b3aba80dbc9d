import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import {
  AvgPool2D, Conv2D, Dense, Flatten, MaxPool2D, type Padding, Sequential, ShapeError, avgPool2d, conv2d, gradcheck,
  init, maxPool2d, tensor,
} from "../src/index.js";
import { BUILDS, randomArray, rng } from "./helpers.js";
import { CHUNK_FLOATS } from "../src/autograd/ops/lowered.js";
import { avgPoolPlanes } from "../src/autograd/ops/planes.js";

type Pads = Padding | [number, number, number, number];

/**
 * Calls term(xi, wi, yi) for every product x[xi]·W[wi] that the convolution adds into y[yi], loop
 * by loop; taps `dilation` [rows, columns] apart, padding named or explicit [top, left, bottom, right].
 */
function forEachTerm(
  [n, h, w, c]: number[], [kh, kw, , f]: number[], stride: number, padding: Pads,
  term: (xi: number, wi: number, yi: number) => void, [dh, dw] = [1, 1],
) {
  const [spanH, spanW] = [(kh - 1) * dh + 1, (kw - 1) * dw + 1];
  const explicit = typeof padding === "string" ? null : padding;
  const out = (size: number, span: number, before: number, after: number) =>
    (padding === "same" ? Math.ceil(size / stride) : Math.floor((size + before + after - span) / stride) + 1);
  const [oh, ow] = [out(h, spanH, explicit?.[0] ?? 0, explicit?.[2] ?? 0), out(w, spanW, explicit?.[1] ?? 0, explicit?.[3] ?? 0)];
  const padTop = explicit ? explicit[0] : padding === "same" ? Math.floor(Math.max((oh - 1) * stride + spanH - h, 0) / 2) : 0;
  const padLeft = explicit ? explicit[1] : padding === "same" ? Math.floor(Math.max((ow - 1) * stride + spanW - w, 0) / 2) : 0;
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let o = 0; o < f; o++)
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++)
              for (let ch = 0; ch < c; ch++) {
                const iy = oy * stride - padTop + ky * dh;
                const ix = ox * stride - padLeft + kx * dw;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                term(((b * h + iy) * w + ix) * c + ch, ((ky * kw + kx) * c + ch) * f + o, ((b * oh + oy) * ow + ox) * f + o);
              }
  return [n, oh, ow, f];
}

/** The convolution in float64: the independent reference. */
function directConv(x: Float32Array, xShape: number[], k: Float32Array, wShape: number[], bias: Float32Array, stride: number, padding: Pads, dilation?: [number, number]) {
  const terms: [number, number, number][] = [];
  const shape = forEachTerm(xShape, wShape, stride, padding, (xi, wi, yi) => terms.push([xi, wi, yi]), dilation);
  const y = new Float64Array(shape.reduce((a, b) => a * b));
  y.forEach((_, i) => (y[i] = bias[i % wShape[3]]));
  for (const [xi, wi, yi] of terms) y[yi] += x[xi] * k[wi];
  return { y, shape };
}

/** ∂(Σ g·conv(x, W))/∂x and /∂W in float64. */
function directConvGrads(x: Float32Array, xShape: number[], k: Float32Array, wShape: number[], g: Float32Array, stride: number, padding: Pads, dilation?: [number, number]) {
  const dx = new Float64Array(x.length), dw = new Float64Array(k.length);
  forEachTerm(xShape, wShape, stride, padding, (xi, wi, yi) => {
    dx[xi] += g[yi] * k[wi];
    dw[wi] += g[yi] * x[xi];
  }, dilation);
  return { dx, dw };
}

// Filter counts below, at and above the GEMM's eight-column tiles; strides and both paddings;
// patches small enough for the direct kernels and large enough for im2col.
const CONFIGS: [number[], number, number, number, Padding][] = [
  // [x shape], kernel, filters, stride, padding
  [[2, 7, 6, 1], 3, 2, 1, "valid"],
  [[1, 6, 6, 3], 3, 4, 2, "same"],
  [[2, 5, 8, 2], 5, 3, 1, "same"],
  [[1, 9, 7, 2], 2, 5, 3, "valid"],
  [[3, 4, 4, 4], 1, 3, 1, "valid"],
  [[1, 8, 8, 1], 4, 2, 2, "same"],
  [[2, 6, 5, 1], 3, 10, 1, "same"],
  [[1, 7, 7, 4], 3, 5, 2, "same"],
  [[1, 9, 9, 2], 5, 9, 1, "valid"],
  // One channel at stride 1 (pixels in lanes): rows wider than 16 pixels, odd filter counts.
  [[1, 5, 21, 1], 3, 3, 1, "same"],
  [[2, 9, 18, 1], 5, 7, 1, "valid"],
];

describe.each(BUILDS)("conv2d (%s build)", (build) => {
  beforeAll(async () => {
    await init({ build });
  });

  it.each(CONFIGS)("x %j, %i×%i kernel… matches the direct loop-by-loop convolution", (xShape, kSize, filters, stride, padding) => {
    const random = rng(xShape.reduce((a, b) => a * b, kSize * 31 + stride));
    const wShape = [kSize, kSize, xShape[3], filters];
    const xv = randomArray(xShape.reduce((a, b) => a * b), random);
    const wv = randomArray(wShape.reduce((a, b) => a * b), random);
    const bv = randomArray(filters, random);
    const y = conv2d(tensor(xv, { shape: xShape }), tensor(wv, { shape: wShape }), tensor(bv), { stride, padding });
    const want = directConv(xv, xShape, wv, wShape, bv, stride, padding);
    expect(y.shape).toEqual(want.shape);
    const got = y.data();
    want.y.forEach((v, i) => expect(Math.abs(got[i] - v)).toBeLessThan(1e-5));
  });

  // Patches of 8·5·5 = 200 floats, 144 or 100 pixels an image: one image a chunk of CHUNK_FLOATS.
  it.each([
    [[3, 12, 12, 8], 1, "same"],
    [[3, 24, 24, 8], 2, "valid"],
  ] as [number[], number, Padding][])("x %j through im2col a chunk of images at a time: y, ∂x, ∂W, ∂b match float64 loops (stride %i, %s)", (xShape, stride, padding) => {
    const wShape = [5, 5, 8, 6];
    const random = rng(77 + stride);
    const xv = randomArray(xShape.reduce((a, b) => a * b), random);
    const wv = randomArray(wShape.reduce((a, b) => a * b), random);
    const bv = randomArray(6, random);
    const want = directConv(xv, xShape, wv, wShape, bv, stride, padding);
    expect(want.shape[1] * want.shape[2] * 200).toBeGreaterThan(CHUNK_FLOATS / 2); // one image a chunk
    const x = tensor(xv, { shape: xShape, requiresGrad: true });
    const w = tensor(wv, { shape: wShape, requiresGrad: true });
    const b = tensor(bv, { requiresGrad: true });
    const y = conv2d(x, w, b, { stride, padding });
    const got = y.data();
    want.y.forEach((v, i) => expect(Math.abs(got[i] - v)).toBeLessThan(1e-4));
    const g = randomArray(got.length, random);
    y.mul(tensor(g, { shape: y.shape })).sum().backward();
    const { dx, dw } = directConvGrads(xv, xShape, wv, wShape, g, stride, padding);
    const gx = x.grad!.data(), gw = w.grad!.data(), gb = b.grad!.data();
    dx.forEach((v, i) => expect(Math.abs(gx[i] - v)).toBeLessThan(1e-4));
    dw.forEach((v, i) => expect(Math.abs(gw[i] - v)).toBeLessThan(1e-3)); // sums of up to 720 products
    for (let o = 0; o < 6; o++) {
      let s = 0;
      for (let i = o; i < g.length; i += 6) s += g[i];
      expect(Math.abs(gb[o] - s)).toBeLessThan(1e-4);
    }
  });
});

// Dilated windows through im2col and col2im: taps that fall off either edge, dilations per axis,
// a window wider than the image's columns (the padding only), strides, a one-row image (a 1-D
// conv), the one-image path (its im2col by output rows), and patches small enough that an
// undilated window would go to the direct kernels.
const DILATED: [number[], number[], number, Pads, [number, number]][] = [
  // [x shape], [kh, kw, filters], stride, padding, [dh, dw]
  [[2, 9, 9, 3], [3, 3, 5], 1, "same", [2, 2]],
  [[1, 11, 10, 4], [3, 3, 9], 2, [2, 1, 0, 3], [3, 2]],
  [[3, 7, 8, 2], [2, 3, 4], 1, "valid", [1, 3]],
  [[2, 1, 20, 6], [1, 5, 7], 1, [0, 4, 0, 4], [1, 2]],
  [[2, 1, 17, 5], [1, 3, 8], 2, [0, 3, 0, 1], [1, 3]],
  [[1, 6, 4, 2], [3, 3, 3], 1, [4, 6, 4, 6], [2, 3]],
  [[4, 8, 8, 1], [3, 3, 2], 1, "same", [2, 2]],
];

describe.each(BUILDS)("dilated conv2d (%s build)", (build) => {
  beforeAll(async () => {
    await init({ build });
  });

  it.each(DILATED)("x %j, W %j, stride %i, padding %j, dilation %j: y, ∂x, ∂W, ∂b match float64 loops", (xShape, [kh, kw, filters], stride, padding, dilation) => {
    const wShape = [kh, kw, xShape[3], filters];
    const random = rng(xShape.reduce((a, b) => a * b, kh * 7 + kw + dilation[1]));
    const xv = randomArray(xShape.reduce((a, b) => a * b), random);
    const wv = randomArray(wShape.reduce((a, b) => a * b), random);
    const bv = randomArray(filters, random);
    const x = tensor(xv, { shape: xShape, requiresGrad: true });
    const w = tensor(wv, { shape: wShape, requiresGrad: true });
    const b = tensor(bv, { requiresGrad: true });
    const y = conv2d(x, w, b, { stride, padding, dilation });
    const want = directConv(xv, xShape, wv, wShape, bv, stride, padding, dilation);
    expect(y.shape).toEqual(want.shape);
    const got = y.data();
    want.y.forEach((v, i) => expect(Math.abs(got[i] - v)).toBeLessThan(1e-5));
    const g = randomArray(got.length, random);
    y.mul(tensor(g, { shape: y.shape })).sum().backward();
    const { dx, dw } = directConvGrads(xv, xShape, wv, wShape, g, stride, padding, dilation);
    const gx = x.grad!.data(), gw = w.grad!.data(), gb = b.grad!.data();
    dx.forEach((v, i) => expect(Math.abs(gx[i] - v)).toBeLessThan(1e-5));
    dw.forEach((v, i) => expect(Math.abs(gw[i] - v)).toBeLessThan(1e-4));
    for (let o = 0; o < filters; o++) {
      let sum = 0;
      for (let i = o; i < g.length; i += filters) sum += g[i];
      expect(Math.abs(gb[o] - sum)).toBeLessThan(1e-4);
    }
  });

  it("refuses a dilation that is not a positive integer (or two), and Winograd's with one, before anything is made", () => {
    const x = tensor(new Float32Array(2 * 6 * 6 * 2), { shape: [2, 6, 6, 2] });
    const w = tensor(new Float32Array(3 * 3 * 2 * 4), { shape: [3, 3, 2, 4] });
    for (const bad of [0, 1.5, [2], [1, 0], "2"]) {
      expect(() => conv2d(x, w, null, { dilation: bad as never })).toThrow(/conv2d: dilation must be a positive integer/);
    }
    expect(() => conv2d(x, w, null, { dilation: 2, algorithm: "winograd" })).toThrow(/undilated 3×3 window/);
    expect(() => conv2d(x, w, null, { dilation: 3 })).toThrow(ShapeError); // a 7-wide window in 6 columns, unpadded
  });

  it("the Conv2D layer takes a dilation: its output shape, its values as conv2d's, its config", () => {
    const layer = new Conv2D(4, 3, { dilation: 2, padding: "valid" });
    new Sequential([layer], { inputShape: [9, 9, 2], seed: 1 });
    const x = tensor(randomArray(2 * 9 * 9 * 2, rng(5)), { shape: [2, 9, 9, 2] });
    const y = layer.forward(x, {});
    expect(y.shape).toEqual([2, 5, 5, 4]);
    expect(Array.from(y.data())).toEqual(Array.from(conv2d(x, layer.weight!, layer.bias, { dilation: 2 }).data()));
    expect(layer.config()).toMatchObject({ dilation: 2 });
  });
});

describe("gradcheck of the convolutional ops", () => {
  beforeAll(async () => {
    await init();
  });

  it.each(CONFIGS)("conv2d: x %j, kernel %i, %i filters, stride %i, %s", (xShape, kSize, filters, stride, padding) => {
    const random = rng(kSize * 101 + filters);
    const wShape = [kSize, kSize, xShape[3], filters];
    const x = tensor(randomArray(xShape.reduce((a, b) => a * b), random), { shape: xShape, requiresGrad: true });
    const w = tensor(randomArray(wShape.reduce((a, b) => a * b), random), { shape: wShape, requiresGrad: true });
    const b = tensor(randomArray(filters, random), { requiresGrad: true });
    const report = gradcheck((x, w, b) => conv2d(x, w, b, { stride, padding, activation: "tanh" }), [x, w, b]);
    expect(report.ok, JSON.stringify(report.worst)).toBe(true);
  });

  /** Distinct values in (−0.9, 0.9), at least 0.018 apart: wider than gradcheck's steps of ±2⁻⁹, so no step changes which is largest. */
  function spaced(shape: number[], seed: number) {
    const n = shape.reduce((a, b) => a * b);
    const values = Array.from({ length: n }, (_, i) => (i - n / 2) * (1.8 / n));
    const random = rng(seed);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [values[i], values[j]] = [values[j], values[i]];
    }
    return tensor(values, { shape, requiresGrad: true });
  }

  it.each([
    [[2, 4, 4, 3], 2, 2],
    [[1, 5, 7, 2], 3, 2],
    [[1, 6, 6, 1], 3, 3],
  ])("maxPool2d and avgPool2d: x %j, window %i, stride %i", (shape, size, stride) => {
    const x = spaced(shape, size * 7 + stride);
    const max = gradcheck((x) => maxPool2d(x, { size, stride }), [x], { step: 2 ** -10 });
    expect(max.ok, JSON.stringify(max.worst)).toBe(true);
    const avg = gradcheck((x) => avgPool2d(x, { size, stride }), [x]);
    expect(avg.ok, JSON.stringify(avg.worst)).toBe(true);
  });

  it.each([
    [[2, 7, 6, 5], 3, 1, [1, 1, 1, 1], false], // GoogLeNet's same-size pool
    [[1, 8, 9, 6], 3, 2, [0, 1, 1, 0], true],
    [[2, 5, 5, 3], 2, 2, [1, 0, 0, 1], true],
    [[1, 3, 3, 4], 2, 2, [2, 2, 0, 0], false], // the first window lies wholly in the padding
  ] as [number[], number, number, [number, number, number, number], boolean][])("maxPool2d x %j, window %i, stride %i, pads %j, ceil %s: the max over the taps inside, its gradient to that tap", (shape, size, stride, pads, ceilMode) => {
    const [n, h, w, c] = shape;
    const xv = randomArray(n * h * w * c, rng(size * 7 + stride + h));
    const x = tensor(xv, { shape, requiresGrad: true });
    const y = maxPool2d(x, { size, stride, pads, ceilMode });
    const out = (len: number, before: number, after: number) => (ceilMode ? Math.ceil : Math.floor)((len + before + after - size) / stride) + 1;
    let [oh, ow] = [out(h, pads[0], pads[2]), out(w, pads[1], pads[3])];
    if (ceilMode && (oh - 1) * stride >= h + pads[0]) oh--; // no window starting in the end padding
    if (ceilMode && (ow - 1) * stride >= w + pads[1]) ow--;
    expect(y.shape).toEqual([n, oh, ow, c]);
    const g = randomArray(y.size, rng(3));
    y.mul(tensor(g, { shape: y.shape })).sum().backward();
    const want = new Float64Array(y.size), dx = new Float64Array(x.size);
    for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) for (let ch = 0; ch < c; ch++) {
      let best = -Infinity, at = -1;
      for (let ky = 0; ky < size; ky++) for (let kx = 0; kx < size; kx++) {
        const iy = oy * stride - pads[0] + ky, ix = ox * stride - pads[1] + kx;
        if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
        const i = ((b * h + iy) * w + ix) * c + ch;
        if (xv[i] > best) (best = xv[i], at = i);
      }
      const o = ((b * oh + oy) * ow + ox) * c + ch;
      want[o] = best;
      if (at >= 0) dx[at] += g[o];
    }
    expect(Array.from(y.data())).toEqual(Array.from(want));
    const gx = x.grad!.data();
    dx.forEach((v, i) => expect(Math.abs(gx[i] - v)).toBeLessThan(1e-6));
  });

  it("maxPool2d sends each window's gradient to its largest element, the first of equals (row-major), for any channel count", () => {
    for (const [shape, size, stride] of [[[2, 5, 6, 5], 2, 2], [[1, 6, 5, 6], 3, 1], [[1, 4, 4, 9], 2, 1]] as [number[], number, number][]) {
      const [n, h, w, c] = shape;
      const random = rng(c * 13 + size);
      const values = Array.from({ length: n * h * w * c }, () => Math.floor(random() * 3)); // many ties
      const x = tensor(values, { shape, requiresGrad: true });
      const y = maxPool2d(x, { size, stride });
      y.sum().backward();
      const [oh, ow] = [y.shape[1], y.shape[2]];
      const want = new Float32Array(values.length), wantY: number[] = [];
      for (let b = 0; b < n; b++)
        for (let oy = 0; oy < oh; oy++)
          for (let ox = 0; ox < ow; ox++)
            for (let ch = 0; ch < c; ch++) {
              let at = -1;
              for (let ky = 0; ky < size; ky++)
                for (let kx = 0; kx < size; kx++) {
                  const i = ((b * h + oy * stride + ky) * w + ox * stride + kx) * c + ch;
                  if (at < 0 || values[i] > values[at]) at = i;
                }
              want[at] += 1;
              wantY.push(values[at]);
            }
      expect(Array.from(y.data())).toEqual(wantY);
      expect(Array.from(x.grad!.data())).toEqual(Array.from(want));
    }
  });

  it("pooling takes the max / mean of each window", () => {
    // One 4×4 image, two channels: channel 1 is channel 0 negated.
    const values = Array.from({ length: 16 }, (_, i) => i).flatMap((v) => [v, 0 - v]);
    const x = tensor(values, { shape: [1, 4, 4, 2] });
    expect(Array.from(maxPool2d(x, { size: 2 }).data())).toEqual([5, 0, 7, -2, 13, -8, 15, -10]);
    expect(Array.from(avgPool2d(x, { size: 2 }).data())).toEqual([2.5, -2.5, 4.5, -4.5, 10.5, -10.5, 12.5, -12.5]);
  });
});

describe("avgPool2d with padding (ONNX AveragePool's pads, ceil_mode, count_include_pad) on NHWC", () => {
  beforeAll(async () => {
    await init();
  });

  // The NCHW kernel (the importer's general path) is the reference: both add a window's taps in
  // row-major order from zero and divide by the same count, so they agree bit for bit.
  it("equals the NCHW kernel bit for bit, output and ∂x, on random shapes, any channel count", () => {
    const spec = fc.record({
      n: fc.integer({ min: 1, max: 2 }), h: fc.integer({ min: 1, max: 7 }), w: fc.integer({ min: 1, max: 7 }), c: fc.integer({ min: 1, max: 9 }),
      size: fc.integer({ min: 1, max: 4 }), stride: fc.integer({ min: 1, max: 3 }), pads: fc.tuple(...[0, 1, 2, 3].map(() => fc.integer({ min: 0, max: 3 }))),
      ceilMode: fc.boolean(), countIncludePad: fc.boolean(), seed: fc.integer(),
    }).filter(({ h, w, size, pads: [t, l, b, r] }) => h + t + b >= size && w + l + r >= size);
    fc.assert(fc.property(spec, ({ n, h, w, c, size, stride, pads, ceilMode, countIncludePad, seed }) => {
      const random = rng(seed);
      const x = tensor(randomArray(n * h * w * c, random), { shape: [n, h, w, c], requiresGrad: true });
      const planes = x.detach().transpose([0, 3, 1, 2]);
      planes.requiresGrad = true;
      const [t, l, b, r] = pads as [number, number, number, number];
      const y = avgPool2d(x, { size, stride, pads: [t, l, b, r], ceilMode, countIncludePad });
      const want = avgPoolPlanes(planes, { kernel: [size, size], strides: [stride, stride], pads: [t, l, b, r], ceilMode, countIncludePad });
      expect(Array.from(y.data())).toEqual(Array.from(want.transpose([0, 2, 3, 1]).data()));
      const upstream = randomArray(y.size, random);
      y.mul(tensor(upstream, { shape: y.shape })).sum().backward();
      want.transpose([0, 2, 3, 1]).mul(tensor(upstream, { shape: y.shape })).sum().backward();
      expect(Array.from(x.grad!.data())).toEqual(Array.from(planes.grad!.transpose([0, 2, 3, 1]).data()));
    }), { seed: 21, numRuns: 200 });
  });

  it("divides by the input's taps, or the padded window's with countIncludePad, never by ceil mode's overhang", () => {
    const x = tensor([1, 2, 3, 4], { shape: [1, 2, 2, 1] });
    // 3×3 windows, padding 1 all round: each window holds the whole image (sum 10).
    expect(Array.from(avgPool2d(x, { size: 3, stride: 1, pads: [1, 1, 1, 1] }).data())).toEqual([2.5, 2.5, 2.5, 2.5]);
    expect(Array.from(avgPool2d(x, { size: 3, stride: 1, pads: [1, 1, 1, 1], countIncludePad: true }).data())).toEqual([10 / 9, 10 / 9, 10 / 9, 10 / 9].map(Math.fround));
    // 2×2 windows, stride 2, on a 3×3 image in ceil mode: the last row and column of windows overhang by one.
    const z = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], { shape: [1, 3, 3, 1] });
    expect(Array.from(avgPool2d(z, { size: 2, stride: 2, ceilMode: true, countIncludePad: true }).data())).toEqual([3, 4.5, 7.5, 9]);
  });

  it("its gradient matches finite differences with padding on both sides", () => {
    const x = tensor(randomArray(2 * 5 * 6 * 3, rng(7)), { shape: [2, 5, 6, 3], requiresGrad: true });
    for (const countIncludePad of [false, true]) {
      const r = gradcheck((x) => avgPool2d(x, { size: 3, stride: 2, pads: [1, 1, 1, 0], ceilMode: true, countIncludePad }), [x]);
      expect(r.ok, JSON.stringify(r.worst)).toBe(true);
    }
  });

  it("refuses bad pads and flags, naming them, before anything runs", () => {
    const x = tensor(new Float32Array(16), { shape: [1, 4, 4, 1] });
    expect(() => avgPool2d(x, { size: 2, pads: [1, 1, -1, 0] })).toThrow(/pads must be four non-negative integers \[top, left, bottom, right\], got an array of 4/);
    expect(() => avgPool2d(x, { size: 2, pads: [1, 1] as never })).toThrow(/pads must be four non-negative integers/);
    expect(() => avgPool2d(x, { size: 2, ceilMode: 1 as never })).toThrow(/options.ceilMode must be true or false, got 1/);
    expect(() => avgPool2d(x, { size: 2, countIncludePad: "no" as never })).toThrow(/options.countIncludePad must be true or false/);
    expect(() => avgPool2d(x, { size: 6, pads: [1, 0, 0, 0] })).toThrow(ShapeError);
    expect(() => avgPool2d(x, { size: 0 })).toThrow(/size must be a positive integer, got 0/);
    expect(() => maxPool2d(x, { size: 2, pads: [0, -1, 0, 0] })).toThrow(/maxPool2d: pads must be four non-negative integers/);
    expect(() => maxPool2d(x, { size: 2, ceilMode: "yes" as never })).toThrow(/maxPool2d: options.ceilMode must be true or false/);
  });
});

describe("convolutional layers", () => {
  beforeAll(async () => {
    await init();
  });

  it("LeNet-5's shapes: 28×28×1 → 28×28×6 → 14×14×6 → 10×10×16 → 5×5×16 → 400 → 120 → 84 → 10", () => {
    const model = new Sequential(
      [
        new Conv2D(6, 5, { padding: "same", activation: "relu" }), new MaxPool2D(2),
        new Conv2D(16, 5, { activation: "relu" }), new AvgPool2D(2), new Flatten(),
        new Dense(120, { activation: "relu" }), new Dense(84, { activation: "relu" }), new Dense(10),
      ],
      { inputShape: [28, 28, 1] },
    );
    const summary = model.summary().split("\n");
    expect(summary[1]).toMatch(/^conv2d_1\s+Conv2D 5×5 same relu\s+\[batch, 28, 28, 6\]\s+156$/);
    expect(summary[3]).toMatch(/^conv2d_2\s+Conv2D 5×5 valid relu\s+\[batch, 10, 10, 16\]\s+2416$/);
    expect(summary[4]).toMatch(/^avgpool2d_1\s+AvgPool2D 2×2\s+\[batch, 5, 5, 16\]\s+0$/);
    expect(summary[6]).toMatch(/\[batch, 120\]\s+48120$/);
    const y = model.forward(tensor(new Float32Array(2 * 784), { shape: [2, 28, 28, 1] }));
    expect(y.shape).toEqual([2, 10]);
  });

  it("refuses inputs that do not fit, saying why", () => {
    expect(() => conv2d(tensor(new Float32Array(8), { shape: [1, 2, 2, 2] }), tensor(new Float32Array(18), { shape: [3, 3, 2, 1] }), null))
      .toThrow(/a 3-wide window does not fit in an input 2 wide with "valid" padding/);
    expect(() => conv2d(tensor(new Float32Array(8), { shape: [1, 2, 2, 2] }), tensor(new Float32Array(9), { shape: [3, 3, 1, 1] }), null))
      .toThrow(ShapeError);
    expect(() => new Sequential([new Conv2D(2, 3)], { inputShape: [28, 28] })).toThrow(/\[height, width, channels\] per sample, got \[28, 28\]/);
    expect(() => maxPool2d(tensor([1, 2, 3]), { size: 2 })).toThrow(/expected x \[batch, height, width, channels\], got \[3\]/);
    expect(() => conv2d(tensor(new Float32Array(16), { shape: [1, 4, 4, 1] }), tensor(new Float32Array(9), { shape: [3, 3, 1, 1] }), null, { stride: 0 }))
      .toThrow(/stride must be a positive integer, got 0/);
  });
});

describe("NCHW convolution and pooling (the ONNX importer's kernels): bad input", () => {
  it("names the argument, before any kernel runs", async () => {
    const { convPlanes, convTransposePlanes, maxPoolPlanes, avgPoolPlanes } = await import("../src/autograd/ops/planes.js");
    const x = tensor(new Array(2 * 4 * 5 * 5).fill(1), { shape: [2, 4, 5, 5] });
    expect(() => convPlanes(x, tensor(new Array(6 * 3 * 9).fill(1), { shape: [6, 3, 3, 3] }), { groups: 2 })).toThrow(/x has 4 channels and W \[6, 3, 3, 3\] for 2 groups/);
    expect(() => convPlanes(x, tensor(new Array(36).fill(1), { shape: [2, 2, 3, 3] }), { groups: 0 })).toThrow(/groups must be a positive integer/);
    expect(() => convPlanes(x, tensor(new Array(72).fill(1), { shape: [2, 4, 3, 3] }), { pads: [1, 1, -1, 0] })).toThrow(/pads must be four integers ≥ 0/);
    expect(() => convPlanes(x, tensor(new Array(72).fill(1), { shape: [2, 4, 3, 3] }), { dilations: [3, 3] })).toThrow(ShapeError);
    expect(() => convTransposePlanes(x, tensor(new Array(18).fill(1), { shape: [2, 1, 3, 3] }))).toThrow(/x has 4 channels; W \[2, 1, 3, 3\] needs \[4, filters/);
    expect(() => maxPoolPlanes(x, { kernel: [2, 2], ceilMode: "yes" as never })).toThrow(/options.ceilMode/);
    expect(() => avgPoolPlanes(x, { kernel: [2, 2], countIncludePad: 1 as never })).toThrow(/options.countIncludePad/);
    expect(() => avgPoolPlanes(x, { kernel: [0, 2] })).toThrow(/kernel must be two integers ≥ 1/);
    expect(() => maxPoolPlanes(tensor([1, 2, 3]), { kernel: [1, 1] })).toThrow(/expected x \[batch, channels, height, width\]/);
  });
});
