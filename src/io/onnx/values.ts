// What flows along an imported graph's edges: float tensors (wasmgrad tensors, so gradients flow),
// or integers (shapes, axes, ids, masks) held as JS numbers, since shape arithmetic is small and
// known before the float work runs. And the index maps that move elements of either: a gather by
// flat index (a differentiable op on tensors: its backward scatters the gradient back).
import { concat } from "../../autograd/ops/select.js";
import { broadcastShapes, broadcastStrides } from "../../autograd/ops/shape.js";
import type { Engine } from "../../backend/engine.js";
import { FormatError } from "../../errors.js";
import { Tensor, sizeOf, tensor } from "../../tensor.js";

export interface Ints { ints: number[]; dims: number[] }
export type Value = Tensor | Ints;

/**
 * A value held with its axes in another order: `held` is the value transposed by `order` (held
 * axis i is the value's axis order[i]). The ops that know the order work on `held` as it is
 * (channels-last.ts); any other gets the value made planar first, once (a transpose: an op, so
 * gradients flow).
 */
export class Permuted {
  constructor(readonly held: Tensor, readonly order: readonly number[]) {}
  /** The dims ONNX sees. */
  get dims(): number[] {
    const dims = new Array<number>(this.order.length);
    this.order.forEach((axis, i) => (dims[axis] = this.held.shape[i]));
    return dims;
  }
  /** The value in ONNX's order, as the ops that do not know the order take it. */
  planar(): Tensor {
    return this.held.transpose(this.order.map((_, axis) => this.order.indexOf(axis)));
  }
  /** Its dims alone, for the ops that read only those (Shape, Size): no transpose. */
  dimsOnly(): Ints {
    return { ints: [], dims: this.dims };
  }
}

/** Where a channels-last value's axes sit: [n, c, h, w] held as [n, h, w, c]. */
export const NHWC_ORDER: readonly number[] = Object.freeze([0, 2, 3, 1]);

/**
 * A 4-D value of ONNX's NCHW dims held in NHWC order, as the convolution kernels want it
 * (channels-last.ts says which ops take and give these).
 */
export class ChannelsLast extends Permuted {
  constructor(nhwc: Tensor) {
    super(nhwc, NHWC_ORDER);
  }
  /** The value [n, c, h, w] as [n, h, w, c]. */
  get nhwc(): Tensor {
    return this.held;
  }
}

/** What flows along an edge while the graph runs: a Value, or one held in another order. */
export type Flowing = Value | Permuted;

export const isPermuted = (v: Flowing | undefined): v is Permuted => v instanceof Permuted;
export const isChannelsLast = (v: Flowing | undefined): v is ChannelsLast => v instanceof ChannelsLast;

export const isInts = (v: Flowing | undefined): v is Ints => v !== undefined && !Tensor.isTensor(v) && !(v instanceof Permuted);
export const dimsOf = (v: Value): number[] => (isInts(v) ? v.dims : [...v.shape]);

/** A float tensor: a tensor as it is, integers converted (as ONNX's Cast to float does) on the model's engine. */
export function asTensor(v: Value | undefined, at: { where: string; engine: Engine }, what: string): Tensor {
  if (v === undefined) throw new FormatError(`${at.where}: ${what} is missing`);
  return isInts(v) ? tensor(Float32Array.from(v.ints), { shape: v.dims, engine: at.engine }) : v;
}

/**
 * Any value's numbers, read out of its tensor where it is one: what the non-differentiable ops
 * (comparisons, ArgMax, Resize's scales, Clip's bounds, …) read.
 */
export function numbersOf(v: Value | undefined, where: string, what: string): Ints {
  if (v === undefined) throw new FormatError(`${where}: ${what} is missing`);
  return isInts(v) ? v : { ints: Array.from(v.data()), dims: [...v.shape] };
}

/** Integers: as they are, or a tensor's values (ids given as a float tensor), each checked whole. */
export function asInts(v: Value | undefined, where: string, what: string): Ints {
  const n = numbersOf(v, where, what);
  const bad = n.ints.findIndex((d) => !Number.isInteger(d));
  if (bad >= 0) throw new FormatError(`${where}: ${what} must hold integers, got ${n.ints[bad]} at ${bad}`);
  return n;
}

/**
 * For each element of an output of `dims` (row-major), the flat index in the input that
 * `source(index)` names for its index per axis; −1 for an element read from no input (padding).
 */
export function indexMap(dims: readonly number[], source: (index: number[]) => number): Int32Array {
  const size = sizeOf(dims);
  const map = new Int32Array(size);
  const index = new Array<number>(dims.length).fill(0);
  for (let i = 0; i < size; i++) {
    map[i] = source(index);
    for (let d = dims.length - 1; d >= 0; d--) {
      if (++index[d] < dims[d]) break;
      index[d] = 0;
    }
  }
  return map;
}

/** out[i] = v[map[i]] (map[i] = −1: `fill`): integers moved in JS, a tensor by a differentiable gather. */
export function take(v: Value, dims: number[], map: Int32Array, fill = 0): Value {
  if (isInts(v)) return { ints: Array.from(map, (m) => (m < 0 ? fill : v.ints[m])), dims };
  const padded = map.some((m) => m < 0);
  if (!padded) return v.reshape([v.size, 1]).gather(map).reshape(dims);
  // Padding reads one extra element of value `fill`, appended to the input.
  const flat = v.reshape([v.size, 1]);
  const extra = tensor([[fill]], { engine: v.engine });
  const source = flat.size === 0 ? extra : concat([flat, extra], 0);
  const at = map.map((m) => (m < 0 ? v.size : m));
  return source.gather(at).reshape(dims);
}

/** Integers combined elementwise with NumPy broadcasting (a ShapeError naming `where` where they do not broadcast). */
export function intsElementwise(values: Ints[], f: (xs: number[]) => number, where: string): Ints {
  const dims = values.reduce((d: readonly number[], v) => broadcastShapes(where, d, v.dims), []) as number[];
  // Each operand read through its broadcast strides (0 along the axes it repeats).
  const maps = values.map((v) => {
    const strides = broadcastStrides(v.dims, dims);
    return indexMap(dims, (ix) => ix.reduce((o, x, d) => o + x * strides[d], 0));
  });
  const out = Array.from({ length: sizeOf(dims) }, (_, i) => f(values.map((v, k) => v.ints[maps[k][i]])));
  return { ints: out, dims };
}

/** An axis in [0, rank), negative ones counted from the end, or a FormatError. */
export function axisOf(axis: number, rank: number, where: string): number {
  const d = axis < 0 ? axis + rank : axis;
  if (!(Number.isInteger(d) && d >= 0 && d < rank)) throw new FormatError(`${where}: axis ${axis} is out of range for rank ${rank}`);
  return d;
}
