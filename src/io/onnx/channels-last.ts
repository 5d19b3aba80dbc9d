// Channels-last values: a 4-D tensor of ONNX's NCHW dims held in NHWC order, as the convolution
// kernels want it. A Conv gives one; the ops that do not care where the channel axis sits
// (elementwise maths, BatchNormalization, pooling, Concat along the channels, the global pools)
// take and give them; any other op gets its input made NCHW first, once per value (a transpose:
// an op, so gradients flow). So a CNN's activations stay NHWC from its first Conv to its head, and
// each Conv pays no transposes of its input or output. Reshape and Transpose take values held in
// any order (Permuted) and give them in whatever order costs least: a channel shuffle
// (Reshape, Transpose, Reshape) moves channels within each pixel, ViT's patches (Reshape to
// [n, c, h·w], Transpose) and TensorFlow's NHWC input (Transpose to NCHW) move nothing.
import { type Tensor, sizeOf } from "../../tensor.js";
import type { ChannelsLastStep } from "./op-rule.js";
import { ChannelsLast, type Flowing, NHWC_ORDER, Permuted, isChannelsLast, isInts, isPermuted } from "./values.js";

/** An NCHW tensor in NHWC order (the first Conv's input). */
export const toChannelsLast = (t: Tensor): Tensor => t.transpose(NHWC_ORDER);

/**
 * Operands of an elementwise op, at least one channels-last, as tensors that broadcast in NHWC
 * order as the originals do in NCHW: channels-last ones as they are (a permutation of the axes
 * commutes with broadcasting), a scalar as it is, any other float tensor of rank ≤ 4 given ones
 * on the left to rank 4 and permuted (a [C, 1, 1] constant becomes [1, 1, 1, C]). Null when an
 * operand is integers or of a higher rank, or none is channels-last.
 */
export function nhwcOperands(args: readonly (Flowing | undefined)[]): Tensor[] | null {
  if (!args.some(isChannelsLast)) return null;
  const out: Tensor[] = [];
  for (const a of args) {
    if (a === undefined || isInts(a)) return null;
    if (isChannelsLast(a)) out.push(a.nhwc);
    else if (isPermuted(a)) return null; // held in another order (the importer gives these planar)
    else if (a.size === 1 && a.rank <= 1) out.push(a);
    else if (a.rank <= 4) out.push(toChannelsLast(a.reshape([...new Array<number>(4 - a.rank).fill(1), ...a.shape])));
    else return null;
  }
  return out;
}

/** A channels-last elementwise step from a tensor op: null (planar) unless an operand is channels-last. */
export const elementwiseChannelsLast = (f: (...ts: Tensor[]) => Tensor): ChannelsLastStep => (args) => {
  const ts = nhwcOperands(args);
  if (!ts) return null;
  return [new ChannelsLast(f(...ts))]; // rank 4: a channels-last operand is
};

/** `held` as the value it holds by `order`: the tensor itself in ONNX's order, channels-last in NHWC's, else Permuted. */
export function permuted(held: Tensor, order: readonly number[]): Flowing {
  if (order.every((a, i) => a === i)) return held;
  if (order.length === 4 && order.every((a, i) => a === NHWC_ORDER[i])) return new ChannelsLast(held);
  return new Permuted(held, order);
}

/** A Transpose of a value held in another order: the same held tensor, its axes renamed (nothing moves). */
export function transposePermuted(v: Permuted, perm: readonly number[]): Flowing {
  const becomes = perm.map((_, axis) => perm.indexOf(axis)); // the output axis each input axis becomes
  return permuted(v.held, v.order.map((a) => becomes[a]));
}

/**
 * A Reshape of a value held in another order, to `target` (of the same size): a reshape of the
 * held tensor. The input's axes and the target's are cut into runs of equal size (axes of size 1
 * aside); where each run's input axes sit in the held tensor together and in order, nothing
 * moves, else the held tensor is first transposed so that they do, the runs kept in the order
 * they are held in (a channel shuffle's merge: a transpose within each pixel, not the whole value
 * made NCHW). Null for an empty value.
 */
export function reshapePermuted(v: Permuted, target: readonly number[]): Flowing | null {
  const dims = v.dims;
  if (sizeOf(dims) === 0) return null;
  const inAxes = dims.flatMap((d, a) => (d === 1 ? [] : [a]));
  const outAxes = target.flatMap((d, a) => (d === 1 ? [] : [a]));
  const runs: { from: number[]; to: number[] }[] = [];
  for (let i = 0, j = 0; i < inAxes.length;) {
    const run = { from: [inAxes[i]], to: [outAxes[j]] };
    let a = dims[inAxes[i++]], b = target[outAxes[j++]];
    while (a !== b) {
      if (a < b) (run.from.push(inAxes[i]), (a *= dims[inAxes[i++]]));
      else (run.to.push(outAxes[j]), (b *= target[outAxes[j++]]));
    }
    runs.push(run);
  }
  const heldAxes = v.order.filter((a) => dims[a] !== 1);
  const at = (a: number) => heldAxes.indexOf(a);
  const first = (run: { from: number[] }) => Math.min(...run.from.map(at));
  runs.sort((p, q) => first(p) - first(q));
  const needed = runs.flatMap((r) => r.from);
  let held = v.held.reshape(heldAxes.map((a) => dims[a]));
  if (needed.some((a, i) => a !== heldAxes[i])) held = held.transpose(needed.map(at));
  // The target's axes of size 1 go in after the axis before them (the first, at the front).
  const order = runs.flatMap((r) => r.to);
  target.forEach((d, a) => d === 1 && order.splice(a === 0 ? 0 : order.indexOf(a - 1) + 1, 0, a));
  return permuted(held.reshape(order.map((a) => target[a])), order);
}
