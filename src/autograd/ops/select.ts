// Selecting and comparing: abs, clip, where, max/min (with argmax/argmin), gather, slice,
// concat and stack. Each forward kernel call sits beside its backward rule: the gradient goes back
// to the elements that were chosen (the max, the rows gathered, the slice's window, the branch
// taken) and is zero elsewhere; gathered rows that repeat have their gradients summed.
import { checkBoolean, checkNumber, checkOptions, describe } from "../../check.js";
import { ArgumentError, ShapeError } from "../../errors.js";
import { type Shape, Tensor, formatShape } from "../../tensor.js";
import { nodeOf, record } from "../graph.js";
import { reshape, transpose } from "./shape.js";
import { checkSameEngine, checkTensor, contiguousStrides, empty, normaliseAxis, sameShape } from "./util.js";

/** |x|; ∂|x|/∂x = sign(x). */
export function abs(x: Tensor): Tensor {
  checkTensor("abs", "x", x);
  const y = empty(x);
  x.engine.kernels.absolute(x.ptr, y.ptr, x.size);
  return record(y, "abs", [x], (gy) => {
    const gx = empty(x);
    x.engine.kernels.absoluteBackward(x.ptr, gy.ptr, gx.ptr, x.size);
    return [gx];
  });
}

/** x limited to [min, max]; the gradient passes where min ≤ x ≤ max. */
export function clip(x: Tensor, min: number, max: number): Tensor {
  checkTensor("clip", "x", x);
  checkNumber("clip", "min", min, { finite: false });
  checkNumber("clip", "max", max, { finite: false, min });
  const y = empty(x);
  x.engine.parallel("clamp", x.size, (from, to) => [x.ptr + 4 * from, min, max, y.ptr + 4 * from, to - from]);
  return record(y, "clip", [x], (gy) => {
    const gx = empty(x);
    x.engine.parallel("clampBackward", x.size, (from, to) => [x.ptr + 4 * from, min, max, gy.ptr + 4 * from, gx.ptr + 4 * from, to - from]);
    return [gx];
  }, { min, max });
}

/** a where cond ≠ 0, b elsewhere; all three of one shape. The condition gets no gradient. */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  checkTensor("where", "cond", cond);
  checkSameEngine("where", cond, a);
  checkSameEngine("where", cond, b);
  if (!sameShape(cond.shape, a.shape) || !sameShape(cond.shape, b.shape)) {
    throw new ShapeError(`where: cond, a and b need one shape, got ${formatShape(cond.shape)}, ${formatShape(a.shape)}, ${formatShape(b.shape)}`);
  }
  const k = cond.engine.kernels;
  const y = empty(a);
  k.select(cond.ptr, a.ptr, b.ptr, y.ptr, y.size);
  return record(y, "where", [a, b], (gy, needs) =>
    [1, 0].map((chosen, i) => {
      if (!needs[i]) return null;
      const g = empty(a);
      k.selectBackward(cond.ptr, gy.ptr, chosen, g.ptr, g.size);
      return g;
    }),
  );
}

export interface ExtremeOptions {
  /** Keep the reduced axis with size 1. Default false. */
  keepDims?: boolean;
}

/** The largest (or smallest) along one axis (all elements when axis is undefined), and where it sits. */
function extreme(op: string, x: Tensor, axis: number | undefined, options: ExtremeOptions | undefined, largest: boolean, values: boolean): Tensor {
  checkTensor(op, "x", x);
  const { keepDims = false } = checkOptions(op, options);
  checkBoolean(op, "options.keepDims", keepDims);
  if (x.size === 0) throw new ShapeError(`${op}: an empty tensor (shape ${formatShape(x.shape)}) has no ${largest ? "largest" : "smallest"} element`);
  const d = axis === undefined ? -1 : normaliseAxis(op, axis, x.rank);
  // Put the axis last (a transpose, an op of its own with its own backward), then work on rows.
  const last = d === -1 || d === x.rank - 1;
  const moved = d === -1 ? reshape(x, [1, x.size]) : last ? x : transpose(x, [...x.shape.keys()].filter((i) => i !== d).concat(d));
  const cols = moved.shape[moved.rank - 1];
  const rows = moved.size / cols;
  const outShape: Shape = d === -1 ? (keepDims ? x.shape.map(() => 1) : []) : keepDims ? x.shape.map((s, i) => (i === d ? 1 : s)) : x.shape.filter((_, i) => i !== d);
  const k = x.engine.kernels;
  const indices = Tensor.empty(outShape, x.engine);
  if (!values) {
    k.rowExtreme(moved.ptr, rows, cols, largest, 0, indices.ptr);
    if (moved !== x) moved.dispose();
    return indices;
  }
  const y = empty(x, outShape);
  k.rowExtreme(moved.ptr, rows, cols, largest, y.ptr, indices.ptr);
  const picked = record(y, op, [moved], (gy) => {
    const g = empty(moved);
    k.rowExtremeBackward(gy.ptr, indices.ptr, rows, cols, g.ptr);
    return [g];
  }, axis === undefined ? {} : { axis }, [indices]);
  if (moved !== x && nodeOf(picked) === null) moved.dispose(); // without a graph nothing else holds it
  return picked;
}

export const max = (x: Tensor, axis?: number, options?: ExtremeOptions): Tensor => extreme("max", x, axis, options, true, true);
export const min = (x: Tensor, axis?: number, options?: ExtremeOptions): Tensor => extreme("min", x, axis, options, false, true);
/** Where the largest element along `axis` sits (of the flattened tensor when axis is undefined), as float indices. */
export const argmax = (x: Tensor, axis?: number, options?: ExtremeOptions): Tensor => extreme("argmax", x, axis, options, true, false);
export const argmin = (x: Tensor, axis?: number, options?: ExtremeOptions): Tensor => extreme("argmin", x, axis, options, false, false);

/** Rows of x (along its first axis) at `indices` (integers, repeats allowed): an embedding lookup. */
export function gather(x: Tensor, indices: Tensor | ArrayLike<number>): Tensor {
  checkTensor("gather", "x", x);
  if (x.rank < 1) throw new ShapeError("gather: x needs a first axis to gather rows from, got a scalar");
  const values = Tensor.isTensor(indices) ? (checkTensor("gather", "indices", indices), indices.data()) : indices;
  if (values === null || typeof values !== "object" || typeof (values as ArrayLike<number>).length !== "number" || (!Array.isArray(values) && !ArrayBuffer.isView(values))) {
    throw new ArgumentError(`gather: indices must be a tensor or an array of row indices, got ${describe(indices)}`);
  }
  const rows = x.shape[0];
  const count = values.length;
  for (let i = 0; i < count; i++) {
    const v = values[i];
    if (!(Number.isInteger(v) && v >= 0 && v < rows)) throw new ArgumentError(`gather: index ${describe(v)} at ${i} is not a row of x (0 ≤ i < ${rows})`);
  }
  const shape = Tensor.isTensor(indices) ? [...indices.shape, ...x.shape.slice(1)] : [count, ...x.shape.slice(1)];
  const cols = rows === 0 ? 0 : x.size / rows;
  const k = x.engine.kernels;
  const at = Tensor.empty([count], x.engine); // i32 row indices, stored in a float tensor's memory
  x.engine.memory.i32(at.ptr, count).set(values);
  const y = empty(x, shape);
  k.gatherRows(x.ptr, at.ptr, count, cols, y.ptr);
  return record(y, "gather", [x], (gy) => {
    const gx = empty(x); // scatter-add: a row gathered twice gets both gradients
    k.scatterAddRows(gy.ptr, at.ptr, count, cols, gx.ptr, rows);
    return [gx];
  }, {}, [at]);
}

/** x[begin₀:end₀, begin₁:end₁, …]: `begin` and `end` per leading axis (end exclusive, negative from the end, omitted axes whole). */
export function slice(x: Tensor, begin: readonly number[], end?: readonly (number | undefined)[]): Tensor {
  checkTensor("slice", "x", x);
  if (!Array.isArray(begin) || begin.length > x.rank) throw new ArgumentError(`slice: begin must be an array of at most ${x.rank} indices, got ${describe(begin)}`);
  if (end !== undefined && (!Array.isArray(end) || end.length > x.rank)) throw new ArgumentError(`slice: end must be an array of at most ${x.rank} indices, got ${describe(end)}`);
  const lo: number[] = [], hi: number[] = [];
  x.shape.forEach((size, d) => {
    const resolve = (v: number | undefined, fallback: number, name: string) => {
      if (v === undefined) return fallback;
      checkNumber("slice", `${name}[${d}]`, v, { integer: true });
      return Math.min(size, Math.max(0, v < 0 ? v + size : v));
    };
    lo.push(resolve(begin[d], 0, "begin"));
    hi.push(Math.max(lo[d], resolve(end?.[d], size, "end")));
  });
  const shape = lo.map((l, d) => hi[d] - l);
  const strides = contiguousStrides(x.shape);
  const offset = lo.reduce((o, l, d) => o + l * strides[d], 0);
  const y = empty(x, shape);
  if (y.size > 0) x.engine.strided("copy", x.ptr + 4 * offset, y.ptr, shape, strides);
  return record(y, "slice", [x], (gy) => {
    const gx = empty(x);
    x.engine.kernels.fill(gx.ptr, 0, gx.size);
    if (gy.size > 0) x.engine.strided("accumulate", gy.ptr, gx.ptr + 4 * offset, shape, strides);
    return [gx];
  }, { begin: lo, end: hi });
}

/** The tensors joined along `axis`; all other axes must match. */
export function concat(list: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(list) || list.length === 0) throw new ArgumentError(`concat: expected a non-empty array of tensors, got ${describe(list)}`);
  const tensors: readonly Tensor[] = list;
  tensors.forEach((t, i) => checkTensor("concat", `tensors[${i}]`, t));
  const first = tensors[0];
  tensors.forEach((t) => checkSameEngine("concat", first, t));
  const d = normaliseAxis("concat", axis, first.rank);
  const bad = tensors.findIndex((t) => t.rank !== first.rank || t.shape.some((s, i) => i !== d && s !== first.shape[i]));
  if (bad >= 0) throw new ShapeError(`concat: tensors[${bad}] has shape ${formatShape(tensors[bad].shape)}; along every axis but ${d} it must match ${formatShape(first.shape)}`);
  const shape = first.shape.map((s, i) => (i === d ? tensors.reduce((n, t) => n + t.shape[d], 0) : s));
  const y = empty(first, shape);
  // Each part is `rows` runs of its axes from d on, one per index of the axes before d; in y those
  // runs lie yRow apart, the part's own `along` from the start of each. Threads share the runs.
  const rows = shape.slice(0, d).reduce((a, s) => a * s, 1);
  const inner = shape.slice(d + 1).reduce((a, s) => a * s, 1);
  const yRow = shape[d] * inner;
  const engine = first.engine;
  const copy = (src: number, srcStride: number, dst: number, dstStride: number, cols: number) => {
    if (rows > 0 && cols > 0) engine.parallel("copyRows", rows, (from, to) => [src + 4 * from * srcStride, srcStride, dst + 4 * from * dstStride, dstStride, to - from, cols], { unit: 1, work: rows * cols });
  };
  const offsets: number[] = [];
  let along = 0;
  for (const t of tensors) {
    offsets.push(along * inner);
    copy(t.ptr, t.shape[d] * inner, y.ptr + 4 * along * inner, yRow, t.shape[d] * inner);
    along += t.shape[d];
  }
  return record(y, "concat", tensors, (gy, needs) =>
    tensors.map((t, i) => {
      if (!needs[i]) return null;
      const g = empty(t);
      copy(gy.ptr + 4 * offsets[i], yRow, g.ptr, t.shape[d] * inner, t.shape[d] * inner);
      return g;
    }),
  { axis: d });
}

/** The tensors (all of one shape) stacked along a new axis `axis`. */
export function stack(list: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(list) || list.length === 0) throw new ArgumentError(`stack: expected a non-empty array of tensors, got ${describe(list)}`);
  const tensors: readonly Tensor[] = list;
  tensors.forEach((t, i) => checkTensor("stack", `tensors[${i}]`, t));
  const shape = tensors[0].shape;
  const bad = tensors.findIndex((t) => !sameShape(t.shape, shape));
  if (bad >= 0) throw new ShapeError(`stack: every tensor needs shape ${formatShape(shape)}, tensors[${bad}] has ${formatShape(tensors[bad].shape)}`);
  const d = normaliseAxis("stack", axis, shape.length + 1);
  const expanded = [...shape.slice(0, d), 1, ...shape.slice(d)];
  const views = tensors.map((t) => reshape(t, expanded));
  const y = concat(views, d);
  if (nodeOf(y) === null) views.forEach((v) => v.dispose()); // without a graph nothing else holds them
  return y;
}
