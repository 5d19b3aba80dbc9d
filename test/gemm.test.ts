import { beforeAll, describe, expect, it } from "vitest";
import { ArgumentError, type Engine, ShapeError, init } from "../src/index.js";
import { BUILDS, F32_EPS, randomArray, rng } from "./helpers.js";

/** op(A)·op(B) in float64, and Σ|a||b| per element for the rounding-error bound. */
function reference(
  transA: boolean, transB: boolean, m: number, n: number, k: number,
  a: Float32Array, lda: number, b: Float32Array, ldb: number,
): { value: Float64Array; magnitude: Float64Array } {
  const value = new Float64Array(m * n);
  const magnitude = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let mag = 0;
      for (let p = 0; p < k; p++) {
        const x = transA ? a[p * lda + i] : a[i * lda + p];
        const y = transB ? b[j * ldb + p] : b[p * ldb + j];
        s += x * y;
        mag += Math.abs(x * y);
      }
      value[i * n + j] = s;
      magnitude[i * n + j] = mag;
    }
  }
  return { value, magnitude };
}

const VARIANTS = [
  [false, false, "NN"],
  [false, true, "NT"],
  [true, false, "TN"],
  [true, true, "TT"],
] as const;

// Each awkward size in each position; 2100 columns cross the packed-B block, 784 the depth block.
const AWKWARD = [1, 3, 7, 17, 63, 65, 129, 784];
const SHAPES: [number, number, number][] = [
  ...AWKWARD.flatMap((s): [number, number, number][] => [[s, s, s], [s, 7, 65], [63, s, 17], [129, 65, s]]),
  [5, 2100, 300],
  [64, 128, 784],
];

describe.each(BUILDS)("gemm (%s build)", (build) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await init({ build });
  });

  /** Runs one product through the engine with operands at their own addresses; returns C. */
  function run(
    transA: boolean, transB: boolean, m: number, n: number, k: number, seed: number,
    { pad = 0, accumulate = false } = {},
  ) {
    const random = rng(seed);
    const [aRows, aCols] = transA ? [k, m] : [m, k];
    const [bRows, bCols] = transB ? [n, k] : [k, n];
    // Row strides wider than the matrices (by `pad`) make A, B, C sub-matrices of larger ones.
    const lda = aCols + pad, ldb = bCols + pad, ldc = n + pad;
    const a = randomArray(Math.max(1, aRows * lda), random);
    const b = randomArray(Math.max(1, bRows * ldb), random);
    const c0 = randomArray(Math.max(1, m * ldc), random);
    const mem = engine.memory;
    const pa = mem.alloc(a.byteLength), pb = mem.alloc(b.byteLength), pc = mem.alloc(c0.byteLength);
    mem.f32(pa, a.length).set(a);
    mem.f32(pb, b.length).set(b);
    mem.f32(pc, c0.length).set(c0);
    engine.gemm({ transA, transB, m, n, k, a: pa, b: pb, c: pc, lda, ldb, ldc, accumulate });
    const c = mem.f32(pc, c0.length).slice();
    mem.free(pa);
    mem.free(pb);
    mem.free(pc);
    return { a, b, c, c0, lda, ldb, ldc };
  }

  function expectClose(transA: boolean, transB: boolean, m: number, n: number, k: number, opts: { pad?: number; accumulate?: boolean } = {}) {
    const { a, b, c, c0, lda, ldb, ldc } = run(transA, transB, m, n, k, m * 7919 + n * 31 + k, opts);
    const { value, magnitude } = reference(transA, transB, m, n, k, a, lda, b, ldb);
    // Float32 dot products are within (k+2)·u·Σ|a||b| of the truth (Higham, Thm 3.1), plus the
    // rounding of the accumulated C.
    let worst = 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const before = opts.accumulate ? c0[i * ldc + j] : 0;
        const want = value[i * n + j] + before;
        const bound = (k + 2) * F32_EPS * (magnitude[i * n + j] + Math.abs(before)) + 1e-30;
        const err = Math.abs(c[i * ldc + j] - want) / bound;
        if (!(err <= 1)) throw new Error(`C[${i},${j}] = ${c[i * ldc + j]}, want ${want} (error ${err.toFixed(2)}× the bound)`);
        worst = Math.max(worst, err);
      }
    }
    // Padding between rows of C is never written.
    for (let i = 0; i < m; i++) for (let j = n; j < ldc; j++) expect(c[i * ldc + j]).toBe(c0[i * ldc + j]);
    return worst;
  }

  describe.each(VARIANTS)("%s / %s (%s)", (transA, transB) => {
    it.each(SHAPES)("m=%i n=%i k=%i matches a float64 reference", (m, n, k) => {
      expectClose(transA, transB, m, n, k);
    });

    it("accumulates into C and respects row strides wider than the matrices", () => {
      expectClose(transA, transB, 65, 17, 300, { accumulate: true });
      expectClose(transA, transB, 33, 19, 21, { pad: 5 });
      expectClose(transA, transB, 130, 9, 257, { pad: 3, accumulate: true });
      expectClose(transA, transB, 3, 17, 300, { pad: 2, accumulate: true }); // the few-rows path
    });
  });

  it.each(VARIANTS)("gives a row the same bits alone as in a batch (%s / %s)", (transA, transB) => {
    // One row takes the few-rows path, five take the packed one: the arithmetic must agree.
    const [m, n, k] = [5, 21, 600];
    const random = rng(99);
    const mem = engine.memory;
    const a = randomArray(m * k, random), b = randomArray(k * n, random), c0 = randomArray(m * n, random);
    const put = (v: Float32Array) => {
      const p = mem.alloc(v.byteLength);
      mem.f32(p, v.length).set(v);
      return p;
    };
    for (const accumulate of [false, true]) {
      const pa = put(a), pb = put(b), all = put(c0), one = put(c0.subarray(0, n));
      const lda = transA ? m : k, ldb = transB ? k : n;
      engine.gemm({ transA, transB, m, n, k, a: pa, b: pb, c: all, lda, ldb, accumulate });
      engine.gemm({ transA, transB, m: 1, n, k, a: pa, b: pb, c: one, lda, ldb, accumulate });
      expect(mem.f32(one, n).slice()).toEqual(mem.f32(all, n).slice());
      [pa, pb, all, one].forEach((p) => mem.free(p));
    }
  });

  it.each(VARIANTS)("adds the bias and clamps in its epilogue with the bits of separate passes (%s / %s)", (transA, transB) => {
    // Full tiles, edge tiles (n = 19, m = 37), the few-rows path (m = 2), k = 0 and more than one
    // depth block (k = 300), overwriting and accumulating: C + bias, then the clamp, exactly as
    // the product followed by addBias and clamp.
    const mem = engine.memory;
    const put = (v: Float32Array) => {
      const p = mem.alloc(Math.max(v.byteLength, 4));
      mem.f32(p, v.length).set(v);
      return p;
    };
    for (const [m, n, k] of [[37, 19, 300], [2, 19, 300], [8, 16, 5], [5, 7, 0]]) {
      const random = rng(m * 131 + k);
      const a = randomArray(m * k, random), b = randomArray(k * n, random), c0 = randomArray(m * n, random), bias = randomArray(n, random);
      for (const accumulate of [false, true]) {
        for (const [lo, hi] of [[0, Infinity], [-0.05, 0.1], [-Infinity, Infinity]]) {
          const pa = put(a), pb = put(b), pBias = put(bias), fused = put(c0), plain = put(c0);
          const lda = transA ? m : k, ldb = transB ? k : n;
          engine.gemm({ transA, transB, m, n, k, a: pa, b: pb, c: fused, lda, ldb, accumulate, bias: pBias, clamp: [lo, hi] });
          engine.gemm({ transA, transB, m, n, k, a: pa, b: pb, c: plain, lda, ldb, accumulate });
          engine.kernels.addBias(plain, pBias, plain, m, n);
          engine.kernels.clamp(plain, lo, hi, plain, m * n);
          const got = mem.f32(fused, m * n).slice(), want = mem.f32(plain, m * n).slice();
          expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer)), `m=${m} n=${n} k=${k} [${lo}, ${hi}]`).toBe(true);
          if (lo === 0) expect(got.every((v) => v >= 0)).toBe(true);
          [pa, pb, pBias, fused, plain].forEach((p) => mem.free(p));
        }
      }
    }
  });

  it("handles zero sizes: nothing to do, or C = 0 when k = 0", () => {
    for (const [m, n] of [[0, 5], [5, 0], [0, 0]]) expectClose(false, false, m, n, 3);
    const { c } = run(false, false, 4, 6, 0, 1);
    expect(Array.from(c)).toEqual(new Array(24).fill(0));
    const acc = run(true, true, 4, 6, 0, 2, { accumulate: true });
    expect(acc.c).toEqual(acc.c0);
  });

  it("multiplies exactly where float32 is exact", () => {
    // Small integers: every product and sum is exact, so the result must be too.
    const mem = engine.memory;
    const [m, n, k] = [9, 10, 11];
    const a = Float32Array.from({ length: m * k }, (_, i) => (i % 7) - 3);
    const b = Float32Array.from({ length: k * n }, (_, i) => (i % 5) - 2);
    const pa = mem.alloc(a.byteLength), pb = mem.alloc(b.byteLength), pc = mem.alloc(m * n * 4);
    mem.f32(pa, a.length).set(a);
    mem.f32(pb, b.length).set(b);
    engine.gemm({ m, n, k, a: pa, b: pb, c: pc });
    const c = mem.f32(pc, m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
        expect(c[i * n + j]).toBe(s);
      }
    }
    [pa, pb, pc].forEach((p) => mem.free(p));
  });

  it("rejects bad sizes, strides, addresses and overlapping output before running", () => {
    const mem = engine.memory;
    const p = mem.alloc(4096);
    const q = mem.alloc(4096);
    expect(() => engine.gemm({ m: -1, n: 2, k: 2, a: p, b: p, c: q })).toThrow(ShapeError);
    expect(() => engine.gemm({ m: 2.5, n: 2, k: 2, a: p, b: p, c: q })).toThrow(/m must be a non-negative integer/);
    expect(() => engine.gemm({ m: 2, n: 3, k: 4, a: p, b: p, c: q, lda: 3 })).toThrow(/lda must be an integer ≥ 4/);
    expect(() => engine.gemm({ m: 2, n: 3, k: 4, a: p + 2, b: p, c: q })).toThrow(ArgumentError);
    expect(() => engine.gemm({ m: 2, n: 3, k: 4, a: p, b: p, c: p + 8 })).toThrow(/C overlaps A/);
    expect(() => engine.gemm({ m: 2, n: 3, k: 4, a: p, b: p, c: q, clamp: [1, 0] })).toThrow(/clamp must be \[lo, hi\] with lo ≤ hi/);
    expect(() => engine.gemm({ m: 2, n: 3, k: 4, a: p, b: p, c: q, bias: p + 2 })).toThrow(/bias must be a 4-byte-aligned address/);
    const end = mem.capacityBytes;
    expect(() => engine.gemm({ m: 2, n: 3, k: 4, a: end - 8, b: p, c: q })).toThrow(/runs past the end of memory/);
    mem.free(p);
    mem.free(q);
  });
});
