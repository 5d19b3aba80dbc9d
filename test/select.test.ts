// The ops users reach for: abs, clip, where, max/min/argmax/argmin, gather, slice, concat, stack,
// batched matmul — exact values, typed errors, and every gradient against finite differences.
import { beforeAll, describe, expect, it } from "vitest";
import {
  ArgumentError, ShapeError, type Tensor, abs, argmax, clip, concat, gather, gradcheck, init, matmul, max, min, slice, stack,
  tensor, where,
} from "../src/index.js";
import { randomArray, rng } from "./helpers.js";

beforeAll(async () => {
  await init();
});

const leaf = (values: number[] | Float32Array, shape: number[]) => tensor(Float32Array.from(values), { shape, requiresGrad: true });
const grads = (fn: (...t: Tensor[]) => Tensor, inputs: Tensor[]) => {
  const report = gradcheck(fn, inputs);
  expect(report.ok, JSON.stringify(report.worst)).toBe(true);
};

describe("elementwise selection", () => {
  it("abs: |x|, gradient sign(x)", () => {
    expect(tensor([-2, 0, 3, Number.NaN]).abs().toArray()).toEqual([2, 0, 3, Number.NaN]);
    grads((x) => abs(x), [leaf([-1.5, 0.7, 2, -0.3], [2, 2])]);
  });

  it("clip: limited to [min, max], gradient where inside", () => {
    expect(tensor([-3, -1, 0.5, 2, 9]).clip(-1, 2).toArray()).toEqual([-1, -1, 0.5, 2, 2]);
    const x = leaf([-3, 0.5, 1.5, 9], [4]);
    x.clip(0, 2).sum().backward();
    expect(x.grad!.toArray()).toEqual([0, 1, 1, 0]);
    grads((t) => clip(t, -1, 1), [leaf([-2, -0.5, 0.25, 3], [4])]);
    expect(() => tensor([1]).clip(2, 1)).toThrow(/max must be a number \(±Infinity allowed\) ≥ 2, got 1/);
  });

  it("where: a where cond, b elsewhere; each branch gets its share of the gradient", () => {
    const cond = tensor([1, 0, 0, 1]);
    const a = leaf([1, 2, 3, 4], [4]), b = leaf([10, 20, 30, 40], [4]);
    expect(where(cond, a, b).toArray()).toEqual([1, 20, 30, 4]);
    grads((p, q) => where(cond, p, q), [a, b]);
    expect(() => where(cond, a, tensor([1, 2]))).toThrow(ShapeError);
  });
});

describe("max, min, argmax", () => {
  const x = () => leaf([3, -1, 7, 0.5, 2, 9, -4, 8, 1, 6, 5, -2], [2, 3, 2]);

  it("over all elements, over one axis, with keepDims", () => {
    expect(x().max().item()).toBe(9);
    expect(x().min().item()).toBe(-4);
    expect(x().max(1).toArray()).toEqual([[7, 9], [5, 8]]);
    expect(x().min(-1, { keepDims: true }).shape).toEqual([2, 3, 1]);
    expect(x().argmax(1).toArray()).toEqual([[1, 2], [2, 0]]);
    expect(x().argmax().item()).toBe(5);
    expect(argmax(tensor([[1, 5, 5], [2, Number.NaN, 9]]), 1).toArray()).toEqual([1, 1]); // first of ties; NaN wins
    expect(() => tensor([]).max()).toThrow(/has no largest element/);
  });

  it("the gradient goes to the chosen element", () => {
    const t = x();
    t.max(0).sum().backward();
    expect(t.grad!.toArray()).toEqual([[[1, 0], [1, 0], [0, 1]], [[0, 1], [0, 1], [1, 0]]]);
    grads((u) => max(u, 1), [x()]);
    grads((u) => min(u, 2), [x()]);
    grads((u) => max(u), [x()]);
  });
});

describe("gather, slice, concat, stack", () => {
  it("gather: rows by index, repeats summed in the gradient", () => {
    const table = leaf([1, 2, 3, 4, 5, 6], [3, 2]);
    expect(table.gather([2, 0, 2]).toArray()).toEqual([[5, 6], [1, 2], [5, 6]]);
    expect(gather(table, tensor([[1], [1]])).shape).toEqual([2, 1, 2]);
    table.gather([2, 0, 2]).sum().backward();
    expect(table.grad!.toArray()).toEqual([[1, 1], [0, 0], [2, 2]]);
    grads((t) => gather(t, [1, 1, 0]), [leaf([0.5, -1, 2, 3], [2, 2])]);
    expect(() => table.gather([3])).toThrow(/index 3 at 0 is not a row of x/);
    expect(() => table.gather([0.5])).toThrow(ArgumentError);
  });

  it("slice: windows with negative and omitted bounds", () => {
    const t = leaf(Array.from({ length: 24 }, (_, i) => i), [2, 3, 4]);
    expect(t.slice([1, 1]).toArray()).toEqual([[[16, 17, 18, 19], [20, 21, 22, 23]]]);
    expect(t.slice([0, 0, 1], [undefined, -1, 3]).toArray()).toEqual([[[1, 2], [5, 6]], [[13, 14], [17, 18]]]);
    expect(t.slice([0, 5]).shape).toEqual([2, 0, 4]);
    grads((u) => slice(u, [0, 1, 1], [2, 3, 3]), [t]);
  });

  it("concat and stack", () => {
    const a = leaf([1, 2, 3, 4], [2, 2]), b = leaf([5, 6], [2, 1]);
    expect(concat([a, b], 1).toArray()).toEqual([[1, 2, 5], [3, 4, 6]]);
    expect(concat([a, a], 0).shape).toEqual([4, 2]);
    grads((p, q) => concat([p, q, p], -1), [a, b]);
    expect(() => concat([a, b], 0)).toThrow(/along every axis but 0 it must match \[2, 2\]/);
    expect(stack([a, a], 1).toArray()).toEqual([[[1, 2], [1, 2]], [[3, 4], [3, 4]]]);
    grads((p, q) => stack([p, q], 2), [a, leaf([0.5, -1, 2, 0], [2, 2])]);
  });
});

describe("batched matmul", () => {
  it("multiplies stacks of matrices, broadcasting batch axes, against a float64 loop", () => {
    const r = rng(5);
    const av = randomArray(2 * 1 * 3 * 4, r), bv = randomArray(3 * 4 * 2, r);
    const y = matmul(tensor(av, { shape: [2, 1, 3, 4] }), tensor(bv, { shape: [3, 4, 2] }));
    expect(y.shape).toEqual([2, 3, 3, 2]);
    const got = y.data();
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let p = 0; p < 3; p++) for (let q = 0; q < 2; q++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += av[(i * 3 + p) * 4 + k] * bv[(j * 4 + k) * 2 + q];
      expect(got[((i * 3 + j) * 3 + p) * 2 + q]).toBeCloseTo(s, 5);
    }
    expect(matmul(tensor(av.subarray(0, 12), { shape: [3, 4] }), tensor(bv, { shape: [3, 4, 2] })).shape).toEqual([3, 3, 2]);
    expect(() => matmul(tensor(av, { shape: [2, 1, 3, 4] }), tensor(bv, { shape: [3, 2, 4] }))).toThrow(/expected \[\.\.\., m, k\] and \[\.\.\., k, n\]/);
  });

  it("sums the gradient of an operand repeated over a batch axis", () => {
    const r = rng(6);
    grads((a, b) => matmul(a, b), [leaf(randomArray(2 * 1 * 2 * 3, r), [2, 1, 2, 3]), leaf(randomArray(3 * 3 * 2, r), [3, 3, 2])]);
    grads((a, b) => a.matmul(b), [leaf(randomArray(2 * 3, r), [2, 3]), leaf(randomArray(4 * 3 * 2, r), [4, 3, 2])]);
  });
});
