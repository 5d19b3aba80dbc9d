// Convolution and pooling over NHWC tensors. A convolution runs on one of three paths, by shape:
// - im2col and GEMM (lowered.ts: its forward, ∂x and ∂W), for any window, stride, padding and
//   dilation (a 1×1 window at stride 1 needs no im2col: x is its own patch matrix);
// - direct kernels, for undilated patches of at most DIRECT_PATCH elements (a first layer on grey
//   images: 5·5·1), where im2col would copy more than the product computes: on a zero-padded copy
//   of the image, one input channel at stride 1 on a kernel of its own with output pixels rather
//   than filters in the lanes, so that six filters leave no lane empty. Their ∂W is summed in
//   registers straight from the padded image, per group of images (the batch cut into at most
//   WEIGHT_GRAD_GROUPS), the groups' sums added in order; their ∂x is col2im's;
// - Winograd's F(2×2, 3×3) (winograd.ts) where asked for: forward and ∂x, ∂W on the GEMM.
// Pools take padding (never counted in a max, counted in a mean only where asked) and ceil mode.
// Threads share a batch by images (a pool of one image by output rows), and every sum is made in
// an order that follows from the batch alone, so the bits do not depend on how many threads there are.
import { ArgumentError, ShapeError } from "../../errors.js";
import { type Tensor, formatShape } from "../../tensor.js";
import { isGradEnabled, noGrad, record } from "../graph.js";
import { checkBoolean, checkOneOf, checkOptions, describe } from "../../check.js";
import { PARALLEL_MIN_MACS } from "../../backend/threads.js";
import type { Call } from "../../backend/slots.js";
import { type Activation, activateInPlace, activationDelta, checkActivation } from "./activate.js";
import { checkSameEngine, checkTensor, empty, imageOf, scratch } from "./util.js";
import { outputSize } from "./planes.js";
import { winogradConv3x3, winogradWeights } from "./winograd.js";
import { type Lowering, isPointwise, lowerForward, lowerInputGrad, lowerWeightGrad } from "./lowered.js";

export type Padding = "valid" | "same";

/** Largest kh·kw·c convolved directly (LeNet's 5×5×1 layer: 2.7 GFLOP/s through im2col + GEMM). */
export const DIRECT_PATCH = 32;

/** The most groups of images whose ∂W contributions are summed apart, then added in order (the direct path's ∂W). */
export const WEIGHT_GRAD_GROUPS = 8;

/** How a convolution slides and what it applies: the options of conv2d() and, with the initialisers, of the Conv2D layer. */
export interface Conv2DOptions {
  /** Default 1. */
  stride?: number;
  /**
   * "valid" (no padding), "same" (output ⌈in/stride⌉, padded as TensorFlow does), or explicit
   * zero rows and columns [top, left, bottom, right] (PyTorch's and ONNX's pads). Default "valid".
   */
  padding?: Padding | readonly [number, number, number, number];
  /**
   * Spacing between a window's taps, one for rows and columns or [rows, columns] (ONNX's and
   * PyTorch's dilation): a 3×3 window at dilation 2 spans 5×5. Default 1.
   */
  dilation?: number | readonly [number, number];
  activation?: Activation;
  /** For leakyRelu. Default 0.01. */
  slope?: number;
  /**
   * "im2col" (default): patches and one GEMM. "winograd": F(2×2, 3×3) for a 3×3 window at
   * stride 1 (2.25× fewer multiplications, other roundings): the forward pass and the input
   * gradient on it, ∂W on the GEMM as im2col's. An imported model picks per layer (see the cnn bench).
   */
  algorithm?: "im2col" | "winograd";
}


/** Output size and the padding before the first element, along one axis. */
export function convOutput(op: string, size: number, kernel: number, stride: number, padding: Padding): { out: number; before: number } {
  if (!Number.isInteger(stride) || stride < 1) throw new ArgumentError(`${op}: stride must be a positive integer, got ${describe(stride)}`);
  if (padding === "same") {
    const out = Math.ceil(size / stride);
    return { out, before: Math.floor(Math.max((out - 1) * stride + kernel - size, 0) / 2) };
  }
  if (padding !== "valid") throw new ArgumentError(`${op}: padding must be "valid" or "same", got ${describe(padding)}`);
  if (size < kernel) throw new ShapeError(`${op}: a ${kernel}-wide window does not fit in an input ${size} wide with "valid" padding`);
  return { out: Math.floor((size - kernel) / stride) + 1, before: 0 };
}

/** [top, left, bottom, right], each a whole number ≥ 0. */
function explicitPads(op: string, pads: unknown): readonly [number, number, number, number] {
  if (!Array.isArray(pads) || pads.length !== 4 || !pads.every((p) => Number.isInteger(p) && p >= 0)) {
    throw new ArgumentError(`${op}: padding must be "valid", "same" or [top, left, bottom, right] of whole numbers ≥ 0, got ${describe(pads)}`);
  }
  return pads as unknown as [number, number, number, number];
}

/** A dilation as [rows, columns], each a positive integer (conv2d's and convTranspose2d's option). */
export function checkDilation(op: string, dilation: unknown): [number, number] {
  const pair = typeof dilation === "number" ? [dilation, dilation] : dilation;
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new ArgumentError(`${op}: dilation must be a positive integer or two of them [rows, columns], got ${describe(dilation)}`);
  }
  return [pair[0], pair[1]];
}

/** Output size along one axis padded by `before` and `after`. */
export function paddedOutput(op: string, size: number, kernel: number, stride: number, before: number, after: number): { out: number; before: number } {
  if (!Number.isInteger(stride) || stride < 1) throw new ArgumentError(`${op}: stride must be a positive integer, got ${describe(stride)}`);
  if (size + before + after < kernel) throw new ShapeError(`${op}: a ${kernel}-wide window does not fit in an input ${size} wide padded by ${before} and ${after}`);
  return { out: Math.floor((size + before + after - kernel) / stride) + 1, before };
}

/** y = f(conv(x, W) + b) for x [n, h, w, c], W [kh, kw, c, filters], b [filters]. */
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null, options?: Conv2DOptions): Tensor {
  return convolve(x, w, b, options, null);
}

/**
 * y = min(max(conv(x, W) + b, lo), hi) without a graph, for inference (an imported Conv with its
 * BatchNorm folded in and its ReLU, ReLU6 or Clip after it): the bias and the clamp go in the
 * GEMM's epilogue, so y is written once. Nothing of x, W or b may need a gradient.
 */
export function conv2dClamped(x: Tensor, w: Tensor, b: Tensor | null, options: Pick<Conv2DOptions, "stride" | "padding" | "dilation">, clamp: readonly [number, number]): Tensor {
  if (isGradEnabled() && (x.requiresGrad || w.requiresGrad || b?.requiresGrad)) throw new Error("wasmgrad bug: conv2dClamped has no gradient");
  return convolve(x, w, b, options, clamp);
}

/**
 * A grouped 1×1 convolution at stride 1 without a graph (inference: ShuffleNet's), x [n, h, w, c],
 * W [1, 1, c / groups, m] (group g's filters the g-th m / groups columns), b [m]: group g's GEMM
 * reads its channels of x where they are (rows c apart) and writes its filters straight into y
 * (rows m apart), the bias and clamp in its epilogue, so no slice of x and no concatenation.
 */
export function groupedPointwiseClamped(x: Tensor, w: Tensor, b: Tensor | null, groups: number, clamp: readonly [number, number]): Tensor {
  const [n, h, wid, c] = x.shape;
  const [kh, kw, cg, m] = w.shape;
  if (x.rank !== 4 || w.rank !== 4 || kh !== 1 || kw !== 1 || !Number.isInteger(groups) || groups < 1 || c !== cg * groups || m % groups !== 0 || (b && b.size !== m)) {
    throw new ShapeError(`groupedPointwiseClamped: x [n, h, w, c], W [1, 1, c / ${groups}, m] and b [m], got ${formatShape(x.shape)}, ${formatShape(w.shape)}`);
  }
  if (isGradEnabled() && (x.requiresGrad || w.requiresGrad || b?.requiresGrad)) throw new Error("wasmgrad bug: groupedPointwiseClamped has no gradient");
  const y = empty(x, [n, h, wid, m]);
  const mg = m / groups;
  for (let g = 0; g < groups; g++) {
    x.engine.gemm({
      m: n * h * wid, n: mg, k: cg, a: x.ptr + 4 * g * cg, lda: c, b: w.ptr + 4 * g * mg, ldb: m, c: y.ptr + 4 * g * mg, ldc: m,
      bias: b ? b.ptr + 4 * g * mg : 0, clamp,
    });
  }
  return y;
}

/** conv2d's work; `clamp` (inference only): the output clamped in the epilogue, and no graph recorded. */
function convolve(x: Tensor, w: Tensor, b: Tensor | null, options: Conv2DOptions | undefined, clamp: readonly [number, number] | null): Tensor {
  checkTensor("conv2d", "x", x);
  checkTensor("conv2d", "W", w);
  if (b !== null) checkTensor("conv2d", "b (or null)", b);
  const { stride = 1, padding = "valid", dilation = 1, activation = "linear", slope = 0.01, algorithm = "im2col" } = checkOptions("conv2d", options);
  checkOneOf("conv2d", "algorithm", algorithm, ["im2col", "winograd"] as const);
  checkActivation("conv2d", activation, slope);
  if (x.rank !== 4 || w.rank !== 4 || w.shape[2] !== x.shape[3] || (b && (b.rank !== 1 || b.shape[0] !== w.shape[3]))) {
    throw new ShapeError(
      `conv2d: expected x [batch, height, width, channels], W [kh, kw, channels, filters], b [filters], got ` +
        `${formatShape(x.shape)}, ${formatShape(w.shape)}${b ? `, ${formatShape(b.shape)}` : ""}`,
    );
  }
  if (w.shape[0] < 1 || w.shape[1] < 1 || w.shape[3] < 1) {
    throw new ShapeError(`conv2d: a kernel needs at least 1×1 taps and one filter, got W ${formatShape(w.shape)}`);
  }
  checkSameEngine("conv2d", x, w);
  if (b) checkSameEngine("conv2d", x, b);
  const [n, h, wid, c] = x.shape;
  const [kh, kw, , filters] = w.shape;
  // A dilation along an axis one tap wide changes nothing: taken as 1.
  const [dh, dw] = checkDilation("conv2d", dilation).map((d, i) => (w.shape[i] === 1 ? 1 : d));
  const dilated = dh !== 1 || dw !== 1;
  const [spanH, spanW] = [(kh - 1) * dh + 1, (kw - 1) * dw + 1]; // what a window covers
  const explicit = typeof padding === "string" ? null : explicitPads("conv2d", padding);
  const rows = explicit ? paddedOutput("conv2d", h, spanH, stride, explicit[0], explicit[2]) : convOutput("conv2d", h, spanH, stride, padding as Padding);
  const columns = explicit ? paddedOutput("conv2d", wid, spanW, stride, explicit[1], explicit[3]) : convOutput("conv2d", wid, spanW, stride, padding as Padding);
  const [oh, ow] = [rows.out, columns.out];
  const engine = x.engine;
  const k = engine.kernels;
  const patch = kh * kw * c;
  const pixels = n * oh * ow;
  const lowering: Lowering = { n, h, w: wid, c, kh, kw, stride, dh, dw, top: rows.before, left: columns.before, oh, ow, m: filters };
  const image = (t: Tensor, i: number) => imageOf(t, n, i);
  const macs = pixels * patch * filters;

  const winograd = algorithm === "winograd";
  if (winograd && (kh !== 3 || kw !== 3 || stride !== 1 || dilated)) {
    throw new ArgumentError(`conv2d: algorithm "winograd" takes an undilated 3×3 window at stride 1, got ${kh}×${kw} at stride ${stride}, dilation ${dh}×${dw}`);
  }
  const pointwise = isPointwise(lowering);
  // The direct kernels read undilated windows; a dilated one goes through im2col.
  const direct = patch <= DIRECT_PATCH && !pointwise && !winograd && !dilated;
  // The GEMM paths add the bias and clamp (a ReLU's [0, ∞]) as they store y: no second pass over it.
  const reluInEpilogue = activation === "relu" && !direct;
  const bounds = clamp ?? (reluInEpilogue ? [0, Infinity] as const : [-Infinity, Infinity] as const);
  const epilogue = { bias: b ? b.ptr : 0, clamp: bounds };
  // Winograd's padding: the output's rows and columns past the input's are padding at the end.
  const pads = [rows.before, columns.before, oh + 2 - h - rows.before, ow + 2 - wid - columns.before] as const;
  const wStride = Math.ceil(filters / 8) * 8; // the direct kernels read W, and write ∂W, in rows of 8 filters
  let padded: Padded | null = null;
  // Winograd's transformed weights, kept for the input gradient.
  const u = winograd ? winogradWeights(w) : null;
  const y = u ? noGrad(() => winogradConv3x3(x, u, b, pads, bounds)) : empty(x, [n, oh, ow, filters]);
  if (u) {
    // y is made: the bias and clamp went into its output transform.
  } else if (direct) {
    // One channel at stride 1 puts pixels in the lanes, 16 at a time: pad the width to match.
    const oneChannel = c === 1 && stride === 1;
    const needW = oneChannel ? Math.ceil(ow / 16) * 16 + kw - 1 : (ow - 1) * stride + kw;
    padded = padInput(x, rows.before, columns.before, (oh - 1) * stride + kh, needW);
    const source = padded;
    const wRows = padRows(w, patch, filters, wStride);
    // The bias starts the sums: no second pass over y.
    const bias = b ? b.ptr : 0;
    engine.share(n, (from, to): Call[] => [oneChannel
      ? ["convOneChannel", image(source.t, from), to - from, source.h, source.w, kh, kw, oh, ow, wRows.ptr, wStride, filters, bias, image(y, from)]
      : ["convDirect", image(source.t, from), to - from, source.h, source.w, c, kh, kw, stride, oh, ow, wRows.ptr, wStride, filters, bias, image(y, from)]],
    { unit: 1, work: macs, minWork: PARALLEL_MIN_MACS });
    wRows.dispose();
  } else {
    lowerForward(lowering, x, w, y, epilogue.bias, bounds);
  }
  if (clamp) {
    // Inference: the direct path's clamp is a pass of its own; no graph, so nothing is kept.
    if (direct && (clamp[0] > -Infinity || clamp[1] < Infinity)) k.clamp(y.ptr, clamp[0], clamp[1], y.ptr, y.size);
    if (padded && padded.t !== x) padded.t.dispose();
    u?.dispose();
    return y;
  }
  const before = reluInEpilogue ? null : activateInPlace(y, filters, activation, slope);

  return record(y, "conv2d", b ? [x, w, b] : [x, w], (gy, needs, into) => {
    const delta = activationDelta(y, before, gy, filters, activation, slope);
    const grads: (Tensor | null)[] = [null, null, null];
    const wTarget = needs[1] ? into(1) : null;
    const gw = needs[1] ? (wTarget ?? empty(w)) : null;
    if (gw && direct) {
      // ∂W straight from the padded image and δ (a patch this small makes a GEMM of poor shape).
      // One partial sum per group of images, whichever thread makes it; then the groups in order.
      const source = padded!;
      const group = Math.max(1, Math.ceil(n / WEIGHT_GRAD_GROUPS));
      const groups = Math.max(1, Math.ceil(n / group)); // one, of zeros, for an empty batch
      const partials = scratch(w, [groups, patch, wStride]);
      const partial = (g: number) => partials.ptr + 4 * g * patch * wStride;
      if (n === 0) k.fill(partial(0), 0, patch * wStride);
      engine.share(n, (from, to) => {
        const calls: Call[] = [];
        for (let first = from; first < to; first += group) {
          const g = first / group, count = Math.min(group, to - first);
          calls.push(["fill", partial(g), 0, patch * wStride]);
          calls.push(["convWeightGrad", image(source.t, first), count, source.h, source.w, c, kh, kw, stride, oh, ow, image(delta, first), filters, partial(g), wStride]);
        }
        return calls;
      }, { unit: group, work: macs, minWork: PARALLEL_MIN_MACS });
      for (let g = 1; g < groups; g++) k.add(partial(0), partial(g), partial(0), patch * wStride);
      if (!wTarget) k.fill(gw.ptr, 0, gw.size);
      for (let r = 0; r < patch; r++) k.add(gw.ptr + 4 * r * filters, partial(0) + 4 * r * wStride, gw.ptr + 4 * r * filters, filters);
      partials.dispose();
    } else if (gw) {
      lowerWeightGrad(lowering, x, delta, gw, !!wTarget);
    }
    // ∂x on Winograd's: the convolution of δ by W turned 180°, channels swapped (from the same U),
    // padded so that it gives x's size — while the forward's padding is at most 2 a side.
    const flippedPads = [2 - rows.before, 2 - columns.before, h + rows.before - oh, wid + columns.before - ow];
    const winogradGx = needs[0] && u !== null && flippedPads.every((p) => p >= 0);
    const gx = !needs[0] ? null : winogradGx ? noGrad(() => winogradConv3x3(delta, u!, null, flippedPads, [-Infinity, Infinity], true)) : empty(x);
    // Otherwise col2im(δ·Wᵀ).
    if (gx && !winogradGx) lowerInputGrad(lowering, delta, w, gx);
    grads[0] = gx;
    grads[1] = wTarget ? null : gw;
    if (b && needs[2]) {
      const target = into(2);
      grads[2] = target ? null : empty(b);
      k.colSums(delta.ptr, pixels, filters, (target ?? grads[2]!).ptr, !!target);
    }
    if (delta !== gy) delta.dispose();
    return b ? grads : grads.slice(0, 2);
  }, { stride, padding, ...(dilated ? { dilation: [dh, dw] } : {}), ...(activation === "linear" ? {} : { activation }), ...(winograd ? { algorithm } : {}) },
  [...(padded && padded.t !== x ? [padded.t] : []), ...(before ? [before] : []), ...(u ? [u] : [])]);
}

interface Padded {
  t: Tensor;
  h: number;
  w: number;
}

/** x with `top` zero rows and `left` zero columns before it, and enough after to hold `needH`×`needW`. */
function padInput(x: Tensor, top: number, left: number, needH: number, needW: number): Padded {
  const [n, h, w, c] = x.shape;
  const hp = Math.max(top + h, needH);
  const wp = Math.max(left + w, needW);
  if (top === 0 && left === 0 && hp === h && wp === w) return { t: x, h, w };
  const t = empty(x, [n, hp, wp, c]);
  x.engine.share(n, (from, to) => [["padImage", imageOf(x, n, from), to - from, h, w, c, top, left, hp, wp, imageOf(t, n, from)]], { unit: 1, work: t.size });
  return { t, h: hp, w: wp };
}

/** W [rows, filters] copied with each row padded with zeros to `stride` floats. */
function padRows(w: Tensor, rows: number, filters: number, stride: number): Tensor {
  const out = scratch(w, [rows, stride]);
  const memory = w.engine.memory;
  const to = memory.f32(out.ptr, out.size).fill(0);
  const from = memory.f32(w.ptr, w.size);
  for (let r = 0; r < rows; r++) to.set(from.subarray(r * filters, (r + 1) * filters), r * stride);
  return out;
}

export interface PoolOptions {
  /** Window size (square). */
  size: number;
  /** Default: the window size (windows do not overlap). */
  stride?: number;
}

/** A pool's checked input and window: x [n, h, w, c], the window's size and stride. */
function poolWindow(op: string, x: Tensor, options: PoolOptions) {
  checkTensor(op, "x", x);
  const { size, stride = size } = checkOptions(op, options);
  if (x.rank !== 4) throw new ShapeError(`${op}: expected x [batch, height, width, channels], got ${formatShape(x.shape)}`);
  for (const [name, v] of [["size", size], ["stride", stride]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ArgumentError(`${op}: ${name} must be a positive integer, got ${describe(v)}`);
  }
  const [n, h, w, c] = x.shape;
  return { n, h, w, c, size, stride };
}

/** The largest value in each window (padding never wins); its gradient goes to that element alone. */
export function maxPool2d(x: Tensor, options: PaddedPoolOptions): Tensor {
  const { n, h, w, c, size, stride } = poolWindow("maxPool2d", x, options);
  const [pt, pl, pb, pr, ceilMode] = poolPadding("maxPool2d", options);
  const oh = outputSize("maxPool2d", h, size, stride, 1, pt, pb, ceilMode);
  const ow = outputSize("maxPool2d", w, size, stride, 1, pl, pr, ceilMode);
  const y = empty(x, [n, oh, ow, c]);
  const argmax = empty(x, [n, oh, ow, c]); // i32 indices into each image of x, stored in a float tensor's memory
  const at = (t: Tensor, i: number) => imageOf(t, n, i);
  const byImages = { unit: 1, work: x.size };
  sharePool(x, oh, (from, to, r0, r1) => ["maxPool", at(x, from), to - from, h, w, c, size, size, stride, pt, pl, oh, ow, r0, r1, at(y, from), at(argmax, from)]);
  return record(y, "maxPool2d", [x], (gy) => {
    const gx = empty(x);
    x.engine.share(n, (from, to) => [["maxPoolBackward", at(gy, from), at(argmax, from), to - from, oh * ow * c, at(gx, from), h * w * c]], byImages);
    return [gx];
  }, { size, stride, ...(pt || pl || pb || pr ? { pads: [pt, pl, pb, pr] } : {}), ...(ceilMode ? { ceilMode } : {}) }, [argmax]);
}

/**
 * A pool's forward pass shared between threads: a batch by images, one image by output rows
 * (each output written once, whichever thread writes it); `call(from, to, r0, r1)` pools images
 * [from, to), rows [r0, r1) of each. The backward passes, sums over overlapping windows, stay by images.
 */
function sharePool(x: Tensor, oh: number, call: (from: number, to: number, r0: number, r1: number) => Call): void {
  const n = x.shape[0];
  if (n === 1) x.engine.share(oh, (r0, r1) => [call(0, 1, r0, r1)], { unit: 1, work: x.size });
  else x.engine.share(n, (from, to) => [call(from, to, 0, oh)], { unit: 1, work: x.size });
}

/** A pool's padding [top, left, bottom, right] and ceil mode, checked. */
function poolPadding(op: string, { pads = [0, 0, 0, 0], ceilMode = false }: PaddedPoolOptions): [number, number, number, number, boolean] {
  if (!Array.isArray(pads) || pads.length !== 4 || !pads.every((p) => Number.isInteger(p) && p >= 0)) {
    throw new ArgumentError(`${op}: pads must be four non-negative integers [top, left, bottom, right], got ${describe(pads)}`);
  }
  checkBoolean(op, "options.ceilMode", ceilMode);
  return [pads[0], pads[1], pads[2], pads[3], ceilMode];
}

/** A pool's padding: ONNX's MaxPool and AveragePool pads and ceil_mode. */
export interface PaddedPoolOptions extends PoolOptions {
  /** Rows and columns around each image: [top, left, bottom, right]; they never win a max, and count in no mean but with countIncludePad. Default: none. */
  pads?: readonly [number, number, number, number];
  /** Round the output size up (a last window may overhang the padding; the overhang never counts). Default: false. */
  ceilMode?: boolean;
}

/** avgPool2d's further option: ONNX AveragePool's count_include_pad. */
export interface AvgPoolOptions extends PaddedPoolOptions {
  /** Divide by the whole window, padding included, rather than by the input's taps in it. Default: false. */
  countIncludePad?: boolean;
}

/** The mean of each window (over its taps inside the input, or with countIncludePad inside the padding too); its gradient is shared equally. */
export function avgPool2d(x: Tensor, options: AvgPoolOptions): Tensor {
  const { n, h, w, c, size, stride } = poolWindow("avgPool2d", x, options);
  const [pt, pl, pb, pr, ceilMode] = poolPadding("avgPool2d", options);
  const { countIncludePad = false } = options;
  checkBoolean("avgPool2d", "options.countIncludePad", countIncludePad);
  const pads = [pt, pl, pb, pr] as const;
  const oh = outputSize("avgPool2d", h, size, stride, 1, pt, pb, ceilMode);
  const ow = outputSize("avgPool2d", w, size, stride, 1, pl, pr, ceilMode);
  const geometry = [h, w, c, size, size, stride, pt, pl, pb, pr, +countIncludePad, oh, ow] as const;
  const y = empty(x, [n, oh, ow, c]);
  const at = (t: Tensor, i: number) => imageOf(t, n, i);
  const byImages = { unit: 1, work: x.size };
  sharePool(x, oh, (from, to, r0, r1) => ["avgPool", at(x, from), to - from, ...geometry, r0, r1, at(y, from)]);
  return record(y, "avgPool2d", [x], (gy) => {
    const gx = empty(x);
    x.engine.share(n, (from, to) => [["avgPoolBackward", at(gy, from), to - from, ...geometry, at(gx, from)]], byImages);
    return [gx];
  }, { size, stride, pads: [...pads], ceilMode, countIncludePad });
}
