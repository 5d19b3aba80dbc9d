import { beforeAll, describe, expect, it } from "vitest";
import { type Engine, init } from "../src/index.js";
import { BUILDS, randomArray, rng } from "./helpers.js";

// Lengths around the 4-lane SIMD width, so the scalar tails run too.
const LENGTHS = [0, 1, 3, 4, 5, 17, 1000];

describe.each(BUILDS)("elementwise kernels (%s build)", (build) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await init({ build });
  });

  function put(values: Float32Array): number {
    const p = engine.memory.alloc(values.byteLength);
    engine.memory.f32(p, values.length).set(values);
    return p;
  }
  const get = (p: number, n: number) => engine.memory.f32(p, n).slice();

  it.each(LENGTHS)("add, sub, mul, scale are exact float32 arithmetic (n=%i)", (n) => {
    const random = rng(n + 1);
    const a = randomArray(n, random), b = randomArray(n, random);
    const pa = put(a), pb = put(b), out = engine.memory.alloc(n * 4);
    const k = engine.kernels;
    const check = (f: (x: number, y: number) => number) => {
      const got = get(out, n);
      for (let i = 0; i < n; i++) expect(got[i]).toBe(Math.fround(f(a[i], b[i])));
    };
    k.add(pa, pb, out, n);
    check((x, y) => x + y);
    k.sub(pa, pb, out, n);
    check((x, y) => x - y);
    k.mul(pa, pb, out, n);
    check((x, y) => x * y);
    k.scale(pa, -2.5, out, n);
    check((x) => x * -2.5);
    // In place: out aliases the input.
    k.scale(pa, 3, pa, n);
    const inPlace = get(pa, n);
    for (let i = 0; i < n; i++) expect(inPlace[i]).toBe(Math.fround(a[i] * 3));
  });

  it.each([[1, 1], [3, 5], [7, 4], [64, 129], [5, 0], [0, 6]])("row and column sums of %i×%i", (rows, cols) => {
    const x = randomArray(rows * cols, rng(rows * 100 + cols));
    const px = put(x);
    const rowOut = engine.memory.alloc(rows * 4), colOut = engine.memory.alloc(cols * 4);
    engine.kernels.rowSums(px, rows, cols, rowOut, false);
    engine.kernels.colSums(px, rows, cols, colOut, false);
    // Same order of additions as the kernels (left to right, top to bottom), in float32.
    const r = get(rowOut, rows), c = get(colOut, cols);
    for (let i = 0; i < rows; i++) {
      let s = 0;
      for (let j = 0; j < cols; j++) s = Math.fround(s + x[i * cols + j]);
      expect(r[i]).toBe(s);
    }
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let i = 0; i < rows; i++) s = Math.fround(s + x[i * cols + j]);
      expect(c[j]).toBe(s);
    }
    // Accumulating adds the column's sum, taken as above, to what the output holds.
    engine.kernels.colSums(px, rows, cols, colOut, true);
    const c2 = get(colOut, cols);
    for (let j = 0; j < cols; j++) expect(c2[j]).toBe(Math.fround(c[j] + c[j]));
    engine.kernels.rowSums(px, rows, cols, rowOut, true);
    const r2 = get(rowOut, rows);
    for (let i = 0; i < rows; i++) expect(r2[i]).toBe(Math.fround(2 * r[i]));
  });
});

describe("a vector along the last axis, broadcast over the rows (no broadcast copy)", () => {
  it("add and mul give the broadcast results exactly, and their gradients pass gradcheck", async () => {
    const { gradcheck, tensor } = await import("../src/index.js");
    const x = tensor(randomArray(3 * 4 * 7, rng(1)), { shape: [3, 4, 7], requiresGrad: true });
    for (const shape of [[7], [1, 1, 7]]) {
      const v = tensor(randomArray(7, rng(2)), { shape, requiresGrad: true });
      const wide = v.broadcastTo([3, 4, 7]);
      const xs = x.data(), ws = wide.data();
      expect(Array.from(x.add(v).data())).toEqual(Array.from(xs, (a, i) => Math.fround(a + ws[i])));
      expect(Array.from(x.mul(v).data())).toEqual(Array.from(xs, (a, i) => Math.fround(a * ws[i])));
      expect(gradcheck((a, b) => a.mul(b).add(b).tanh(), [x, v]).ok).toBe(true);
    }
  });
});

describe("affineRows: x·scale + shift along the last axis in one op (BatchNorm with running statistics)", () => {
  it("gives mul then add exactly, its gradients pass gradcheck, and a wrong vector is a typed error", async () => {
    const { ArgumentError, gradcheck, tensor } = await import("../src/index.js");
    const { affineRows } = await import("../src/autograd/ops/arithmetic.js");
    const x = tensor(randomArray(3 * 4 * 7, rng(3)), { shape: [3, 4, 7], requiresGrad: true });
    const scale = tensor(randomArray(7, rng(4)), { shape: [7], requiresGrad: true });
    const shift = tensor(randomArray(7, rng(5)), { shape: [7], requiresGrad: true });
    expect(Array.from(affineRows(x, scale, shift).data())).toEqual(Array.from(x.mul(scale).add(shift).data()));
    expect(gradcheck((a, s, b) => affineRows(a, s, b).tanh(), [x, scale, shift]).ok).toBe(true);
    const one = tensor(randomArray(7, rng(6)), { shape: [1, 7], requiresGrad: true }); // a single row
    expect(Array.from(affineRows(one, scale, shift).data())).toEqual(Array.from(one.mul(scale).add(shift).data()));
    expect(() => affineRows(x, tensor(randomArray(4, rng(7)), { shape: [4] }), shift)).toThrow(ArgumentError);
    expect(() => affineRows(x, scale, tensor(randomArray(7, rng(8)), { shape: [1, 7] }))).toThrow(/vectors along x's last axis \(7\)/);
  });
});
