// ONNX's reductions (axes as an attribute, or as an input from opset 13 for ReduceSum and 18 for
// the rest) and ArgMax/ArgMin. Float reductions are differentiable compositions of sum, mean and
// max (and a chain of products); on integers (shape arithmetic) they run in JS. ArgMax/ArgMin give integers, no gradient.
import { slice } from "../../../autograd/ops/select.js";
import { contiguousStrides } from "../../../autograd/ops/util.js";
import { type Tensor, full, sizeOf, tensor } from "../../../tensor.js";
import { type BuildContext, INT64_OUT, type OpRule, refuse } from "../op-rule.js";
import { type Ints, type Value, asTensor, axisOf, dimsOf, indexMap, isInts, numbersOf } from "../values.js";

/** The axes to reduce, or null for "none" (noop_with_empty_axes). */
function reducedAxes(ctx: BuildContext, args: (Value | undefined)[], rank: number, inputSince: number): number[] | null {
  let listed: readonly number[] | undefined;
  if (ctx.opset < inputSince) listed = ctx.attrs.ints("axes");
  else if (args[1] !== undefined) {
    if (!isInts(args[1])) return refuse(ctx, "axes must be integers");
    listed = args[1].ints;
  }
  if (listed === undefined || listed.length === 0) {
    return ctx.attrs.int("noop_with_empty_axes", 0) === 1 ? null : [...Array(rank).keys()];
  }
  return [...new Set(listed.map((a) => axisOf(a, rank, ctx.where)))].sort((p, q) => p - q);
}

/** Integers reduced in JS along `axes` by `f` over each group of values. */
function reduceInts(x: Ints, axes: number[], keep: boolean, f: (values: number[]) => number): Ints {
  const outDims = x.dims.map((d, i) => (axes.includes(i) ? 1 : d));
  // Where each element goes: its index along the kept axes.
  const strides = contiguousStrides(outDims).map((s, d) => (axes.includes(d) ? 0 : s));
  const target = indexMap(x.dims, (ix) => ix.reduce((o, v, d) => o + v * strides[d], 0));
  const groups = Array.from({ length: sizeOf(outDims) }, (): number[] => []);
  x.ints.forEach((v, flat) => groups[target[flat]].push(v));
  const ints = groups.map(f);
  return { ints, dims: keep ? outDims : x.dims.filter((_, i) => !axes.includes(i)) };
}

const extremeOf = (t: Tensor, axes: number[], largest: boolean): Tensor => {
  let y = t;
  for (const d of [...axes].reverse()) y = largest ? y.max(d, { keepDims: true }) : y.min(d, { keepDims: true });
  return y;
};

type FloatReduce = (x: Tensor, axes: number[]) => Tensor; // keeps the reduced axes

/**
 * A reduction: `f` on tensors (keeping the reduced axes), `g` on integers, and `empty` what it
 * gives over no elements (ONNX's identity of the op: 0 for sums, −∞ for max, …).
 */
const reduce = (inputSince: number, f: FloatReduce, g: (values: number[]) => number, empty: number): OpRule => ({
  since: 6,
  floats: [],
  build: (ctx) => {
    const keep = ctx.attrs.int("keepdims", 1) === 1;
    return (args) => {
      const x = args[0]!;
      const axes = reducedAxes(ctx, args, dimsOf(x).length, inputSince);
      if (axes === null) return [isInts(x) ? x : x.mul(1)];
      const dims = dimsOf(x);
      if (sizeOf(dims) === 0) {
        if (isInts(x) && !Number.isFinite(empty)) return refuse(ctx, "an empty integer input, whose reduction has no integer value");
        const out = dims.map((d, i) => (axes.includes(i) ? 1 : d));
        const kept = keep ? out : dims.filter((_, i) => !axes.includes(i));
        return [isInts(x) ? { ints: new Array<number>(sizeOf(kept)).fill(empty), dims: kept } : full(kept, empty, { engine: x.engine })];
      }
      if (isInts(x)) return [reduceInts(x, axes, keep, g)];
      const y = f(x, axes);
      return [keep ? y : y.reshape(x.shape.filter((_, i) => !axes.includes(i)))];
    };
  },
});

const sumOf = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** log Σ eˣ, shifted by the (constant) largest value so that exp cannot overflow. */
const logSumExp: FloatReduce = (x, axes) => {
  const m = extremeOf(x, axes, true).detach();
  const shift = tensor(m.data().map((v) => (Number.isFinite(v) ? v : 0)), { shape: m.shape, engine: x.engine });
  return x.sub(shift).exp().sum(axes, { keepDims: true }).log().add(shift);
};

/** Π along each axis as a chain of products of slices: exact where a value is zero, as x·(Π/x) is not. */
const productOf: FloatReduce = (x, axes) => {
  let y = x;
  for (const d of axes) {
    const at = (i: number) => slice(y, y.shape.map((_, k) => (k === d ? i : 0)), y.shape.map((n, k) => (k === d ? i + 1 : n)));
    let p = at(0);
    for (let i = 1; i < y.shape[d]; i++) p = p.mul(at(i));
    y = p;
  }
  return y;
};

const arg = (largest: boolean): OpRule => ({
  since: 6,
  types: INT64_OUT,
  build: (ctx) => {
    const keep = ctx.attrs.int("keepdims", 1) === 1, last = ctx.attrs.int("select_last_index", 0) === 1;
    return (args) => {
      const x = asTensor(args[0], ctx, "data");
      const d = axisOf(ctx.attrs.int("axis", 0), x.rank, ctx.where);
      const values = numbersOf(x, ctx.where, "data");
      const out = reduceInts(values, [d], keep, (group) => {
        let best = 0;
        group.forEach((v, i) => {
          const better = largest ? v > group[best] : v < group[best];
          if (better || (last && v === group[best])) best = i;
        });
        return best;
      });
      return [out];
    };
  },
});

export const REDUCE_OPS: Record<string, OpRule> = {
  ReduceSum: reduce(13, (x, a) => x.sum(a, { keepDims: true }), sumOf, 0),
  ReduceMean: reduce(18, (x, a) => x.mean(a, { keepDims: true }), (v) => sumOf(v) / v.length, NaN),
  ReduceMax: reduce(18, (x, a) => extremeOf(x, a, true), (v) => Math.max(...v), -Infinity),
  ReduceMin: reduce(18, (x, a) => extremeOf(x, a, false), (v) => Math.min(...v), Infinity),
  ReduceProd: reduce(18, productOf, (v) => v.reduce((a, b) => a * b, 1), 1),
  ReduceL1: reduce(18, (x, a) => x.abs().sum(a, { keepDims: true }), (v) => sumOf(v.map(Math.abs)), 0),
  ReduceL2: reduce(18, (x, a) => x.square().sum(a, { keepDims: true }).sqrt(), (v) => Math.sqrt(sumOf(v.map((u) => u * u))), 0),
  ReduceSumSquare: reduce(18, (x, a) => x.square().sum(a, { keepDims: true }), (v) => sumOf(v.map((u) => u * u)), 0),
  ReduceLogSum: reduce(18, (x, a) => x.sum(a, { keepDims: true }).log(), (v) => Math.log(sumOf(v)), -Infinity),
  ReduceLogSumExp: reduce(18, logSumExp, (v) => Math.log(sumOf(v.map(Math.exp))), -Infinity),
  ArgMax: arg(true),
  ArgMin: arg(false),
};
