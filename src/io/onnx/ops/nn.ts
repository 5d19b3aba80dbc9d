// ONNX's network ops: Conv and ConvTranspose (1-D and 2-D, groups, dilations, auto_pad), MaxPool
// and AveragePool (ceil_mode, dilations, count_include_pad) and the global pools, the
// normalisations (BatchNormalization in both forms, InstanceNormalization, LayerNormalization,
// LRN), Softmax and LogSoftmax (with the 2-D coercion before opset 13), Gemm and MatMul.
// A 2-D Conv runs on channels-last values (channels-last.ts: the activations stay NHWC between
// convolutions): on wasmgrad's NHWC conv2d, dilated or not (a grouped one, a conv2d per group),
// or, for a depthwise one, on the direct depthwise kernels (a dilated one at stride 1 over the
// image's phases: dilatedDepthwiseConv2d); a 1-D Conv is conv2d's
// over images one row high, its NCL input and output transposed; an ungrouped ConvTranspose is
// the convolution's input-gradient path run forward (convTranspose2d). Their weights are laid
// out once, or permuted by an op where W takes a gradient (laid-out.ts). Where no gradient is
// wanted a Conv takes the BatchNorm, the clamp and the activation after it into its output pass
// (fusion.ts) and a grouped 1×1 one runs as a GEMM per group in place. A 3×3 stride-1 one with
// tiles enough runs on Winograd's F(2×2, 3×3), in training too (conv2d's forward and input
// gradient). A square, undilated 2-D pool on channels-last values runs on the NHWC kernels, its
// padding and ceil_mode (and the average pool's count_include_pad) in them; LRN on its own
// kernel, planar or channels-last. Every other form runs on the NCHW kernels of
// autograd/ops/planes.ts.
import { isGradEnabled } from "../../../autograd/graph.js";
import { applyInPlace } from "../../../autograd/ops/activate.js";
import { avgPool2d, conv2d, conv2dClamped, groupedPointwiseClamped, maxPool2d } from "../../../autograd/ops/conv.js";
import { depthwiseConv2d, dilatedDepthwiseConv2d } from "../../../autograd/ops/depthwise.js";
import { convTranspose2d } from "../../../autograd/ops/conv-transpose.js";
import { winogradConv3x3, winogradGroup, winogradWeights } from "../../../autograd/ops/winograd.js";
import { avgPoolPlanes, convPlanes, convTransposePlanes, maxPoolPlanes } from "../../../autograd/ops/planes.js";
import { affineRows } from "../../../autograd/ops/arithmetic.js";
import { lrn } from "../../../autograd/ops/lrn.js";
import { concat } from "../../../autograd/ops/select.js";
import { Tensor } from "../../../tensor.js";
import { DataType } from "../graph.js";
import type { LaidOut } from "../laid-out.js";
import { type BuildContext, type OpRule, type RunContext, refuse } from "../op-rule.js";
import { toChannelsLast } from "../channels-last.js";
import { ChannelsLast, type Flowing, type Value, asTensor, axisOf, isChannelsLast } from "../values.js";

/** Padding [before, after] per spatial axis split from its total as auto_pad says (SAME_UPPER: the extra one after). */
function split(total: readonly number[], lower: boolean): [number[], number[]] {
  const before = total.map((t) => (lower ? Math.ceil(t / 2) : Math.floor(t / 2)));
  return [before, total.map((t, i) => t - before[i])];
}

/**
 * Padding [before, after] per spatial axis, from the pads attribute or auto_pad; `sameTotal()`
 * is the total padding per axis that SAME_UPPER and SAME_LOWER share out.
 */
function spatialPads(ctx: BuildContext, rank: number, sameTotal: () => number[]): [readonly number[], readonly number[]] {
  const auto = ctx.attrs.string("auto_pad", "NOTSET");
  if (auto === "NOTSET") {
    const pads = ctx.attrs.ints("pads") ?? new Array<number>(2 * rank).fill(0);
    if (pads.length !== 2 * rank || pads.some((p) => p < 0)) refuse(ctx, `pads [${pads}] for ${rank} spatial axes`);
    return [pads.slice(0, rank), pads.slice(rank)];
  }
  if (auto === "VALID") return [new Array(rank).fill(0), new Array(rank).fill(0)];
  if (auto !== "SAME_UPPER" && auto !== "SAME_LOWER") refuse(ctx, `auto_pad ${auto}`);
  return split(sameTotal(), auto === "SAME_LOWER");
}

/** A window's padding by auto_pad SAME_*: the output ⌈size / stride⌉ per axis. */
const windowPads = (ctx: BuildContext, sizes: readonly number[], kernel: readonly number[], strides: readonly number[], dilations: readonly number[]) =>
  spatialPads(ctx, sizes.length, () => sizes.map((size, i) => Math.max((Math.ceil(size / strides[i]) - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - size, 0)));

/** The spatial attributes of a conv or pool node. */
function windowAttrs(ctx: BuildContext, rank: number) {
  const ones = new Array<number>(rank).fill(1);
  const strides = ctx.attrs.ints("strides") ?? ones;
  const dilations = ctx.attrs.ints("dilations") ?? ones;
  if (strides.length !== rank || dilations.length !== rank) refuse(ctx, `strides [${strides}] and dilations [${dilations}] for ${rank} spatial axes`);
  return { strides, dilations };
}

/** A 1-D op's NCL tensor as NCHW with H = 1, or a 2-D one as it is; anything else refused. */
function planar(t: Tensor, ctx: BuildContext, what: string): Tensor {
  if (t.rank === 4) return t;
  if (t.rank === 3) return t.reshape([t.shape[0], t.shape[1], 1, t.shape[2]]);
  return refuse(ctx, `${what} has rank ${t.rank}; wasmgrad imports 1-D and 2-D convolution and pooling`);
}
/** [missing, d] for a 1-D attribute (H = 1), the pair as it is for a 2-D one. */
const pair = (v: readonly number[], missing: number): [number, number] => (v.length === 1 ? [missing, v[0]] : [v[0], v[1]]);

/** The 2-D kernels' window for a 1-D or 2-D node: strides and dilations of 1, and no padding, along a 1-D node's H. */
const planeWindow = (strides: readonly number[], dilations: readonly number[], [before, after]: readonly [readonly number[], readonly number[]]) => ({
  strides: pair(strides, 1), dilations: pair(dilations, 1),
  pads: (before.length === 1 ? [0, before[0], 0, after[0]] : [before[0], before[1], after[0], after[1]]) as [number, number, number, number],
});

/** The 2-D kernels' output back at the node's rank ([n, m, 1, L] → [n, m, L] for 1-D), with the bias added per channel. */
function fromPlanar(y: Tensor, b: Tensor | null, rank: number): Tensor {
  const [n, m] = y.shape;
  const biased = b ? y.add(b.reshape([1, m, 1, 1])) : y;
  return rank === 1 ? biased.reshape([n, m, biased.shape[3]]) : biased;
}

/** A Conv's or ConvTranspose's X, W (of X's rank) and optional B, and its spatial rank. */
function convOperands(args: readonly (Value | undefined)[], ctx: BuildContext) {
  const x = asTensor(args[0], ctx, "X"), w = asTensor(args[1], ctx, "W");
  const b = args[2] === undefined ? null : asTensor(args[2], ctx, "B");
  if (w.rank !== x.rank) refuse(ctx, `W has rank ${w.rank} for an input of rank ${x.rank}`);
  return { x, w, b, rank: x.rank - 2 };
}

/** A Conv's window: its kernel (checked against W's), strides, dilations and pads for an input of these spatial sizes. */
function convWindow(ctx: BuildContext, w: Tensor, sizes: readonly number[]) {
  const kernel = ctx.attrs.ints("kernel_shape") ?? w.shape.slice(2);
  if (kernel.join() !== w.shape.slice(2).join()) refuse(ctx, `kernel_shape [${kernel}] but W ${w.shape}`);
  const { strides, dilations } = windowAttrs(ctx, sizes.length);
  return { kernel, strides, dilations, pads: windowPads(ctx, sizes, kernel, strides, dilations) };
}

const conv: OpRule = {
  since: 6,
  floats: [0, 1, 2],
  build: (ctx) => {
    const groups = ctx.attrs.int("group", 1);
    return (args) => {
      const { x, w, b, rank } = convOperands(args, ctx);
      const { strides, dilations, pads } = convWindow(ctx, w, x.shape.slice(2));
      const y = convPlanes(planar(x, ctx, "X"), planar(w, ctx, "W"), { groups, ...planeWindow(strides, dilations, pads) });
      return [fromPlanar(y, b, rank)];
    };
  },
  // An undilated 2-D Conv with equal strides runs on the NHWC kernels, its output left channels-last.
  channelsLast: (ctx) => {
    const groups = ctx.attrs.int("group", 1);
    const weights = laidOutWeights(ctx);
    const winograd = ctx.laidOut(([laid]) => [winogradWeights(laid)]);
    return (args) => {
      const conv = nhwcConv(ctx, groups, args, winograd);
      if (!conv) return null;
      // Without a gradient wanted, the inference form (no graph recorded, nothing clamped).
      const graph = isGradEnabled() && [conv.x, conv.w, conv.b].some((t) => t?.requiresGrad);
      return [conv.output(conv.run(weights.of(conv.w)[0], conv.b, graph ? null : UNCLAMPED))];
    };
  },
  // At inference, with the BatchNorm after it folded into W and B (W·a, B·a + shift: kept until
  // one of them changes), the clamp after that (Relu, Clip) and the activation (HardSwish, Swish)
  // in its output pass: fusion.ts.
  fused: (ctx) => {
    const groups = ctx.attrs.int("group", 1);
    const weights = laidOutWeights(ctx);
    const winograd = ctx.laidOut(([laid]) => [winogradWeights(laid)]);
    let fold: (sources: readonly Tensor[]) => Tensor[] = () => [];
    const folded = ctx.laidOut((sources) => fold(sources));
    return (args, { affine, clamp, activation }) => {
      const conv = nhwcConv(ctx, groups, args, winograd);
      if (!conv) return null;
      const { w, b } = conv;
      if (isGradEnabled() && [conv.x, w, b, ...(affine?.sources ?? [])].some((t) => t?.requiresGrad)) return null;
      /** The output pass's last part, the activation, on y in place while it is in cache. */
      const activated = (y: Tensor) => (activation && applyInPlace(y, y.shape[3], activation), conv.output(y));
      if (!affine) return activated(conv.run(weights.of(w)[0], b, clamp));
      if (affine.sources[0].size !== w.shape[0]) return null; // not this conv's channels: the BatchNorm, run as itself, says why
      const own = b ? [w, b] : [w];
      fold = (sources) => {
        const [scale, shift] = affine.scaleShift(sources.slice(own.length));
        const laid = weights.of(sources[0])[0]; // [kh, kw, c / groups, m]: the output channel last, as the scale
        return [laid.mul(scale), b ? sources[1].mul(scale).add(shift) : shift];
      };
      const [fw, fb] = folded.of(...own, ...affine.sources);
      return activated(conv.run(fw, fb, clamp));
    };
  },
};

const UNCLAMPED = [-Infinity, Infinity] as const;

/**
 * A Conv's weights laid out for the NHWC kernels: [m, c, kh, kw] → [kh, kw, c, m], a 1-D one's
 * [m, c, k] as [1, k, c, m] (an op while W takes a gradient, else once).
 */
const laidOutWeights = (ctx: BuildContext) => ctx.laidOut(([w]) => [oneRowHigh(w).transpose([2, 3, 1, 0])]);

/** A 1-D conv's [n, c, L] (input or weight) as [n, c, 1, L]: the 2-D kernels' one-row image; a 2-D one's as it is. */
const oneRowHigh = (t: Tensor) => (t.rank === 3 ? t.reshape([t.shape[0], t.shape[1], 1, t.shape[2]]) : t);

/** The NHWC kernels' output as what flows on: channels-last for a 2-D conv, a 1-D conv's [n, 1, L, m] made [n, m, L] (a transpose: the ops after it take NCL values). */
const nhwcOutput = (y: Tensor, oneD: boolean): Flowing => (oneD ? y.reshape([y.shape[0], y.shape[2], y.shape[3]]).transpose([0, 2, 1]) : new ChannelsLast(y));

/**
 * A Conv's or ConvTranspose's operands where the NHWC kernels can take its input (1-D or 2-D), else
 * null: the input's dims, W (of the input's rank) and B, and `images()`, the input as NHWC images
 * (as it is held when channels-last; made so, a 1-D one a row high, otherwise).
 */
function imageOperands(ctx: BuildContext, args: readonly (Flowing | undefined)[]) {
  const input = args[0];
  const dims = isChannelsLast(input) ? input.dims : Tensor.isTensor(input) ? input.shape : [];
  if (dims.length !== 4 && dims.length !== 3) return null;
  const w = asTensor(args[1] as Value, ctx, "W");
  if (w.rank !== dims.length) refuse(ctx, `W has rank ${w.rank} for an input of rank ${dims.length}`);
  const b = args[2] === undefined ? null : asTensor(args[2] as Value, ctx, "B");
  const images = () => (isChannelsLast(input) ? input.nhwc : toChannelsLast(oneRowHigh(input as Tensor)));
  return { input, dims, oneD: dims.length === 3, w, b, images };
}

/**
 * Output tiles (2×2) a GEMM of Winograd's F(2×2, 3×3) must have (an image's, or a group of small
 * images': winogradGroup) for a 3×3 stride-1 Conv to run on it, in inference and training:
 * `npm run bench -- cnn` times both on ResNet's shapes, and at one 7×7 output (16 tiles: sixteen
 * GEMMs of 16 rows) im2col was the faster.
 */
const WINOGRAD_MIN_TILES = 32;

/**
 * A Conv the NHWC kernels take (1-D, or 2-D with equal strides), or null: its operands, and
 * `run(laid, b, clamp)`, the convolution by laid-out weights, clamped without a graph (inference),
 * or as an op of the graph (clamp null): on conv2d (at inference an undilated 3×3 one at stride 1
 * on Winograd's, its transformed weights kept in `winograd`), a conv2d per group (ShuffleNet's
 * grouped convolutions), or the direct depthwise kernel (a group per input channel; dilated, at
 * stride 1 only, over the image's phases);
 * and `output(y)`, run's NHWC result as what flows on (nhwcOutput).
 */
function nhwcConv(ctx: BuildContext, groups: number, args: readonly (Flowing | undefined)[], winograd: LaidOut) {
  const operands = imageOperands(ctx, args);
  if (!operands) return null;
  const { input, dims, oneD, w, b, images } = operands;
  const window = convWindow(ctx, w, dims.slice(2));
  // A 1-D window is a 2-D one a row high: along H, one tap, stride and dilation 1, no padding.
  const { strides: [sh, sw], dilations, pads } = planeWindow(window.strides, window.dilations, window.pads);
  const depthwise = groups === dims[1] && groups > 1 && w.shape[1] === 1;
  const dilated = dilations.some((d) => d !== 1);
  if ((sh !== sw && !oneD) || (depthwise && dilated && sw !== 1)) return null;
  const stride = sw;
  const run = (laid: Tensor, bias: Tensor | null, clamp: readonly [number, number] | null): Tensor => {
    const x = images();
    const [kh, kw, , m] = laid.shape;
    if (depthwise && dilated) return dilatedDepthwiseConv2d(x, laid.reshape([kh, kw, m]), bias, pads, dilations, clamp ?? undefined);
    if (depthwise) return depthwiseConv2d(x, laid.reshape([kh, kw, m]), bias, stride, pads, clamp ?? undefined);
    const options = { stride, padding: pads, ...(dilated ? { dilation: dilations } : {}) };
    const one = (xs: Tensor, ws: Tensor, bs: Tensor | null) => (clamp ? conv2dClamped(xs, ws, bs, options, clamp) : conv2d(xs, ws, bs, options));
    const tiles = Math.ceil((x.shape[1] + pads[0] + pads[2] - 2) / 2) * Math.ceil((x.shape[2] + pads[1] + pads[3] - 2) / 2);
    if (groups === 1 && kh === 3 && kw === 3 && stride === 1 && !dilated && winogradGroup(x.shape[0], tiles) * tiles >= WINOGRAD_MIN_TILES) {
      // At inference on the weights transformed once; training transforms them each step (they change).
      return clamp ? winogradConv3x3(x, winograd.of(laid)[0], bias, pads, clamp) : conv2d(x, laid, bias, { ...options, algorithm: "winograd" });
    }
    if (groups === 1) return one(x, laid, bias);
    // Grouped and 1×1 at stride 1, at inference: a GEMM per group, in place in x and y.
    if (clamp && kh === 1 && kw === 1 && stride === 1 && pads.every((p) => p === 0)) return groupedPointwiseClamped(x, laid, bias, groups, clamp);
    // Grouped: each group's channels through the GEMM path, joined along the channels.
    const [n, h, wid, c] = x.shape, cg = c / groups, mg = m / groups;
    return concat(Array.from({ length: groups }, (_, g) => one(
      x.slice([0, 0, 0, g * cg], [n, h, wid, (g + 1) * cg]), laid.slice([0, 0, 0, g * mg], [kh, kw, cg, (g + 1) * mg]),
      bias ? bias.slice([g * mg], [(g + 1) * mg]) : null)), 3);
  };
  return { x: isChannelsLast(input) ? input.nhwc : (input as Tensor), w, b, depthwise, run, output: (y: Tensor) => nhwcOutput(y, oneD) };
}

/**
 * A ConvTranspose's window for an input of these spatial sizes: strides, dilations,
 * output_padding, and the padding [before, after] taken off the full output (what output_shape
 * leaves of it, or SAME_*'s size · stride).
 */
function transposeWindow(ctx: BuildContext, w: Tensor, sizes: readonly number[]) {
  const rank = sizes.length;
  const kernel = w.shape.slice(2);
  const { strides, dilations } = windowAttrs(ctx, rank);
  const outPad = ctx.attrs.ints("output_padding") ?? new Array<number>(rank).fill(0);
  const outputShape = ctx.attrs.ints("output_shape");
  // The output with no padding taken off; padding is what output_shape (or SAME_*: size · stride) leaves of it.
  const full = sizes.map((s, i) => strides[i] * (s - 1) + outPad[i] + (kernel[i] - 1) * dilations[i] + 1);
  const total = (target: readonly number[]) => {
    const t = full.map((f, i) => f - target[i]);
    if (t.some((v) => v < 0)) refuse(ctx, `output_shape [${target}] is larger than the transposed convolution gives`);
    return t;
  };
  const pads = outputShape
    ? split(total(outputShape.slice(-rank)), ctx.attrs.string("auto_pad", "NOTSET") === "SAME_LOWER")
    : spatialPads(ctx, rank, () => total(sizes.map((s, i) => s * strides[i])));
  return { strides, dilations, outPad, pads };
}

const convTranspose: OpRule = {
  since: 6,
  floats: [0, 1, 2],
  build: (ctx) => {
    const groups = ctx.attrs.int("group", 1);
    return (args) => {
      const { x, w, b, rank } = convOperands(args, ctx);
      const { strides, dilations, outPad, pads } = transposeWindow(ctx, w, x.shape.slice(2));
      const y = convTransposePlanes(planar(x, ctx, "X"), planar(w, ctx, "W"), { groups, outputPadding: pair(outPad, 0), ...planeWindow(strides, dilations, pads) });
      return [fromPlanar(y, b, rank)];
    };
  },
  // Ungrouped, 1-D or 2-D with equal strides: conv2d's input-gradient path (convTranspose2d), its
  // weights [c, m, kh, kw] laid out as [kh, kw, m, c] as a Conv's are; the output channels-last.
  channelsLast: (ctx) => {
    const groups = ctx.attrs.int("group", 1);
    const weights = laidOutWeights(ctx);
    return (args) => {
      const operands = groups === 1 ? imageOperands(ctx, args) : null;
      if (!operands) return null;
      const { dims, oneD, w, b, images } = operands;
      const { strides, dilations, outPad, pads } = transposeWindow(ctx, w, dims.slice(2));
      const window = planeWindow(strides, dilations, pads);
      if (window.strides[0] !== window.strides[1] && !oneD) return null;
      const y = convTranspose2d(images(), weights.of(w)[0], b, { stride: window.strides[1], padding: window.pads, outputPadding: pair(outPad, 0), dilation: window.dilations });
      return [nhwcOutput(y, oneD)];
    };
  },
};

const pool = (kind: "max" | "avg"): OpRule => ({
  since: 6,
  build: (ctx) => {
    const kernel = ctx.attrs.ints("kernel_shape") ?? refuse(ctx, "no kernel_shape");
    const ceil = ctx.attrs.int("ceil_mode", 0) === 1;
    const includePad = ctx.attrs.int("count_include_pad", 0) === 1;
    if (ctx.attrs.int("storage_order", 0) !== 0) refuse(ctx, "storage_order 1");
    if (ctx.node.outputs.length > 1 && ctx.node.outputs[1]) refuse(ctx, "its Indices output is not supported");
    return (args) => {
      const x = asTensor(args[0], ctx, "X");
      const rank = x.rank - 2;
      if (kernel.length !== rank) refuse(ctx, `kernel_shape [${kernel}] for ${rank} spatial axes`);
      const { strides, dilations } = windowAttrs(ctx, rank);
      const window = planeWindow(strides, dilations, windowPads(ctx, x.shape.slice(2), kernel, strides, dilations));
      const y = (kind === "max" ? maxPoolPlanes : avgPoolPlanes)(planar(x, ctx, "X"), { kernel: pair(kernel, 1), ...window, ceilMode: ceil, countIncludePad: includePad });
      return [fromPlanar(y, null, rank)];
    };
  },
  // A square, undilated 2-D window with equal strides on the NHWC kernels, which take the padding
  // and ceil_mode (and the average pool count_include_pad) themselves.
  channelsLast: (ctx) => {
    const kernel = ctx.attrs.ints("kernel_shape") ?? [];
    const ceil = ctx.attrs.int("ceil_mode", 0) === 1;
    const includePad = ctx.attrs.int("count_include_pad", 0) === 1;
    return (args) => {
      const x = args[0];
      if (!isChannelsLast(x) || kernel.length !== 2 || kernel[0] !== kernel[1] || (ctx.node.outputs.length > 1 && ctx.node.outputs[1])) return null;
      const { strides, dilations } = windowAttrs(ctx, 2);
      if (strides[0] !== strides[1] || dilations.some((d) => d !== 1)) return null;
      const [, , h, w] = x.dims;
      const [before, after] = windowPads(ctx, [h, w], kernel, strides, dilations);
      const options = { size: kernel[0], stride: strides[0], pads: [before[0], before[1], after[0], after[1]] as const, ceilMode: ceil };
      return [new ChannelsLast(kind === "avg" ? avgPool2d(x.nhwc, { ...options, countIncludePad: includePad }) : maxPool2d(x.nhwc, options))];
    };
  },
});

/** The mean (or max) over `axes`, kept as size-1 axes: a new tensor, never x itself. */
function reduceKept(x: Tensor, axes: number[], kind: "max" | "avg"): Tensor {
  if (kind === "avg") return x.mean(axes, { keepDims: true });
  let y = x;
  for (const d of axes) y = y.max(d, { keepDims: true });
  return y === x ? x.mul(1) : y;
}

const globalPool = (kind: "max" | "avg"): OpRule => ({
  since: 6,
  build: (ctx) => (args) => {
    const x = asTensor(args[0], ctx, "X");
    return [reduceKept(x, x.shape.slice(2).map((_, i) => i + 2), kind)];
  },
  channelsLast: () => (args) => (isChannelsLast(args[0]) ? [new ChannelsLast(reduceKept(args[0].nhwc, [1, 2], kind))] : null),
});

/** [C] as [1, C, 1, …] for an input of rank `rank`. */
const perChannel = (t: Tensor, rank: number) => t.reshape([1, t.size, ...new Array<number>(Math.max(rank - 2, 0)).fill(1)]);

/** x's mean and (biased) variance over `axes`, kept as size-1 axes, and x centred on the mean: what each normalisation divides. */
function moments(x: Tensor, axes: number[]) {
  const mean = x.mean(axes, { keepDims: true });
  const centred = x.sub(mean);
  return { mean, centred, variance: centred.square().mean(axes, { keepDims: true }) };
}

/** BatchNormalization's step on NCHW data and on channels-last data: one normalisation, the channel axis told. */
const batchNormSteps = (ctx: BuildContext) => {
  const eps = ctx.attrs.float("epsilon", 1e-5);
  const momentum = ctx.attrs.float("momentum", 0.9);
  if (ctx.opset < 9 && ctx.attrs.int("spatial", 1) !== 1) refuse(ctx, "spatial 0");
  // The training form: training_mode (opset 14) or, before opset 9's inference-only outputs, more than one output.
  const trainingNode = ctx.opset >= 14 ? ctx.attrs.int("training_mode", 0) === 1 : ctx.node.outputs.filter((o) => o).length > 1;
  /** With running statistics, one scale and one shift per channel: y = x·a + (β − μ·a), a = γ/√(σ² + ε). */
  const scaleShift = ([scale, bias, mean, variance]: readonly Tensor[]): [Tensor, Tensor] => {
    const a = scale.div(variance.add(eps).sqrt());
    return [a, bias.sub(mean.mul(a))];
  };
  const statistics = (args: readonly (Value | undefined)[]) => args.slice(1, 5).map((a, i) => asTensor(a, ctx, `input ${i + 1}`));
  // batchStatistics in training mode, unless its scale and shift are frozen: a frozen BatchNorm keeps its running statistics.
  const usesBatch = ([scale, bias]: readonly Tensor[], run: RunContext) => trainingNode || (run.training && run.batchStatistics && !(scale.frozen && bias.frozen));
  /**
   * The node on x, whose channels lie along `channelAxis`; `perC(t)` puts a [C] vector
   * along that axis. Its outputs: y in x's layout, then the statistics.
   */
  const normalise = (x: Tensor, channelAxis: number, perC: (t: Tensor) => Tensor, args: (Value | undefined)[], run: RunContext) => {
    const [scale, bias, mean, variance] = statistics(args);
    if (!usesBatch([scale, bias], run)) {
      const [a, shift] = scaleShift([scale, bias, mean, variance]);
      // Channels last: one op and one output (a training step keeps it); planar, a [C, 1, 1] broadcast.
      return [channelAxis === x.rank - 1 ? affineRows(x, a, shift) : x.mul(perC(a)).add(perC(shift))];
    }
    const { mean: m, centred, variance: v } = moments(x, [...x.shape.keys()].filter((d) => d !== channelAxis));
    const y = centred.div(v.add(eps).sqrt()).mul(perC(scale)).add(perC(bias));
    const batchMean = m.detach().reshape([scale.size]), batchVar = v.detach().reshape([scale.size]);
    const runningMean = mean.mul(momentum).add(batchMean.mul(1 - momentum));
    const runningVar = variance.mul(momentum).add(batchVar.mul(1 - momentum));
    if (!trainingNode && run.training) {
      // The model's own running statistics, updated in place as a framework's BatchNorm does.
      mean.copyFrom(runningMean);
      variance.copyFrom(runningVar);
    }
    return ctx.opset >= 14 ? [y, runningMean, runningVar] : [y, runningMean, runningVar, batchMean, batchVar];
  };
  return {
    planar: (args: (Value | undefined)[], run: RunContext) => {
      const x = asTensor(args[0], ctx, "input 0");
      return normalise(x, 1, (t) => perChannel(t, x.rank), args, run);
    },
    channelsLast: (args: (Flowing | undefined)[], run: RunContext) => {
      const x = args[0];
      if (!isChannelsLast(x)) return null;
      const [y, ...rest] = normalise(x.nhwc, 3, (t) => t, args as Value[], run);
      return [new ChannelsLast(y), ...rest];
    },
    // Folded into the Conv before it at inference: the same scale and shift.
    epilogue: (args: (Value | undefined)[], run: RunContext) => {
      const sources = statistics(args);
      return usesBatch(sources, run) ? null : { affine: { sources, scaleShift } };
    },
  };
};

const batchNorm: OpRule = {
  since: 6,
  floats: [0, 1, 2, 3, 4],
  buffers: [3, 4],
  types: (ctx) => ctx.node.outputs.map(() => DataType.FLOAT),
  build: (ctx) => batchNormSteps(ctx).planar,
  channelsLast: (ctx) => batchNormSteps(ctx).channelsLast,
  epilogue: (ctx) => batchNormSteps(ctx).epilogue,
};


const instanceNorm: OpRule = {
  since: 6,
  floats: [0, 1, 2],
  build: (ctx) => {
    const eps = ctx.attrs.float("epsilon", 1e-5);
    return (args) => {
      const [x, scale, bias] = args.map((a, i) => asTensor(a, ctx, `input ${i}`));
      const { centred, variance } = moments(x, x.shape.slice(2).map((_, i) => i + 2));
      return [centred.div(variance.add(eps).sqrt()).mul(perChannel(scale, x.rank)).add(perChannel(bias, x.rank))];
    };
  },
};

const layerNorm: OpRule = {
  since: 17,
  floats: [0, 1, 2],
  types: (ctx) => ctx.node.outputs.map(() => DataType.FLOAT),
  build: (ctx) => {
    const eps = ctx.attrs.float("epsilon", 1e-5);
    return (args) => {
      const x = asTensor(args[0], ctx, "X");
      const d = axisOf(ctx.attrs.int("axis", -1), x.rank, ctx.where);
      const axes = x.shape.slice(d).map((_, i) => d + i);
      const { mean, centred, variance } = moments(x, axes);
      const invStd = variance.add(eps).sqrt().pow(-1);
      let y = centred.mul(invStd).mul(asTensor(args[1], ctx, "Scale"));
      if (args[2] !== undefined) y = y.add(asTensor(args[2], ctx, "B"));
      return [y, mean, invStd];
    };
  },
};

/** LRN, x / (bias + α/size · Σ x² over `size` neighbouring channels)^β, on a tensor whose channels lie along a given axis (1 planar, 3 channels-last). */
const lrnOn = (ctx: BuildContext) => {
  const size = ctx.attrs.int("size", 0);
  if (size < 1) refuse(ctx, `size ${size}`);
  const options = { size, alpha: ctx.attrs.float("alpha", 1e-4), beta: ctx.attrs.float("beta", 0.75), bias: ctx.attrs.float("bias", 1) };
  return (x: Tensor, axis: number) => lrn(x, { ...options, axis });
};

const lrnRule: OpRule = {
  since: 6,
  build: (ctx) => {
    const f = lrnOn(ctx);
    return (args) => [f(asTensor(args[0], ctx, "X"), 1)];
  },
  channelsLast: (ctx) => {
    const f = lrnOn(ctx);
    return (args) => (isChannelsLast(args[0]) ? [new ChannelsLast(f(args[0].nhwc, 3))] : null);
  },
};

const softmax = (log: boolean): OpRule => ({
  since: 6,
  build: (ctx) => {
    const coerce = ctx.opset < 13;
    const axis = ctx.attrs.int("axis", coerce ? 1 : -1);
    return (args) => {
      const x = asTensor(args[0], ctx, "input");
      const f = (u: Tensor) => (log ? u.logSoftmax(-1) : u.softmax(-1));
      if (x.rank === 0) return refuse(ctx, "a scalar input");
      const d = axisOf(axis, x.rank, ctx.where);
      if (coerce) {
        const inner = x.shape.slice(d).reduce((p, q) => p * q, 1);
        return [f(x.reshape([x.size / Math.max(inner, 1), inner])).reshape(x.shape)];
      }
      if (d === x.rank - 1) return [f(x)];
      const perm = [...x.shape.keys()];
      [perm[d], perm[x.rank - 1]] = [perm[x.rank - 1], perm[d]];
      return [f(x.transpose(perm)).transpose(perm)];
    };
  },
});

const gemm: OpRule = {
  since: 6,
  floats: [0, 1, 2],
  build: (ctx) => {
    const transA = ctx.attrs.int("transA", 0) === 1, transB = ctx.attrs.int("transB", 0) === 1;
    const alpha = ctx.attrs.float("alpha", 1), beta = ctx.attrs.float("beta", 1);
    // A weight B stored transposed (PyTorch's Linear, a classifier head): transposed once per version of it.
    const laidB = transB && ctx.initializer(1) ? ctx.laidOut(([w]) => [w.transpose([1, 0])]) : null;
    return (args) => {
      let a = asTensor(args[0], ctx, "A"), b = asTensor(args[1], ctx, "B");
      if (a.rank !== 2 || b.rank !== 2) refuse(ctx, `A ${a.shape} and B ${b.shape} must be matrices`);
      if (transA) a = a.transpose([1, 0]);
      if (transB) b = laidB ? laidB.of(b)[0] : b.transpose([1, 0]);
      let y = a.matmul(b);
      if (alpha !== 1) y = y.mul(alpha);
      if (args[2] !== undefined && beta !== 0) {
        const c = asTensor(args[2], ctx, "C");
        y = y.add(beta === 1 ? c : c.mul(beta));
      }
      return [y];
    };
  },
};

const matmul: OpRule = {
  since: 6,
  floats: [0, 1],
  build: (ctx) => (args) => {
    let a = asTensor(args[0], ctx, "A"), b = asTensor(args[1], ctx, "B");
    const vecA = a.rank === 1, vecB = b.rank === 1;
    if (vecA) a = a.reshape([1, a.shape[0]]);
    if (vecB) b = b.reshape([b.shape[0], 1]);
    let y = a.matmul(b);
    if (vecA || vecB) {
      const shape = [...y.shape];
      if (vecB) shape.splice(shape.length - 1, 1);
      if (vecA) shape.splice(shape.length - (vecB ? 1 : 2), 1);
      y = y.reshape(shape);
    }
    return [y];
  },
};

export const NN_OPS: Record<string, OpRule> = {
  Conv: conv,
  ConvTranspose: convTranspose,
  MaxPool: pool("max"),
  AveragePool: pool("avg"),
  GlobalAveragePool: globalPool("avg"),
  GlobalMaxPool: globalPool("max"),
  BatchNormalization: batchNorm,
  InstanceNormalization: instanceNorm,
  LayerNormalization: layerNorm,
  LRN: lrnRule,
  Softmax: softmax(false),
  LogSoftmax: softmax(true),
  Gemm: gemm,
  MatMul: matmul,
};
