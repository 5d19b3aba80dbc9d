// What flows along an imported graph's edges: float tensors (wasmgrad tensors, so gradients flow),
// or integers (shapes, axes, ids, masks) held as JS numbers, since shape arithmetic is small and
// known before the float work runs. And the index maps that move elements of either: a gather by
// flat index (a differentiable op on tensors: its backward scatters the gradient back).
import { concat } from "../../autograd/ops/select.js";
import { FormatError } from "../../errors.js";
import { Tensor, tensor } from "../../tensor.js";

export interface Ints { ints: number[]; dims: number[] }
export type Value = Tensor | Ints;

export const isInts = (v: Value | undefined): v is Ints => v !== undefined && !Tensor.isTensor(v);
export const ints = (values: number[], dims: number[] = [values.length]): Ints => ({ ints: values, dims });
export const dimsOf = (v: Value): number[] => (isInts(v) ? v.dims : [...v.shape]);
export const sizeOf = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

/** A float tensor: a tensor as it is, integers converted (as ONNX's Cast to float does). */
export function asTensor(v: Value | undefined, where: string, what: string): Tensor {
  if (v === undefined) throw new FormatError(`${where}: ${what} is missing`);
  return isInts(v) ? tensor(Float32Array.from(v.ints), { shape: v.dims }) : v;
}

/** Integers: as they are, or a tensor's values (ids given as a float tensor), each checked whole. */
export function asInts(v: Value | undefined, where: string, what: string): Ints {
  if (v === undefined) throw new FormatError(`${where}: ${what} is missing`);
  if (isInts(v)) return v;
  const data = Array.from(v.data());
  const bad = data.findIndex((d) => !Number.isInteger(d));
  if (bad >= 0) throw new FormatError(`${where}: ${what} must hold integers, got ${data[bad]} at ${bad}`);
  return { ints: data, dims: [...v.shape] };
}

export function contiguousStrides(dims: readonly number[]): number[] {
  const strides = new Array<number>(dims.length);
  let s = 1;
  for (let d = dims.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= dims[d];
  }
  return strides;
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
  const extra = tensor([[fill]]);
  const source = flat.size === 0 ? extra : concat([flat, extra], 0);
  const at = map.map((m) => (m < 0 ? v.size : m));
  return source.gather(at).reshape(dims);
}

/** NumPy broadcasting of two shapes, or null where they do not broadcast. */
export function broadcastDims(a: readonly number[], b: readonly number[]): number[] | null {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1, y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Integers combined elementwise with broadcasting. */
export function intsElementwise(values: Ints[], f: (xs: number[]) => number, where: string): Ints {
  let dims: number[] = [];
  for (const v of values) {
    const next = broadcastDims(dims, v.dims);
    if (!next) throw new FormatError(`${where}: shapes [${dims}] and [${v.dims}] do not broadcast`);
    dims = next;
  }
  const strides = values.map((v) => {
    const s = contiguousStrides(v.dims);
    return dims.map((d, i) => {
      const j = i - (dims.length - v.dims.length);
      return j < 0 || v.dims[j] === 1 ? 0 : s[j];
    });
  });
  const size = sizeOf(dims);
  const out = new Array<number>(size);
  const index = new Array<number>(dims.length).fill(0);
  for (let i = 0; i < size; i++) {
    out[i] = f(values.map((v, k) => v.ints[index.reduce((o, x, d) => o + x * strides[k][d], 0)]));
    for (let d = dims.length - 1; d >= 0; d--) {
      if (++index[d] < dims[d]) break;
      index[d] = 0;
    }
  }
  return { ints: out, dims };
}

/** An axis in [0, rank), negative ones counted from the end, or a FormatError. */
export function axisOf(axis: number, rank: number, where: string): number {
  const d = axis < 0 ? axis + rank : axis;
  if (!(Number.isInteger(d) && d >= 0 && d < rank)) throw new FormatError(`${where}: axis ${axis} is out of range for rank ${rank}`);
  return d;
}
