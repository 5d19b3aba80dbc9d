// Operations that move elements without arithmetic: reshape (a view), transpose, broadcastTo.
// Their backward rules move the gradient back: reshape it, transpose it back, or sum it over the
// axes the broadcast repeated.
import { MAX_DIMS } from "../../backend/engine.js";
import { describe } from "../../check.js";
import { ShapeError } from "../../errors.js";
import { type Shape, type Tensor, checkShape, formatShape, sizeOf } from "../../tensor.js";
import { record } from "../graph.js";
import { checkTensor, contiguousStrides, empty, normaliseAxis, sameShape } from "./util.js";

/** The same values with another shape; one dimension may be -1 (inferred). Shares memory. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor("reshape", "x", x);
  if (!Array.isArray(shape) || shape.length > MAX_DIMS || !shape.every((d) => d === -1 || (Number.isSafeInteger(d) && d >= 0))) {
    throw new ShapeError(`reshape: the new shape must be an array of at most ${MAX_DIMS} non-negative integers (one may be -1), got ${describe(shape)}`);
  }
  const free = shape.filter((d) => d === -1).length;
  if (free > 1) throw new ShapeError(`reshape: at most one dimension may be -1, got ${formatShape(shape)}`);
  const known = sizeOf(shape.filter((d) => d !== -1));
  const target = free ? shape.map((d) => (d === -1 ? (known === 0 ? 0 : x.size / known) : d)) : shape;
  checkShape(target, "reshape");
  if (sizeOf(target) !== x.size) {
    throw new ShapeError(`reshape: cannot view shape ${formatShape(x.shape)} (${x.size} elements) as ${formatShape(shape)}`);
  }
  const y = x.view(Object.freeze([...target]));
  return record(y, "reshape", [x], (gy) => [gy.view(x.shape)], { shape: target });
}

/** Permutes the axes (default: reverses them, the matrix transpose for rank 2). */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  checkTensor("transpose", "x", x);
  if (perm !== undefined && !Array.isArray(perm)) throw new ShapeError(`transpose: perm must be an array of axes, got ${describe(perm)}`);
  const axes = perm ?? x.shape.map((_, i) => x.rank - 1 - i);
  const sorted = axes.map((a) => normaliseAxis("transpose", a, x.rank)).sort((a, b) => a - b);
  if (axes.length !== x.rank || sorted.some((a, i) => a !== i)) {
    throw new ShapeError(`transpose: [${axes}] is not a permutation of the ${x.rank} axes of shape ${formatShape(x.shape)}`);
  }
  const p = axes.map((a) => normaliseAxis("transpose", a, x.rank));
  const y = permute(x, p);
  const inverse = p.map((_, i) => p.indexOf(i));
  return record(y, "transpose", [x], (gy) => [permute(gy, inverse)], { perm: p });
}

function permute(x: Tensor, p: readonly number[]): Tensor {
  const y = empty(x, p.map((a) => x.shape[a]));
  const blocks = asBlockTranspose(x.shape, p);
  if (blocks && y.size > 0) {
    const [batch, rows, cols, inner] = blocks;
    x.engine.parallel("transposeBlocks", batch * rows, (from, to) => [x.ptr, batch, rows, cols, inner, y.ptr, from, to], { unit: 1, work: y.size });
    return y;
  }
  const strides = contiguousStrides(x.shape);
  x.engine.strided("copy", x.ptr, y.ptr, y.shape, p.map((a) => strides[a]));
  return y;
}

/**
 * [batch, rows, cols, inner] when permuting `shape` by p swaps two neighbouring runs of axes (the
 * axes before them a batch, those after them an inner block, each merged): NCHW ↔ NHWC, or a
 * channel shuffle's [n, g, c/g, h·w] → [n, c/g, g, h·w]. Null for any other permutation.
 */
function asBlockTranspose(shape: readonly number[], p: readonly number[]): [number, number, number, number] | null {
  // Runs of axes that stay together and in order, in the output's order.
  const runs: number[][] = [];
  for (const a of p) {
    const last = runs[runs.length - 1];
    if (last && last[last.length - 1] + 1 === a) last.push(a);
    else runs.push([a]);
  }
  const size = (run: number[] | undefined) => (run ?? []).reduce((s, a) => s * shape[a], 1);
  const starts = runs.map((r) => r[0]);
  // Output runs [before?, B, A, after?] where the source holds [before?, A, B, after?].
  const k = starts[0] === 0 && runs.length > 2 ? 1 : 0;
  const [b, a] = [runs[k], runs[k + 1]];
  if (!b || !a || runs.length - k > 3 || a[0] !== (k ? runs[0].length : 0) || b[0] !== a[a.length - 1] + 1) return null;
  const after = runs[k + 2];
  if (after && after[0] !== b[b.length - 1] + 1) return null;
  return [size(k ? runs[0] : undefined), size(a), size(b), size(after)];
}

/** NumPy's rule: align shapes on the right; each pair of dimensions must match or one be 1. */
export function broadcastShapes(op: string, a: Shape, b: Shape): Shape {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(`${op}: shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast (axis ${i}: ${da} vs ${db})`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Strides that read x as if it had `shape`: 0 on the axes where x is repeated. */
export function broadcastStrides(x: Shape, shape: Shape): number[] {
  const own = contiguousStrides(x);
  const offset = shape.length - x.length;
  return shape.map((d, i) => (i < offset || x[i - offset] === 1 ? 0 : own[i - offset]));
}

/** x repeated along the axes where it has size 1 (or lacks, on the left), to `shape`. */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  checkTensor("broadcastTo", "x", x);
  const target = checkShape(shape, "broadcastTo");
  if (!sameShape(broadcastShapes("broadcastTo", x.shape, target), target)) {
    throw new ShapeError(`broadcastTo: shape ${formatShape(x.shape)} cannot be repeated to ${formatShape(target)}`);
  }
  const y = empty(x, target);
  if (x.size === 1) {
    // One value repeated (the gradient of a sum or a mean): a fill, not a walk over every index.
    x.engine.kernels.fill(y.ptr, x.engine.memory.f32(x.ptr, 1)[0], y.size);
  } else {
    x.engine.strided("copy", x.ptr, y.ptr, target, broadcastStrides(x.shape, target));
  }
  return record(y, "broadcastTo", [x], (gy) => [sumTo(gy, x.shape)], { shape: target });
}

/** The reverse of broadcastTo: g summed over the axes that broadcasting to g.shape repeated. */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  const out = empty(g, shape);
  g.engine.kernels.fill(out.ptr, 0, out.size);
  g.engine.strided("accumulate", g.ptr, out.ptr, g.shape, broadcastStrides(shape, g.shape));
  return out;
}

/** Both operands repeated to their common shape (unchanged where they already have it). */
export function broadcastPair(op: string, a: Tensor, b: Tensor): [Tensor, Tensor] {
  const shape = broadcastShapes(op, a.shape, b.shape);
  return [sameShape(a.shape, shape) ? a : broadcastTo(a, shape), sameShape(b.shape, shape) ? b : broadcastTo(b, shape)];
}

