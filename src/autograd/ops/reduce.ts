// Sums and means, over everything or over some axes. Backward repeats the gradient over the
// axes that were summed (each input element contributed with derivative 1, or 1/count for mean).
import { checkBoolean, checkOptions, describe } from "../../check.js";
import { ArgumentError } from "../../errors.js";
import type { Tensor } from "../../tensor.js";
import { record } from "../graph.js";
import { broadcastTo } from "./shape.js";
import { checkTensor, contiguousStrides, empty, normaliseAxis } from "./util.js";

export interface ReduceOptions {
  /** Keep the reduced axes with size 1. Default false. */
  keepDims?: boolean;
}

function reducedAxes(op: string, x: Tensor, axis: number | readonly number[] | undefined): Set<number> {
  if (axis === undefined) return new Set(x.shape.map((_, i) => i));
  if (typeof axis !== "number" && !(Array.isArray(axis) && axis.length <= x.rank)) {
    throw new ArgumentError(`${op}: axis must be an axis index, an array of at most ${x.rank} of them, or undefined (all axes), got ${describe(axis)}`);
  }
  const list: readonly number[] = typeof axis === "number" ? [axis] : axis;
  const axes = new Set(list.map((a) => normaliseAxis(op, a, x.rank)));
  if (axes.size !== list.length) throw new ArgumentError(`${op}: axis [${list}] names an axis twice`);
  return axes;
}

/** Σ over `axis` (one, several, or all when omitted), in a fixed order; scaled by `factor`. */
function reduce(op: string, x: Tensor, axis: number | readonly number[] | undefined, options: ReduceOptions | undefined, mean: boolean): Tensor {
  checkTensor(op, "x", x);
  const axes = reducedAxes(op, x, axis);
  const { keepDims = false } = checkOptions(op, options);
  checkBoolean(op, "options.keepDims", keepDims);
  const kept = x.shape.map((d, i) => (axes.has(i) ? 1 : d));
  const count = x.shape.reduce((n, d, i) => (axes.has(i) ? n * d : n), 1);
  const y = empty(x, keepDims ? kept : x.shape.filter((_, i) => !axes.has(i)));
  const k = x.engine.kernels;
  if (axes.size === x.rank) {
    k.rowSums(x.ptr, 1, x.size, y.ptr, false); // left to right
  } else {
    k.fill(y.ptr, 0, y.size);
    const strides = contiguousStrides(kept).map((s, i) => (axes.has(i) ? 0 : s));
    x.engine.strided("accumulate", x.ptr, y.ptr, x.shape, strides);
  }
  const factor = mean ? 1 / count : 1;
  if (mean) k.scale(y.ptr, factor, y.ptr, y.size);
  return record(y, op, [x], (gy) => {
    const gyKept = gy.view(kept);
    const g = broadcastTo(gyKept, x.shape);
    gyKept.dispose();
    if (mean) k.scale(g.ptr, factor, g.ptr, g.size);
    return [g];
  }, axis === undefined ? {} : { axis });
}

export function sum(x: Tensor, axis?: number | readonly number[], options?: ReduceOptions): Tensor {
  return reduce("sum", x, axis, options, false);
}

/** The mean over `axis`; an empty reduction gives NaN (0/0), as in NumPy. */
export function mean(x: Tensor, axis?: number | readonly number[], options?: ReduceOptions): Tensor {
  return reduce("mean", x, axis, options, true);
}
