// ONNX's ops that make, measure and move elements: constants, Shape and Size, Reshape, Flatten,
// Transpose, Squeeze/Unsqueeze, Concat, Split, Slice, Gather, Expand, Tile, Range, Pad, Resize
// and Upsample, Dropout (the identity at inference, with its mask). Each works on integers (shape
// arithmetic, in JS) and on tensors (differentiable ops: a reshape, transpose, slice or concat
// where one fits, else a gather by an index map). The maps of Pad, Tile and Resize, which run on
// images, are made once per input shape and remembered (memo); Gather's follow its indices, which
// are data, and a stepped Slice's are made per call.
import { concat } from "../../../autograd/ops/select.js";
import { broadcastShapes } from "../../../autograd/ops/shape.js";
import { contiguousStrides } from "../../../autograd/ops/util.js";
import { resizeImages } from "../../../autograd/ops/resize.js";
import { type Tensor, full, sizeOf, tensor } from "../../../tensor.js";
import { type ConstantData, DataType, isFloatType } from "../graph.js";
import { type BuildContext, INT64_OUT, type OpRule, refuse } from "../op-rule.js";
import {
  ChannelsLast, NHWC_ORDER, type Ints, type Value, asTensor, axisOf, dimsOf, indexMap, intsElementwise, isChannelsLast, isInts, isPermuted, numbersOf, take,
} from "../values.js";
import { reshapePermuted, transposePermuted } from "../channels-last.js";

/** A value of integers (axes, sizes, pads), required. */
function intsArg(v: Value | undefined, ctx: BuildContext, what: string): number[] {
  if (v === undefined) return refuse(ctx, `${what} is missing`);
  if (!isInts(v)) return refuse(ctx, `${what} must be integers`);
  return v.ints;
}

/** Axes from an attribute (before `inputSince`) or an optional input (from it on). */
function axesOf(ctx: BuildContext, args: (Value | undefined)[], input: number, inputSince: number): readonly number[] | undefined {
  if (ctx.opset < inputSince) return ctx.attrs.ints("axes");
  const v = args[input];
  return v === undefined ? undefined : intsArg(v, ctx, "axes");
}

/** Remembers what `make` gives per key (an input shape and the op's sizes): made once, read by every later call; the last 8 kept. */
function memo<T>(make: (key: string) => T): (key: string) => T {
  const cache = new Map<string, T>();
  return (key) => {
    let v = cache.get(key);
    if (v === undefined) {
      if (cache.size >= 8) cache.delete(cache.keys().next().value!);
      cache.set(key, (v = make(key)));
    }
    return v;
  };
}

function reshapeValue(v: Value, dims: number[]): Value {
  return isInts(v) ? { ints: v.ints, dims } : v.reshape(dims);
}

function fromConstant(d: ConstantData, ctx: BuildContext): Value {
  return d.floats ? tensor(d.floats, { shape: d.dims, engine: ctx.engine }) : { ints: d.ints!, dims: d.dims };
}

function constantData(ctx: BuildContext): ConstantData {
  const a = ctx.attrs;
  const t = a.tensor("value");
  if (t) return t;
  if (a.has("value_float")) return { dims: [], type: DataType.FLOAT, floats: Float32Array.of(a.float("value_float", 0)) };
  if (a.has("value_floats")) { const f = a.floats("value_floats")!; return { dims: [f.length], type: DataType.FLOAT, floats: Float32Array.from(f) }; }
  if (a.has("value_int")) return { dims: [], type: DataType.INT64, ints: [a.int("value_int", 0)] };
  if (a.has("value_ints")) { const v = [...a.ints("value_ints")!]; return { dims: [v.length], type: DataType.INT64, ints: v }; }
  return refuse(ctx, `a ${a.names().join(", ") || "missing"} value; wasmgrad reads tensor, float(s) and int(s) constants`);
}

/** Transposes by `perm`: an index map for integers, the transpose op for tensors. */
function transposeValue(v: Value, perm: readonly number[]): Value {
  if (!isInts(v)) return v.transpose(perm);
  const strides = contiguousStrides(v.dims);
  const dims = perm.map((p) => v.dims[p]);
  return take(v, dims, indexMap(dims, (ix) => ix.reduce((o, x, d) => o + x * strides[perm[d]], 0)));
}

/** Reshape's target for an input of `dims`: 0 copies an axis (unless allowzero), −1 takes what is left. */
function reshapeTarget(ctx: BuildContext): (dims: number[], shape: Value | undefined) => number[] {
  const allowZero = ctx.attrs.int("allowzero", 0) === 1;
  return (dims, shape) => {
    const wanted = intsArg(shape, ctx, "shape").map((d, i) => (d === 0 && !allowZero ? dims[i] ?? refuse(ctx, `shape copies axis ${i} of a rank-${dims.length} input`) : d));
    const free = wanted.indexOf(-1);
    if (free >= 0) {
      if (wanted.indexOf(-1, free + 1) >= 0) refuse(ctx, "two -1 axes in shape");
      const rest = sizeOf(wanted.filter((d) => d !== -1));
      if (rest === 0 || sizeOf(dims) % rest !== 0) refuse(ctx, `shape [${wanted}] does not fit ${sizeOf(dims)} elements`);
      wanted[free] = sizeOf(dims) / rest;
    }
    if (sizeOf(wanted) !== sizeOf(dims)) refuse(ctx, `shape [${wanted}] does not fit an input [${dims}]`);
    return wanted;
  };
}

/** Flatten's target for an input of `dims`: the axes before `axis` as one, the rest as another. */
function flattenTarget(ctx: BuildContext): (dims: number[]) => number[] {
  const axis = ctx.attrs.int("axis", 1);
  return (dims) => {
    const d = axis < 0 ? axis + dims.length : axis;
    if (!(d >= 0 && d <= dims.length)) refuse(ctx, `axis ${axis} for rank ${dims.length}`);
    return [sizeOf(dims.slice(0, d)), sizeOf(dims.slice(d))];
  };
}

/** Transpose's perm for an input of `rank` (its attribute, checked once, or the axes reversed). */
function transposePerm(ctx: BuildContext): (rank: number) => readonly number[] {
  const given = ctx.attrs.ints("perm");
  if (given && [...given].sort((p, q) => p - q).some((p, i) => p !== i)) refuse(ctx, `perm [${given}] is not a permutation`);
  return (rank) => {
    const perm = given ?? [...Array(rank).keys()].reverse();
    if (perm.length !== rank) refuse(ctx, `perm [${perm}] for rank ${rank}`);
    return perm;
  };
}

/** The perm that makes an NHWC tensor NCHW. */
const NCHW_FROM_NHWC = [0, 3, 1, 2];

/** Slices per axis: [start, end) by step, clamped as ONNX's Slice says. */
function sliceValue(v: Value, spec: { start: number; end: number; step: number }[]): Value {
  const dims = dimsOf(v);
  const sizes = spec.map(({ start, end, step }) => Math.max(0, Math.ceil((end - start) / step)));
  if (!isInts(v) && spec.every((s) => s.step === 1)) return v.slice(spec.map((s) => s.start), spec.map((s) => s.end));
  const strides = contiguousStrides(dims);
  return take(v, sizes, indexMap(sizes, (ix) => ix.reduce((o, x, d) => o + (spec[d].start + x * spec[d].step) * strides[d], 0)));
}

function sliceSpec(dims: readonly number[], starts: readonly number[], ends: readonly number[], axes: readonly number[] | undefined, steps: readonly number[] | undefined, ctx: BuildContext) {
  const spec = dims.map((d) => ({ start: 0, end: d, step: 1 }));
  const list = axes ?? starts.map((_, i) => i);
  if (starts.length !== ends.length || list.length !== starts.length || (steps && steps.length !== starts.length)) refuse(ctx, "starts, ends, axes and steps differ in length");
  list.forEach((axis, i) => {
    const d = axisOf(axis, dims.length, ctx.where);
    const size = dims[d], step = steps?.[i] ?? 1;
    if (step === 0) refuse(ctx, "a step of 0");
    let start = starts[i] < 0 ? starts[i] + size : starts[i];
    let end = ends[i] < 0 ? ends[i] + size : ends[i];
    if (step > 0) {
      start = Math.min(Math.max(start, 0), size);
      end = Math.min(Math.max(end, 0), size);
    } else {
      start = Math.min(Math.max(start, 0), size - 1);
      end = Math.min(Math.max(end, -1), size - 1);
    }
    spec[d] = { start, end, step };
  });
  return spec;
}

function concatValues(values: Value[], axis: number, ctx: BuildContext): Value {
  const rank = dimsOf(values[0]).length;
  const d = axisOf(axis, rank, ctx.where);
  if (values.every(isInts)) {
    const parts = values as Ints[];
    const dims = [...parts[0].dims];
    dims[d] = parts.reduce((n, p) => n + p.dims[d], 0);
    const outer = sizeOf(dims.slice(0, d));
    const out: number[] = [];
    for (let o = 0; o < outer; o++) {
      for (const p of parts) {
        const run = sizeOf(p.dims.slice(d));
        out.push(...p.ints.slice(o * run, (o + 1) * run));
      }
    }
    return { ints: out, dims };
  }
  const ts = values.map((v) => asTensor(v, ctx, "input")).filter((t, _, all) => t.size > 0 || all.every((u) => u.size === 0));
  return ts.length === 1 ? ts[0].mul(1) : concat(ts, d);
}

/**
 * One axis's coordinate map for Resize: output index → source coordinate, given the scale, the
 * input length, the output length as ONNX's formulas read it (input · scale, not rounded) and the
 * output length itself.
 */
type Transform = (x: number, scale: number, inSize: number, outLength: number, outSize: number) => number;
const TRANSFORMS: Record<string, Transform> = {
  half_pixel: (x, s) => (x + 0.5) / s - 0.5,
  pytorch_half_pixel: (x, s, _i, o) => (o > 1 ? (x + 0.5) / s - 0.5 : 0),
  align_corners: (x, _s, i, o) => (o === 1 ? 0 : (x * (i - 1)) / (o - 1)),
  asymmetric: (x, s) => x / s,
  tf_half_pixel_for_nn: (x, s) => (x + 0.5) / s,
  half_pixel_symmetric: (x, s, i, o, n) => {
    const adjustment = n / o;
    return (i / 2) * (1 - adjustment) + (x + 0.5) / s - 0.5;
  },
};
const ROUNDING: Record<string, (x: number) => number> = {
  round_prefer_floor: (x) => (x - Math.floor(x) === 0.5 ? Math.floor(x) : Math.round(x)),
  round_prefer_ceil: (x) => Math.round(x),
  floor: Math.floor,
  ceil: Math.ceil,
};

/** The weights of cubic interpolation's four taps (base − 1 … base + 2) at `ratio` past base, with coefficient A. */
function cubicWeights(ratio: number, A: number): number[] {
  const near = (t: number) => ((A + 2) * t - (A + 3)) * t * t + 1; // |t| ≤ 1
  const far = (t: number) => ((A * t - 5 * A) * t + 8 * A) * t - 4 * A; // 1 < |t| < 2
  return [far(ratio + 1), near(ratio), near(1 - ratio), far(2 - ratio)];
}

/** How Resize interpolates: the mode's taps, and where the source coordinate comes from. */
interface Interpolation {
  mode: string;
  transform: Transform;
  rounding: (x: number) => number;
  cubicA: number;
  excludeOutside: boolean;
  /** tf_crop_and_resize: per axis the region [start, end] (fractions of the input) and the value outside it. */
  crop?: { extrapolation: number };
}

/**
 * How Resize moves elements for one input shape: one index map (nearest), or per resized axis
 * each tap's index map and weights (linear: 2 taps, cubic: 4), one axis after another, plus a
 * constant where a crop falls outside the input. Made once per input shape.
 */
type ResizePlan =
  | { nearest: true; out: number[]; map: Int32Array }
  | { nearest: false; axes: { shape: number[]; taps: { map: Int32Array; weight: Float32Array }[]; weightShape: number[]; outside: Float32Array | null }[] };

/**
 * One axis's taps for Resize (nearest: 1, linear: 2, cubic: 4): per tap, for each output index
 * the source index (clamped into the input) and its weight (0 outside a crop), and per output
 * index the constant a crop puts there (0 inside it).
 */
function axisTaps(d: number, dims: readonly number[], out: readonly number[], scales: readonly number[], roi: readonly number[], how: Interpolation) {
  const rank = dims.length, size = dims[d];
  const source = (i: number) => {
    if (!how.crop) return how.transform(i, scales[d], dims[d], dims[d] * scales[d], out[d]);
    const [start, end] = [roi[d] ?? 0, roi[rank + d] ?? 1];
    return out[d] > 1 ? start * (dims[d] - 1) + (i * (end - start) * (dims[d] - 1)) / (out[d] - 1) : 0.5 * (start + end) * (dims[d] - 1);
  };
  const count = how.mode === "cubic" ? 4 : how.mode === "linear" ? 2 : 1;
  const at: number[][] = Array.from({ length: count }, () => []), w: number[][] = Array.from({ length: count }, () => []);
  const outside: number[] = [];
  for (let i = 0; i < out[d]; i++) {
    const x = source(i);
    const off = how.crop !== undefined && (x < 0 || x > size - 1);
    outside.push(off ? how.crop!.extrapolation : 0);
    let idx: number[], weights: number[];
    if (count === 1) [idx, weights] = [[how.rounding(x)], [1]];
    else if (count === 2) {
      const c = Math.min(Math.max(x, 0), size - 1), f = Math.floor(c);
      [idx, weights] = [[f, f + 1], [1 - (c - f), c - f]];
    } else {
      // The four nearest of the edge-padded input (ONNX's reference): taps base − 1 … base + 2, base ∈ [−1, size − 1].
      const base0 = Number.isInteger(x) ? x - 1 : Math.floor(x);
      const base = Math.min(Math.max(base0, -1), size - 1);
      idx = [base - 1, base, base + 1, base + 2];
      weights = cubicWeights(x - base0, how.cubicA);
      if (how.excludeOutside) {
        weights = weights.map((v, k) => (idx[k] < 0 || idx[k] >= size ? 0 : v));
        const total = weights.reduce((p, q) => p + q, 0);
        weights = weights.map((v) => v / total);
      }
    }
    for (let k = 0; k < count; k++) {
      at[k].push(Math.min(Math.max(idx[k], 0), size - 1));
      w[k].push(off ? 0 : weights[k]);
    }
  }
  return { at, w, outside };
}

function resizePlan(dims: readonly number[], out: number[], scales: readonly number[], roi: readonly number[], how: Interpolation): ResizePlan {
  if (how.mode === "nearest" && !how.crop) {
    const strides = contiguousStrides(dims);
    const pick = out.map((_, d) => axisTaps(d, dims, out, scales, roi, how).at[0]);
    return { nearest: true, out, map: indexMap(out, (ix) => ix.reduce((a, v, d) => a + pick[d][v] * strides[d], 0)) };
  }
  const axes: Extract<ResizePlan, { nearest: false }>["axes"] = [];
  let current = [...dims];
  for (let d = 0; d < dims.length; d++) {
    if (out[d] === dims[d] && scales[d] === 1 && !how.crop) continue;
    const { at, w, outside } = axisTaps(d, dims, out, scales, roi, how);
    const shape = [...current];
    shape[d] = out[d];
    const strides = contiguousStrides(current);
    const along = (pos: number[]) => indexMap(shape, (ix) => ix.reduce((a, v, k) => a + (k === d ? pos[v] : v) * strides[k], 0));
    axes.push({
      shape, weightShape: shape.map((n, k) => (k === d ? n : 1)),
      taps: at.map((pos, k) => ({ map: along(pos), weight: Float32Array.from(w[k]) })),
      outside: outside.some((v) => v !== 0) ? Float32Array.from(outside) : null,
    });
    current = shape;
  }
  return { nearest: false, axes };
}

/**
 * NHWC images [n, h, w, c] resized along h and w alone, nearest or linear and not cropped: on the
 * image kernels (resizeImages), each output row's and column's taps made once per shape; null
 * for any other resize (the plan's gathers run).
 */
const imageResizes = (how: Interpolation) => {
  const tables = memo((key) => {
    const [dims, out, scales] = JSON.parse(key) as number[][];
    const pairs = (d: number) => {
      const { at, w } = axisTaps(d, dims, out, scales, [], how);
      return { at: at.length === 1 ? [at[0], at[0]] : at, w: w.length === 1 ? [w[0], w[0].map(() => 0)] : w };
    };
    return { rows: pairs(1), cols: pairs(2) };
  });
  return (x: Tensor, out: number[], scales: readonly number[]): Tensor | null => {
    if ((how.mode !== "nearest" && how.mode !== "linear") || how.crop || out[0] !== x.shape[0] || out[3] !== x.shape[3]) return null;
    const { rows, cols } = tables(JSON.stringify([x.shape, out, scales]));
    return resizeImages(x, { rows: rows.at, rowWeights: rows.w, cols: cols.at, colWeights: cols.w, nearest: how.mode === "nearest" });
  };
};

/** x resized by its plan: a gather (nearest), or per axis its taps weighted; differentiable either way. */
function resizeTensor(x: Tensor, plan: ResizePlan): Tensor {
  if (plan.nearest) return take(x, plan.out, plan.map) as Tensor;
  let y = x;
  for (const a of plan.axes) {
    const weight = (w: Float32Array) => tensor(w, { shape: a.weightShape, engine: x.engine });
    y = a.taps.map((t) => (take(y, a.shape, t.map) as Tensor).mul(weight(t.weight))).reduce((p, q) => p.add(q));
    if (a.outside) y = y.add(weight(a.outside));
  }
  return y === x ? x.mul(1) : y;
}

/** Per-axis values of an NCHW value in the order its channels-last form holds them. */
const held = (v: readonly number[]) => NHWC_ORDER.map((d) => v[d]);

/** Resize's plans, remembered per input shape, output size and scales. */
const resizePlans = (how: Interpolation) => {
  const plans = memo((key) => {
    const [dims, out, scales, roi] = JSON.parse(key) as number[][];
    return resizePlan(dims, out, scales, roi, how);
  });
  return (x: Tensor, out: number[], scales: readonly number[], roi: readonly number[] = []) => resizeTensor(x, plans(JSON.stringify([x.shape, out, scales, roi])));
};

const resize: OpRule = (() => {
  /** A Resize node's attributes, read once: how it interpolates, and its geometry from its inputs. */
  const steps = (ctx: BuildContext) => {
    const a = ctx.attrs;
    const mode = a.string("mode", "nearest");
    if (mode !== "nearest" && mode !== "linear" && mode !== "cubic") refuse(ctx, `mode ${mode}`);
    const name = ctx.opset < 11 ? "asymmetric" : a.string("coordinate_transformation_mode", "half_pixel");
    const crop = name === "tf_crop_and_resize";
    const transform = crop ? TRANSFORMS.asymmetric : TRANSFORMS[name] ?? refuse(ctx, `coordinate_transformation_mode ${name}`);
    const rounding = ROUNDING[ctx.opset < 11 ? "round_prefer_floor" : a.string("nearest_mode", "round_prefer_floor")] ?? refuse(ctx, `nearest_mode ${a.string("nearest_mode", "")}`);
    if (a.int("antialias", 0) !== 0) refuse(ctx, "antialias 1");
    const policy = a.string("keep_aspect_ratio_policy", "stretch");
    if (!["stretch", "not_larger", "not_smaller"].includes(policy)) refuse(ctx, `keep_aspect_ratio_policy ${policy}`);
    const axesAttr = a.ints("axes");
    const how: Interpolation = {
      mode, transform, rounding, cubicA: a.float("cubic_coeff_a", -0.75), excludeOutside: a.int("exclude_outside", 0) === 1,
      crop: crop ? { extrapolation: a.float("extrapolation_value", 0) } : undefined,
    };
    const resized = resizePlans(how), images = imageResizes(how);
    /** Output sizes, scales and roi (starts, then ends) per axis of an input of these dims, from the node's inputs. */
    const geometry = (args: readonly (Value | undefined)[], dims: readonly number[]) => {
      const rank = dims.length;
      const scalesIn = ctx.opset < 11 ? args[1] : args[2];
      const sizesIn = ctx.opset < 11 ? undefined : args[3];
      const axes = (axesAttr ?? dims.map((_, i) => i)).map((d) => axisOf(d, rank, ctx.where));
      const scales = dims.map(() => 1), out = [...dims];
      const sizeList = sizesIn === undefined ? [] : numbersOf(sizesIn, ctx.where, "sizes").ints;
      const scaleList = scalesIn === undefined ? [] : numbersOf(scalesIn, ctx.where, "scales").ints;
      if (sizeList.length > 0) {
        if (sizeList.length !== axes.length) refuse(ctx, `${sizeList.length} sizes for ${axes.length} axes`);
        if (policy === "stretch") axes.forEach((d, i) => { out[d] = sizeList[i]; scales[d] = sizeList[i] / dims[d]; });
        else {
          // One scale for every listed axis, so that the aspect ratio stays: the largest that fits, or the smallest that covers.
          const ratios = axes.map((d, i) => sizeList[i] / dims[d]);
          const scale = policy === "not_larger" ? Math.min(...ratios) : Math.max(...ratios);
          axes.forEach((d) => { scales[d] = scale; out[d] = Math.round(scale * dims[d]); });
        }
      } else if (scaleList.length > 0) {
        if (scaleList.length !== axes.length) refuse(ctx, `${scaleList.length} scales for ${axes.length} axes`);
        axes.forEach((d, i) => { scales[d] = scaleList[i]; out[d] = Math.floor(dims[d] * scaleList[i]); });
      } else refuse(ctx, "neither scales nor sizes");
      let roi: number[] = [];
      if (crop) {
        // roi: starts then ends, for the listed axes (or every axis); unlisted axes keep the whole [0, 1].
        const given = args[1] === undefined ? [] : numbersOf(args[1], ctx.where, "roi").ints;
        if (given.length !== 2 * axes.length) refuse(ctx, `roi has ${given.length} values for ${axes.length} axes`);
        roi = [...dims.map(() => 0), ...dims.map(() => 1)];
        axes.forEach((d, i) => { roi[d] = given[i]; roi[rank + d] = given[axes.length + i]; });
      }
      return { out, scales, roi };
    };
    return { geometry, resized, images };
  };
  return {
    since: 10,
    buffers: [1, 2],
    floats: [0],
    build: (ctx) => {
      const { geometry, resized } = steps(ctx);
      return (args) => {
        const x = asTensor(args[0], ctx, "X");
        const { out, scales, roi } = geometry(args, x.shape);
        return [resized(x, out, scales, roi)];
      };
    },
    // A channels-last image resized as it is held: along h and w alone, nearest or linear, on the
    // image kernels; any other resize by the plan made for its axes in NHWC order (each axis's map
    // depends on that axis alone). No transposes around an upsampling either way.
    channelsLast: (ctx) => {
      const { geometry, resized, images } = steps(ctx);
      return (args) => {
        const x = args[0];
        if (!isChannelsLast(x)) return null;
        const { out, scales, roi } = geometry(args as (Value | undefined)[], x.dims);
        const y = images(x.nhwc, held(out), held(scales)) ?? resized(x.nhwc, held(out), held(scales), roi.length ? [...held(roi.slice(0, 4)), ...held(roi.slice(4))] : roi);
        return [new ChannelsLast(y)];
      };
    },
  };
})();

const upsample: OpRule = (() => {
  /** An Upsample node's interpolation (asymmetric, floor: Resize's opset-10 reading), and its scales. */
  const steps = (ctx: BuildContext) => {
    const mode = ctx.attrs.string("mode", "nearest");
    if (mode !== "nearest" && mode !== "linear" && mode !== "bilinear") refuse(ctx, `mode ${mode}`);
    const how: Interpolation = { mode: mode === "nearest" ? "nearest" : "linear", transform: TRANSFORMS.asymmetric, rounding: Math.floor, cubicA: -0.75, excludeOutside: false };
    const scales = (args: readonly (Value | undefined)[], rank: number) => {
      const s = ctx.opset < 9 ? ctx.attrs.floats("scales") ?? refuse(ctx, "no scales") : numbersOf(args[1], ctx.where, "scales").ints;
      if (s.length !== rank) refuse(ctx, `${s.length} scales for rank ${rank}`);
      return s;
    };
    return { resized: resizePlans(how), images: imageResizes(how), scales };
  };
  return {
    since: 7, // Upsample-1 took height_scale and width_scale attributes
    until: 9,
    buffers: [1],
    build: (ctx) => {
      const { resized, scales } = steps(ctx);
      return (args) => {
        const x = asTensor(args[0], ctx, "X");
        const s = scales(args, x.rank);
        return [resized(x, x.shape.map((d, i) => Math.floor(d * s[i])), s)];
      };
    },
    // A channels-last image as it is held, on the image kernels (as Resize).
    channelsLast: (ctx) => {
      const { resized, images, scales } = steps(ctx);
      return (args) => {
        const x = args[0];
        if (!isChannelsLast(x)) return null;
        const s = scales(args as (Value | undefined)[], 4), out = x.dims.map((d, i) => Math.floor(d * s[i]));
        return [new ChannelsLast(images(x.nhwc, held(out), held(s)) ?? resized(x.nhwc, held(out), held(s)))];
      };
    },
  };
})();

/** Pad's index map: the source element of each output element, −1 for the constant. */
function padMap(dims: number[], before: number[], after: number[], mode: string): { out: number[]; map: Int32Array } {
  const out = dims.map((d, i) => d + before[i] + after[i]);
  const strides = contiguousStrides(dims);
  const fold = (i: number, n: number): number => {
    if (mode === "edge") return Math.min(Math.max(i, 0), n - 1);
    if (mode === "wrap") return ((i % n) + n) % n;
    // reflect: mirror without repeating the edge
    if (n === 1) return 0;
    const period = 2 * (n - 1);
    const m = ((i % period) + period) % period;
    return m < n ? m : period - m;
  };
  const map = indexMap(out, (ix) => {
    let at = 0;
    for (let d = 0; d < ix.length; d++) {
      let i = ix[d] - before[d];
      if (i < 0 || i >= dims[d]) {
        if (mode === "constant") return -1;
        i = fold(i, dims[d]);
      }
      at += i * strides[d];
    }
    return at;
  });
  return { out, map };
}

const pad: OpRule = {
  since: 6,
  floats: [],
  buffers: [2],
  build: (ctx) => {
    const mode = ctx.attrs.string("mode", "constant");
    if (!["constant", "reflect", "edge", "wrap"].includes(mode)) refuse(ctx, `mode ${mode}`);
    if (mode === "wrap" && ctx.opset < 19) refuse(ctx, "mode wrap before opset 19");
    const maps = memo((key) => {
      const [dims, before, after] = JSON.parse(key) as number[][];
      return padMap(dims, before, after, mode);
    });
    return (args) => {
      const x = args[0]!;
      const dims = dimsOf(x);
      const pads = ctx.opset < 11 ? ctx.attrs.ints("pads") ?? refuse(ctx, "no pads") : intsArg(args[1], ctx, "pads");
      const value = ctx.opset < 11 ? ctx.attrs.float("value", 0) : args[2] === undefined ? 0 : numbersOf(args[2], ctx.where, "constant_value").ints[0] ?? 0;
      const axes = (ctx.opset >= 18 && args[3] !== undefined ? intsArg(args[3], ctx, "axes") : dims.map((_, i) => i)).map((d) => axisOf(d, dims.length, ctx.where));
      if (pads.length !== 2 * axes.length) refuse(ctx, `${pads.length} pads for ${axes.length} axes`);
      const before = dims.map(() => 0), after = dims.map(() => 0);
      axes.forEach((d, i) => { before[d] = pads[i]; after[d] = pads[i + axes.length]; });
      if ([...before, ...after].some((p) => p < 0)) {
        // Negative pads crop: crop first, then pad what is left.
        const spec = dims.map((d, i) => ({ start: Math.max(0, -before[i]), end: d - Math.max(0, -after[i]), step: 1 }));
        const cropped = sliceValue(x, spec);
        const c = dimsOf(cropped);
        const { out, map } = maps(JSON.stringify([c, before.map((p) => Math.max(p, 0)), after.map((p) => Math.max(p, 0))]));
        return [take(cropped, out, map, value)];
      }
      if (mode !== "constant" && dims.some((d, i) => d === 0 && before[i] + after[i] > 0)) refuse(ctx, `mode ${mode} on an empty axis`);
      const { out, map } = maps(JSON.stringify([dims, before, after]));
      return [take(x, out, map, value)];
    };
  },
};

export const SHAPE_OPS: Record<string, OpRule> = {
  Constant: {
    since: 6,
    floats: [],
    types: (ctx) => [constantData(ctx).type],
    build: (ctx) => { const d = constantData(ctx); return () => [fromConstant(d, ctx)]; },
  },
  ConstantOfShape: {
    since: 9,
    floats: [],
    types: (ctx) => [ctx.attrs.tensor("value")?.type ?? DataType.FLOAT],
    build: (ctx) => {
      const v = ctx.attrs.tensor("value") ?? { dims: [1], type: DataType.FLOAT, floats: Float32Array.of(0) };
      const fill = v.floats ? v.floats[0] : v.ints![0];
      return (args) => {
        const dims = intsArg(args[0], ctx, "shape");
        return [isFloatType(v.type) ? full(dims, fill, { engine: ctx.engine }) : { ints: new Array<number>(sizeOf(dims)).fill(fill), dims }];
      };
    },
  },
  Shape: {
    since: 6,
    floats: [],
    shapeOnly: true,
    types: INT64_OUT,
    build: (ctx) => (args) => {
      const dims = dimsOf(args[0]!);
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + dims.length : v, 0), dims.length);
      const part = ctx.opset >= 15 ? dims.slice(clamp(ctx.attrs.int("start", 0)), clamp(ctx.attrs.int("end", dims.length))) : dims;
      return [{ ints: part, dims: [part.length] }];
    },
  },
  Size: { since: 6, floats: [], shapeOnly: true, types: INT64_OUT, build: () => (args) => [{ ints: [sizeOf(dimsOf(args[0]!))], dims: [] }] },
  Reshape: {
    since: 6,
    floats: [],
    build: (ctx) => {
      const target = reshapeTarget(ctx);
      return (args) => [reshapeValue(args[0]!, target(dimsOf(args[0]!), args[1]))];
    },
    anyOrder: true,
    channelsLast: (ctx) => {
      const target = reshapeTarget(ctx);
      return (args) => {
        const x = args[0];
        const y = isPermuted(x) ? reshapePermuted(x, target(x.dims, args[1] as Value)) : null;
        return y ? [y] : null;
      };
    },
  },
  Flatten: {
    since: 6,
    floats: [],
    build: (ctx) => {
      const target = flattenTarget(ctx);
      return (args) => [reshapeValue(args[0]!, target(dimsOf(args[0]!)))];
    },
    anyOrder: true,
    channelsLast: (ctx) => {
      const target = flattenTarget(ctx);
      return (args) => {
        const x = args[0];
        const y = isPermuted(x) ? reshapePermuted(x, target(x.dims)) : null;
        return y ? [y] : null;
      };
    },
  },
  Transpose: {
    since: 6,
    floats: [],
    build: (ctx) => {
      const perm = transposePerm(ctx);
      return (args) => [transposeValue(args[0]!, perm(dimsOf(args[0]!).length))];
    },
    anyOrder: true,
    // A value held in another order gets its axes renamed; a float NHWC tensor made NCHW (a
    // TensorFlow model's input) becomes channels-last as it is: nothing moves.
    channelsLast: (ctx) => {
      const perm = transposePerm(ctx);
      return (args) => {
        const x = args[0];
        if (isPermuted(x)) return [transposePermuted(x, perm(x.dims.length))];
        if (x === undefined || isInts(x) || x.rank !== 4) return null;
        const p = perm(4);
        return p.every((a, i) => a === NCHW_FROM_NHWC[i]) ? [new ChannelsLast(x)] : null;
      };
    },
  },
  Squeeze: {
    since: 6,
    floats: [],
    build: (ctx) => (args) => {
      const x = args[0]!, dims = dimsOf(x);
      const listed = axesOf(ctx, args, 1, 13);
      const axes = (listed ?? dims.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => axisOf(a, dims.length, ctx.where));
      for (const d of axes) if (dims[d] !== 1) refuse(ctx, `axis ${d} has size ${dims[d]}, not 1`);
      return [reshapeValue(x, dims.filter((_, i) => !axes.includes(i)))];
    },
  },
  Unsqueeze: {
    since: 6,
    floats: [],
    build: (ctx) => (args) => {
      const x = args[0]!, dims = dimsOf(x);
      const listed = axesOf(ctx, args, 1, 13) ?? refuse(ctx, "no axes");
      const rank = dims.length + listed.length;
      const axes = listed.map((a) => axisOf(a, rank, ctx.where));
      if (new Set(axes).size !== axes.length) refuse(ctx, "an axis listed twice");
      const out: number[] = [];
      for (let i = 0, j = 0; i < rank; i++) out.push(axes.includes(i) ? 1 : dims[j++]);
      return [reshapeValue(x, out)];
    },
  },
  Concat: {
    since: 6,
    floats: [],
    build: (ctx) => {
      if (!ctx.attrs.has("axis")) refuse(ctx, "no axis");
      const axis = ctx.attrs.int("axis", 0);
      return (args) => [concatValues(args.filter((a): a is Value => a !== undefined), axis, ctx)];
    },
    // Along the channels of channels-last inputs: along their last axis (DenseNet's, Inception's joins).
    channelsLast: (ctx) => (args) => {
      const parts = args.filter((a) => a !== undefined);
      if (!parts.every(isChannelsLast) || (ctx.attrs.int("axis", 0) !== 1 && ctx.attrs.int("axis", 0) !== -3)) return null;
      return [new ChannelsLast(concat(parts.map((p) => p.nhwc), 3))];
    },
  },
  Split: {
    since: 6,
    floats: [],
    types: (ctx) => ctx.node.outputs.map(() => ctx.inputTypes[0]),
    build: (ctx) => (args) => {
      const x = args[0]!, dims = dimsOf(x);
      const d = axisOf(ctx.attrs.int("axis", 0), dims.length, ctx.where);
      const count = ctx.node.outputs.length;
      let sizes = ctx.opset < 13 ? ctx.attrs.ints("split") : args[1] === undefined ? undefined : intsArg(args[1], ctx, "split");
      if (!sizes || sizes.length === 0) {
        const parts = ctx.opset >= 18 && ctx.attrs.has("num_outputs") ? ctx.attrs.int("num_outputs", count) : count;
        const each = Math.ceil(dims[d] / parts);
        sizes = Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(each, dims[d] - i * each)));
      }
      if (sizes.reduce((p, q) => p + q, 0) !== dims[d]) refuse(ctx, `split [${sizes}] does not add up to axis ${d}'s ${dims[d]}`);
      let at = 0;
      return sizes.map((s) => {
        const spec = dims.map((size) => ({ start: 0, end: size, step: 1 }));
        spec[d] = { start: at, end: at + s, step: 1 };
        at += s;
        return sliceValue(x, spec);
      });
    },
  },
  Slice: {
    since: 6,
    floats: [],
    build: (ctx) => (args) => {
      const x = args[0]!, dims = dimsOf(x);
      const spec = ctx.opset < 10
        ? sliceSpec(dims, ctx.attrs.ints("starts") ?? [], ctx.attrs.ints("ends") ?? [], ctx.attrs.ints("axes"), undefined, ctx)
        : sliceSpec(dims, intsArg(args[1], ctx, "starts"), intsArg(args[2], ctx, "ends"), args[3] && intsArg(args[3], ctx, "axes"), args[4] && intsArg(args[4], ctx, "steps"), ctx);
      return [sliceValue(x, spec)];
    },
  },
  Gather: {
    since: 6,
    floats: [],
    build: (ctx) => (args) => {
      const x = args[0]!, dims = dimsOf(x);
      const d = axisOf(ctx.attrs.int("axis", 0), dims.length, ctx.where);
      const raw = numbersOf(args[1], ctx.where, "indices");
      const picked = raw.ints.map((i) => {
        const j = i < 0 ? i + dims[d] : i;
        if (!(Number.isInteger(j) && j >= 0 && j < dims[d])) refuse(ctx, `index ${i} is out of range for axis ${d} of size ${dims[d]}`);
        return j;
      });
      const out = [...dims.slice(0, d), ...raw.dims, ...dims.slice(d + 1)];
      if (!isInts(x) && d === 0) return [x.gather(picked).reshape(out)];
      const strides = contiguousStrides(dims);
      const k = raw.dims.length;
      return [take(x, out, indexMap(out, (ix) => {
        let at = 0;
        for (let a = 0; a < d; a++) at += ix[a] * strides[a];
        let flat = 0;
        for (let a = 0; a < k; a++) flat = flat * raw.dims[a] + ix[d + a];
        at += picked[flat] * strides[d];
        for (let a = d + 1; a < dims.length; a++) at += ix[a + k - 1] * strides[a];
        return at;
      }))];
    },
  },
  Expand: {
    since: 8,
    floats: [],
    build: (ctx) => (args) => {
      const x = args[0]!;
      const dims = broadcastShapes(ctx.where, dimsOf(x), intsArg(args[1], ctx, "shape")) as number[];
      if (isInts(x)) return [intsElementwise([x, { ints: new Array(sizeOf(dims)).fill(0), dims }], ([v]) => v, ctx.where)];
      return [x.shape.join() === dims.join() ? x.mul(1) : x.broadcastTo(dims)];
    },
  },
  Tile: {
    since: 6,
    floats: [],
    build: (ctx) => {
      const maps = memo((key) => {
        const [dims, out] = JSON.parse(key) as number[][];
        const strides = contiguousStrides(dims);
        return indexMap(out, (ix) => ix.reduce((a, v, i) => a + (v % dims[i]) * strides[i], 0));
      });
      return (args) => {
        const x = args[0]!, dims = dimsOf(x);
        const repeats = intsArg(args[1], ctx, "repeats");
        if (repeats.length !== dims.length) refuse(ctx, `${repeats.length} repeats for rank ${dims.length}`);
        const out = dims.map((d, i) => d * repeats[i]);
        return [take(x, out, maps(JSON.stringify([dims, out])))];
      };
    },
  },
  Range: {
    since: 11,
    floats: [],
    build: (ctx) => (args) => {
      const [start, limit, delta] = [0, 1, 2].map((i) => {
        const n = numbersOf(args[i], ctx.where, `input ${i}`).ints;
        return n.length === 1 ? n[0] : refuse(ctx, `input ${i} must be a scalar`);
      });
      if (delta === 0) refuse(ctx, "delta 0");
      const count = Math.max(Math.ceil((limit - start) / delta), 0);
      const values = Array.from({ length: count }, (_, i) => start + i * delta);
      return [isInts(args[0]) ? { ints: values, dims: [count] } : tensor(Float32Array.from(values), { shape: [count], engine: ctx.engine })];
    },
  },
  Pad: pad,
  Resize: resize,
  Upsample: upsample,
  Dropout: {
    since: 6,
    floats: [0],
    buffers: [1],
    types: (ctx) => [ctx.inputTypes[0], DataType.BOOL],
    build: (ctx) => {
      return (args) => {
        const training = args[2] === undefined ? 0 : numbersOf(args[2], ctx.where, "training_mode").ints[0];
        // In training mode a ratio of 0 drops nothing; any other ratio would draw a mask no reference can check.
        const ratio = args[1] === undefined ? ctx.attrs.float("ratio", 0.5) : numbersOf(args[1], ctx.where, "ratio").ints[0];
        if (training && ratio !== 0) refuse(ctx, "training_mode true; wasmgrad imports Dropout as the identity of inference");
        const x = args[0]!;
        // The mask (all ones) only where something reads it: SqueezeNet's file names one nobody reads, of 692,224 elements at batch 8.
        const mask = ctx.used(1) ? { ints: new Array(sizeOf(dimsOf(x))).fill(1), dims: dimsOf(x) } : undefined;
        return [asTensor(x, ctx, "data"), mask];
      };
    },
    // The identity: an input held in another order goes on as it is (its mask, all ones, is read only in NCHW terms: planar).
    anyOrder: true,
    channelsLast: (ctx) => (args) => (isPermuted(args[0]) && !ctx.used(1) && args[2] === undefined ? [args[0]] : null),
  },
};
