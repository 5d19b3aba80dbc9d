// Convolution, transposed convolution and pooling over NCHW tensors (ONNX's layout), with groups,
// dilations, strides and padding per axis: what ONNX's Conv, ConvTranspose, MaxPool and
// AveragePool carry. Each op's forward kernel call sits beside its backward rule, all of them
// kernels of assembly/conv-planes.ts:
//   conv:            y = x ⋆ W          ∂x = W ⋆ᵀ ∂y (backward data)    ∂W = x ⋆ ∂y (backward filter)
//   conv transpose:  y = W ⋆ᵀ x         ∂x = W ⋆ ∂y                      ∂W = ∂y ⋆ x
// A 1-D op is the 2-D one over planes one row high. The bias is an add of [1, m, 1, 1], an op
// of its own. These run on the calling thread, each sum in one fixed order.
import { checkBoolean, checkOptions, describe } from "../../check.js";
import { ArgumentError, ShapeError } from "../../errors.js";
import { type Tensor, formatShape } from "../../tensor.js";
import { record } from "../graph.js";
import { checkSameEngine, checkTensor, empty } from "./util.js";

/** How a window slides over a plane: per axis [rows, columns]; pads [top, left, bottom, right]. */
export interface PlaneWindow {
  strides?: readonly [number, number];
  dilations?: readonly [number, number];
  pads?: readonly [number, number, number, number];
}

export interface PlaneConvOptions extends PlaneWindow {
  /** Channels in groups: input channel groups each convolved by their share of the filters. Default 1. */
  groups?: number;
}

export interface PlaneConvTransposeOptions extends PlaneConvOptions {
  /** Extra rows and columns at the bottom and right of the output (ONNX's output_padding). */
  outputPadding?: readonly [number, number];
}

export interface PlanePoolOptions extends PlaneWindow {
  /** Window [rows, columns]. */
  kernel: readonly [number, number];
  /** Output sizes rounded up, so windows may hang over the padded input. Default false. */
  ceilMode?: boolean;
  /** Average pooling: padding counts in the divisor. Default false. */
  countIncludePad?: boolean;
}

function checkPair(op: string, name: string, v: unknown, min: number): [number, number] {
  if (!Array.isArray(v) || v.length !== 2 || !v.every((d) => Number.isInteger(d) && d >= min)) {
    throw new ArgumentError(`${op}: ${name} must be two integers ≥ ${min}, got ${describe(v)}`);
  }
  return [v[0], v[1]];
}

function slide(op: string, options: PlaneWindow) {
  const { strides = [1, 1], dilations = [1, 1], pads = [0, 0, 0, 0] } = options;
  const [sh, sw] = checkPair(op, "strides", strides, 1);
  const [dh, dw] = checkPair(op, "dilations", dilations, 1);
  if (!Array.isArray(pads) || pads.length !== 4 || !pads.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ArgumentError(`${op}: pads must be four integers ≥ 0 [top, left, bottom, right], got ${describe(pads)}`);
  }
  const [pt, pl, pb, pr] = pads;
  return { sh, sw, dh, dw, pt, pl, pb, pr };
}

/** Output positions along one axis: ⌊(size + pads − span) / stride⌋ + 1 (⌈…⌉ in ceil mode, no window starting in the end padding). */
export function outputSize(op: string, size: number, kernel: number, stride: number, dilation: number, before: number, after: number, ceil = false): number {
  const room = size + before + after - (dilation * (kernel - 1) + 1);
  if (room < 0) throw new ShapeError(`${op}: a window ${dilation * (kernel - 1) + 1} wide does not fit in an input ${size} wide padded by ${before} + ${after}`);
  let out = (ceil ? Math.ceil(room / stride) : Math.floor(room / stride)) + 1;
  if (ceil && (out - 1) * stride >= size + before) out--; // the last window must start inside the input or its leading padding
  return out;
}

function checkConv(op: string, x: Tensor, w: Tensor, groups: number) {
  checkTensor(op, "x", x);
  checkTensor(op, "W", w);
  checkSameEngine(op, x, w);
  if (!Number.isInteger(groups) || groups < 1) throw new ArgumentError(`${op}: groups must be a positive integer, got ${describe(groups)}`);
  if (x.rank !== 4 || w.rank !== 4) throw new ShapeError(`${op}: expected x [batch, channels, height, width] and W of rank 4, got ${formatShape(x.shape)}, ${formatShape(w.shape)}`);
}

/** y [n, m, oh, ow] = x [n, c, h, w] ⋆ W [m, c/groups, kh, kw], ONNX's Conv without the bias. */
export function convPlanes(x: Tensor, w: Tensor, options: PlaneConvOptions = {}): Tensor {
  const { groups = 1, ...rest } = checkOptions("convPlanes", options);
  checkConv("convPlanes", x, w, groups);
  const g = slide("convPlanes", rest);
  const [n, c, h, wid] = x.shape;
  const [m, cg, kh, kw] = w.shape;
  if (c % groups !== 0 || m % groups !== 0 || cg * groups !== c) {
    throw new ShapeError(`convPlanes: x has ${c} channels and W ${formatShape(w.shape)} for ${groups} groups; W needs [filters (a multiple of ${groups}), ${c / groups}, kh, kw]`);
  }
  const oh = outputSize("convPlanes", h, kh, g.sh, g.dh, g.pt, g.pb);
  const ow = outputSize("convPlanes", wid, kw, g.sw, g.dw, g.pl, g.pr);
  const geometry = [m, kh, kw, groups, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, oh, ow] as const;
  const k = x.engine.kernels;
  const y = empty(x, [n, m, oh, ow]);
  k.convPlanes(x.ptr, n, c, h, wid, w.ptr, ...geometry, y.ptr);
  return record(y, "convPlanes", [x, w], (gy, needs) => {
    const gx = needs[0] ? empty(x) : null;
    if (gx) k.convPlanesBackwardData(gy.ptr, n, c, h, wid, w.ptr, ...geometry, gx.ptr);
    const gw = needs[1] ? empty(w) : null;
    if (gw) k.convPlanesBackwardFilter(x.ptr, n, c, h, wid, gy.ptr, ...geometry, gw.ptr);
    return [gx, gw];
  }, { groups, strides: [g.sh, g.sw], dilations: [g.dh, g.dw], pads: [g.pt, g.pl, g.pb, g.pr] });
}

/**
 * y [n, m, oh, ow] = W ⋆ᵀ x for x [n, c, h, w], W [c, m/groups, kh, kw]: ONNX's ConvTranspose
 * without the bias, oh = sh·(h − 1) + output_padding + dh·(kh − 1) + 1 − pads.
 */
export function convTransposePlanes(x: Tensor, w: Tensor, options: PlaneConvTransposeOptions = {}): Tensor {
  const { groups = 1, outputPadding = [0, 0], ...rest } = checkOptions("convTransposePlanes", options);
  checkConv("convTransposePlanes", x, w, groups);
  const g = slide("convTransposePlanes", rest);
  const [ah, aw] = checkPair("convTransposePlanes", "outputPadding", outputPadding, 0);
  const [n, c, h, wid] = x.shape;
  const [wc, mg, kh, kw] = w.shape;
  if (wc !== c || c % groups !== 0) throw new ShapeError(`convTransposePlanes: x has ${c} channels; W ${formatShape(w.shape)} needs [${c}, filters / ${groups}, kh, kw]`);
  const m = mg * groups;
  const oh = g.sh * (h - 1) + ah + g.dh * (kh - 1) + 1 - g.pt - g.pb;
  const ow = g.sw * (wid - 1) + aw + g.dw * (kw - 1) + 1 - g.pl - g.pr;
  if (oh < 1 || ow < 1) throw new ShapeError(`convTransposePlanes: the output would be ${oh}×${ow}: pads larger than the output`);
  // The conv whose input gradient this is: input y [n, m, oh, ow], filters c, output x.
  const geometry = [c, kh, kw, groups, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, h, wid] as const;
  const k = x.engine.kernels;
  const y = empty(x, [n, m, oh, ow]);
  k.convPlanesBackwardData(x.ptr, n, m, oh, ow, w.ptr, ...geometry, y.ptr);
  return record(y, "convTransposePlanes", [x, w], (gy, needs) => {
    const gx = needs[0] ? empty(x) : null;
    if (gx) k.convPlanes(gy.ptr, n, m, oh, ow, w.ptr, ...geometry, gx.ptr);
    const gw = needs[1] ? empty(w) : null;
    if (gw) k.convPlanesBackwardFilter(gy.ptr, n, m, oh, ow, x.ptr, ...geometry, gw.ptr);
    return [gx, gw];
  }, { groups, strides: [g.sh, g.sw], dilations: [g.dh, g.dw], pads: [g.pt, g.pl, g.pb, g.pr], outputPadding: [ah, aw] });
}

function poolGeometry(op: string, x: Tensor, options: PlanePoolOptions) {
  checkTensor(op, "x", x);
  const { kernel, ceilMode = false, countIncludePad = false, ...rest } = checkOptions(op, options);
  const [kh, kw] = checkPair(op, "kernel", kernel, 1);
  checkBoolean(op, "options.ceilMode", ceilMode);
  checkBoolean(op, "options.countIncludePad", countIncludePad);
  const g = slide(op, rest);
  if (x.rank !== 4) throw new ShapeError(`${op}: expected x [batch, channels, height, width], got ${formatShape(x.shape)}`);
  const [n, c, h, w] = x.shape;
  const oh = outputSize(op, h, kh, g.sh, g.dh, g.pt, g.pb, ceilMode);
  const ow = outputSize(op, w, kw, g.sw, g.dw, g.pl, g.pr, ceilMode);
  // With countIncludePad the divisor counts padding's taps, never ceil mode's overhang past it (as PyTorch).
  return { planes: n * c, h, w, kh, kw, oh, ow, g, countIncludePad, shape: [n, c, oh, ow] };
}

/** The largest element of each window of each plane (padding never wins); its gradient goes to that element alone. */
export function maxPoolPlanes(x: Tensor, options: PlanePoolOptions): Tensor {
  const p = poolGeometry("maxPoolPlanes", x, options);
  const k = x.engine.kernels;
  const y = empty(x, p.shape);
  const argmax = empty(x, p.shape); // i32 indices into each plane, in a float tensor's memory
  k.maxPoolPlanes(x.ptr, p.planes, p.h, p.w, p.kh, p.kw, p.g.sh, p.g.sw, p.g.dh, p.g.dw, p.g.pt, p.g.pl, p.oh, p.ow, y.ptr, argmax.ptr);
  return record(y, "maxPoolPlanes", [x], (gy) => {
    const gx = empty(x);
    k.maxPoolPlanesBackward(gy.ptr, argmax.ptr, p.planes, p.h * p.w, p.oh * p.ow, gx.ptr);
    return [gx];
  }, { kernel: [p.kh, p.kw] }, [argmax]);
}

/** The mean of each window of each plane (padding as zeros, counted with countIncludePad); its gradient is shared equally. */
export function avgPoolPlanes(x: Tensor, options: PlanePoolOptions): Tensor {
  const p = poolGeometry("avgPoolPlanes", x, options);
  const k = x.engine.kernels;
  const args = [p.planes, p.h, p.w, p.kh, p.kw, p.g.sh, p.g.sw, p.g.dh, p.g.dw, p.g.pt, p.g.pl, p.g.pb, p.g.pr, p.countIncludePad, p.oh, p.ow] as const;
  const y = empty(x, p.shape);
  k.avgPoolPlanes(x.ptr, ...args, y.ptr);
  return record(y, "avgPoolPlanes", [x], (gy) => {
    const gx = empty(x);
    k.avgPoolPlanesBackward(gy.ptr, ...args, gx.ptr);
    return [gx];
  }, { kernel: [p.kh, p.kw], countIncludePad: p.countIncludePad });
}
