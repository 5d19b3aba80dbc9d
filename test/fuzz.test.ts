// Property-based fuzzing of the public API, as a hostile user would try it (fast-check, seeded).
// Every case draws plain specs, makes its tensors inside the case, calls one public function with
// valid or deliberately bad arguments, and then requires:
//  - either a WasmgradError (never a TypeError, RangeError, a trap) or, for valid arguments, a
//    result equal to a float64 reference (exactly where IEEE says so, within a bound elsewhere);
//  - a canary tensor unchanged; memory in use back to its baseline once the case's tensors are
//    disposed (error paths allocate nothing, results own nothing hidden).
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ACTIVATIONS, Activation, AvgPool2D, Adam, BatchNorm, Conv2D, Dense, Dropout, Embedding, type Engine, Flatten, GRU, GlobalAveragePooling, LSTM, LayerNorm,
  MaxPool2D, MultiHeadAttention, Permute, Reshape, SGD, Sequential, SimpleRNN, Tensor, WasmgradError, abs, activate, argmax, argmin, avgPool2d, batches,
  binaryCrossEntropy, clip, concat, conv2d, crossEntropy, full, gather, gradcheck, init, max, maxPool2d, min, mse, noGrad, slice, stack, tensor, toDot, where,
  zeros,
} from "../src/index.js";
import { fromOnnx, toOnnx } from "../src/onnx.js";
import { nodeOf } from "../src/autograd/graph.js";

const SEED = 20261125;
let engine: Engine;
let canary: Tensor;
const CANARY = [1.5, -2.25, 3.125, Number.NaN, Number.POSITIVE_INFINITY, -0, 7, 8];
let cases = 0;

beforeAll(async () => {
  engine = await init();
  canary = tensor(CANARY);
});
afterAll(() => {
  // The suite's own promise: at least 1,000 generated cases per run.
  console.log(`fuzz: ${cases} cases`);
  expect(cases).toBeGreaterThanOrEqual(1000);
});

// ——— specs: plain data drawn by fast-check, turned into tensors inside a case ———

const special = fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0);
const ordinary = fc.float({ min: -8, max: 8, noNaN: true }).map(Math.fround);
const value = (specials: boolean) => (specials ? fc.oneof({ weight: 4, arbitrary: ordinary }, { weight: 1, arbitrary: special }) : ordinary);
const shapeArb = (maxRank = 3, maxDim = 4) => fc.array(fc.integer({ min: 0, max: maxDim }), { maxLength: maxRank });
const nonEmptyShape = (minRank = 0, maxRank = 3, maxDim = 4) => fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: minRank, maxLength: maxRank });

interface Spec {
  shape: number[];
  values: number[];
}
const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const specOf = (shape: fc.Arbitrary<number[]>, specials = true): fc.Arbitrary<Spec> =>
  shape.chain((s) => fc.array(value(specials), { minLength: sizeOf(s), maxLength: sizeOf(s) }).map((values) => ({ shape: s, values })));

/** Junk of every kind a hostile caller might pass where a tensor, a number or an option goes. */
const junk = fc.oneof(
  fc.constantFrom(null, undefined, true, "3", "", Symbol("x"), 1n, Number.NaN, Number.POSITIVE_INFINITY, -1, 0.5, 1e9, [], [[1], [1, 2]], {}, { length: 2 }, () => 1),
  fc.constant("fake tensor"),
  fc.constant("disposed tensor"),
  fc.integer({ min: -5, max: 5 }),
);

/** null (all arguments valid) three times in four, else one piece of junk. */
const maybeJunk = fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: junk });

/** One case's tensors: everything made is disposed at the end, so memory must come back. */
class Case {
  private made: Tensor[] = [];
  make(spec: Spec, options: { requiresGrad?: boolean } = {}): Tensor {
    return this.keep(tensor(Float32Array.from(spec.values), { shape: spec.shape, ...options }));
  }
  keep<T>(x: T): T {
    if (x instanceof Tensor) this.made.push(x);
    return x;
  }
  /** Junk made real: the strings stand for a look-alike and a disposed tensor. */
  junk(j: unknown): unknown {
    if (j === "fake tensor") {
      return Object.create(Tensor.prototype, { shape: { value: [2] }, size: { value: 2 }, ptr: { value: 0 }, rank: { value: 1 }, engine: { value: engine } });
    }
    if (j === "disposed tensor") {
      const t = zeros([2]);
      t.dispose();
      return t;
    }
    return j;
  }
  finish(): void {
    for (const t of this.made) {
      t.grad?.dispose();
      t.dispose();
    }
  }
}

/**
 * Runs `body` as one fuzz case. `valid` says the arguments are all good: then it must succeed and
 * its result is checked by `check`; otherwise a WasmgradError is expected, or a success when the
 * junk happened to be acceptable.
 */
function fuzzCase(valid: boolean, body: (c: Case) => unknown, check?: (result: unknown) => void): void {
  cases++;
  const baseline = engine.memory.stats().bytesInUse;
  const liveBefore = new Map((engine.memory as unknown as { live: Map<number, number> }).live);
  const c = new Case();
  let result: unknown;
  let error: unknown;
  try {
    result = noGradIfPlain(() => c.keep(body(c)));
  } catch (e) {
    error = e;
  }
  try {
    if (error !== undefined) {
      if (!(error instanceof WasmgradError)) throw new Error(`untyped error: ${String(error)}\n${(error as Error)?.stack ?? ""}`);
      if (valid) throw new Error(`valid arguments refused: ${(error as Error).message}`);
    } else if (valid && check) {
      check(result);
    }
  } finally {
    if (result instanceof Tensor && result !== undefined) result.dispose();
    c.finish();
  }
  const now = canary.data();
  CANARY.forEach((v, i) => expect(Object.is(now[i], Math.fround(v)) || (Number.isNaN(v) && Number.isNaN(now[i]))).toBe(true));
  if (engine.memory.stats().bytesInUse !== baseline) {
    const live = (engine.memory as unknown as { live: Map<number, number> }).live;
    const added = [...live].filter(([p]) => !liveBefore.has(p));
    const gone = [...liveBefore].filter(([p]) => !live.has(p));
    throw new Error(`memory: ${baseline} → ${engine.memory.stats().bytesInUse}; new blocks ${JSON.stringify(added)}, gone ${JSON.stringify(gone)}; body ${body.toString().slice(0, 200)}`);
  }
}
const noGradIfPlain = <T>(fn: () => T): T => fn();

// ——— float64 references and comparison ———

/** actual equals expected (NaN = NaN, ±Infinity by sign), within tol(i) elsewhere. */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: (i: number) => number = () => 0): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    if (Number.isNaN(e) || !Number.isFinite(e)) {
      if (!Object.is(a, e) && !(Number.isNaN(a) && Number.isNaN(e))) throw new Error(`element ${i}: expected ${e}, got ${a}`);
      continue;
    }
    if (!(Math.abs(a - e) <= tol(i))) throw new Error(`element ${i}: expected ${e} (±${tol(i)}), got ${a}`);
  }
}
const f32 = (xs: readonly number[]) => xs.map(Math.fround);
const stridesOf = (shape: readonly number[]) => shape.map((_, i) => sizeOf(shape.slice(i + 1)));

/** NumPy broadcasting of two shapes, or null. */
function broadcast(a: readonly number[], b: readonly number[]): number[] | null {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1, db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out.push(da === 1 ? db : da);
  }
  return out;
}
/** The value of spec at the broadcast index `index` of `shape`. */
function at(spec: Spec, shape: readonly number[], index: number): number {
  const own = stridesOf(spec.shape);
  let flat = 0, rest = index;
  const outStrides = stridesOf(shape);
  for (let d = 0; d < shape.length; d++) {
    const i = Math.floor(rest / outStrides[d]);
    rest -= i * outStrides[d];
    const k = d - (shape.length - spec.shape.length);
    if (k >= 0 && spec.shape[k] !== 1) flat += i * own[k];
  }
  return spec.values[flat];
}

/** The method behind each unary case, to call with a junk `this`. */
const METHOD: Record<string, keyof Tensor> = { mulScalar: "mul", addScalar: "add", divScalar: "div" };
const UNARY: Record<string, { op: (t: Tensor, p: number) => Tensor; ref: (x: number, p: number) => number; tol: number }> = {
  neg: { op: (t) => t.neg(), ref: (x) => -x, tol: 0 },
  square: { op: (t) => t.square(), ref: (x) => x * x, tol: 0 },
  sqrt: { op: (t) => t.sqrt(), ref: Math.sqrt, tol: 0 },
  exp: { op: (t) => t.exp(), ref: Math.exp, tol: 2e-6 },
  log: { op: (t) => t.log(), ref: Math.log, tol: 2e-6 },
  sigmoid: { op: (t) => t.sigmoid(), ref: (x) => 1 / (1 + Math.exp(-x)), tol: 2e-6 },
  tanh: { op: (t) => t.tanh(), ref: Math.tanh, tol: 2e-6 },
  relu: { op: (t) => t.relu(), ref: (x) => (Number.isNaN(x) ? x : Math.max(x, 0)), tol: 0 },
  leakyRelu: { op: (t, p) => t.leakyRelu(p), ref: (x, p) => (Number.isNaN(x) ? x : Math.max(x, Math.fround(p) === 0 ? 0 : x * Math.fround(p))), tol: 0 },
  pow: { op: (t, p) => t.pow(p), ref: (x, p) => x ** Math.fround(p), tol: 4e-6 },
  mulScalar: { op: (t, p) => t.mul(p), ref: (x, p) => x * Math.fround(p), tol: 0 },
  addScalar: { op: (t, p) => t.add(p), ref: (x, p) => x + Math.fround(p), tol: 0 },
  divScalar: { op: (t, p) => t.div(p), ref: (x, p) => x / Math.fround(p), tol: 0 },
};
const relative = (expected: readonly number[], rtol: number) => (i: number) => rtol * Math.max(1, Math.abs(expected[i]));

describe("fuzz: every public function under random valid and invalid arguments", () => {
  it("tensor(), zeros(), full() from values, typed arrays, shapes and junk", () => {
    fc.assert(
      fc.property(specOf(shapeArb()), junk, fc.integer({ min: 0, max: 5 }), (spec, bad, mode) => {
        if (mode === 0) fuzzCase(true, () => tensor(Float32Array.from(spec.values), { shape: spec.shape }), (t) => {
          expectClose((t as Tensor).data(), f32(spec.values));
          expect((t as Tensor).shape).toEqual(spec.shape);
        });
        else if (mode === 1) fuzzCase(true, () => full(spec.shape, spec.values[0] ?? 2), (t) => expect((t as Tensor).shape).toEqual(spec.shape));
        else if (mode === 2) fuzzCase(false, (c) => tensor(c.junk(bad) as never));
        else if (mode === 3) fuzzCase(false, (c) => tensor(spec.values, { shape: c.junk(bad) as never }));
        else if (mode === 4) fuzzCase(false, (c) => full(c.junk(bad) as never, 1));
        else fuzzCase(false, (c) => zeros(spec.shape, { requiresGrad: c.junk(bad) as never, name: c.junk(bad) as never }));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it("unary ops and scalar arithmetic against float64, with ±Infinity, NaN and -0 among the values", () => {
    const names = Object.keys(UNARY);
    fc.assert(
      fc.property(specOf(shapeArb(3, 5)), fc.constantFrom(...names), fc.double({ min: -3, max: 3, noNaN: true }), maybeJunk, (spec, name, p0, bad) => {
        const { op, ref, tol } = UNARY[name];
        const p = name === "leakyRelu" ? Math.abs(p0) / 3.01 : name === "pow" ? Math.round(p0 * 2) / 2 : p0;
        if (bad === null) {
          const expected = spec.values.map((x) => Math.fround(ref(x, p)));
          fuzzCase(true, (c) => op(c.make(spec), p), (t) => expectClose((t as Tensor).data(), expected, relative(expected, tol)));
        } else {
          const method = Tensor.prototype[METHOD[name] ?? (name as keyof Tensor)] as (this: unknown, p: number) => Tensor;
          fuzzCase(false, (c) => method.call(c.junk(bad), p));
          fuzzCase(false, (c) => op(c.make(spec), c.junk(bad) as number));
        }
      }),
      { seed: SEED, numRuns: 800 },
    );
  });

  it("broadcasting add, sub, mul, div: exactly the float64 result rounded once", () => {
    const ops = { add: (a: number, b: number) => a + b, sub: (a: number, b: number) => a - b, mul: (a: number, b: number) => a * b, div: (a: number, b: number) => a / b };
    fc.assert(
      fc.property(specOf(shapeArb()), specOf(shapeArb()), fc.constantFrom("add", "sub", "mul", "div") as fc.Arbitrary<keyof typeof ops>, maybeJunk, (a, b, name, bad) => {
        const shape = broadcast(a.shape, b.shape);
        if (bad !== null) return fuzzCase(false, (c) => c.make(a)[name](c.junk(bad) as Tensor));
        if (shape === null) return fuzzCase(false, (c) => c.make(a)[name](c.make(b)));
        const expected = Array.from({ length: sizeOf(shape) }, (_, i) => Math.fround(ops[name](at(a, shape, i), at(b, shape, i))));
        fuzzCase(true, (c) => c.make(a)[name](c.make(b)), (t) => {
          expect((t as Tensor).shape).toEqual(shape);
          expectClose((t as Tensor).data(), expected);
        });
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it("matmul, sum and mean against float64 sums", () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 })),
        fc.integer({ min: 0, max: 4 }), maybeJunk, fc.array(fc.integer({ min: -3, max: 3 }), { maxLength: 3 }), fc.boolean(),
        ([m, k, n], mode, bad, axes, keepDims) => {
          const a = { shape: [m, k], values: Array.from({ length: m * k }, (_, i) => Math.fround(Math.sin(i + 1) * 3)) };
          const b = { shape: [k, n], values: Array.from({ length: k * n }, (_, i) => Math.fround(Math.cos(i + 2) * 3)) };
          if (mode === 0) {
            const expected: number[] = [], scale: number[] = [];
            for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
              let s = 0, abs = 0;
              for (let q = 0; q < k; q++) (s += a.values[i * k + q] * b.values[q * n + j]), (abs += Math.abs(a.values[i * k + q] * b.values[q * n + j]));
              expected.push(s), scale.push(abs);
            }
            fuzzCase(bad === null, (c) => c.make(a).matmul((bad === null ? c.make(b) : c.junk(bad)) as Tensor), (t) =>
              expectClose((t as Tensor).data(), expected, (i) => 1e-6 * (scale[i] + 1)));
          } else if (mode <= 2) {
            const rank = a.shape.length;
            const unique = new Set(axes.map((x) => (x < 0 ? x + rank : x)));
            const valid = bad === null && axes.every((x) => x >= -rank && x < rank) && unique.size === axes.length;
            const reduceOp = mode === 1 ? "sum" : "mean";
            const reduced = axes.length === 0 ? [0, 1] : [...unique];
            const outShape = a.shape.map((d, i) => (reduced.includes(i) ? 1 : d));
            const expected = Array.from({ length: sizeOf(outShape) }, (_, o) => {
              const [oi, oj] = [Math.floor(o / outShape[1]), o % outShape[1]];
              let s = 0, count = 0;
              for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) {
                if ((reduced.includes(0) || i === oi) && (reduced.includes(1) || j === oj)) (s += a.values[i * k + j]), count++;
              }
              return reduceOp === "sum" ? s : s / count;
            });
            const axisArg = bad !== null ? c0(bad) : axes.length === 0 ? undefined : axes;
            fuzzCase(valid, (c) => c.make(a)[reduceOp](axisArg === "junk" ? (c.junk(bad) as never) : axisArg, { keepDims }), (t) =>
              expectClose((t as Tensor).data(), expected, () => 1e-5 * (a.values.reduce((x, v) => x + Math.abs(v), 0) + 1)));
          } else if (mode === 3) {
            fuzzCase(false, (c) => c.make(a).reshape(c.junk(bad ?? [7, 7]) as never));
          } else {
            const perm = axes.slice(0, 2);
            const valid = bad === null && perm.length === 2 && new Set(perm.map((x) => (x < 0 ? x + 2 : x))).size === 2 && perm.every((x) => x >= -2 && x < 2);
            fuzzCase(valid, (c) => c.make(a).transpose((bad === null ? perm : c.junk(bad)) as never), (t) => {
              const p = perm.map((x) => (x < 0 ? x + 2 : x));
              const swapped = p[0] === 1;
              expect((t as Tensor).shape).toEqual(swapped ? [k, m] : [m, k]);
              const expected = swapped ? Array.from({ length: m * k }, (_, o) => a.values[(o % m) * k + Math.floor(o / m)]) : a.values;
              expectClose((t as Tensor).data(), expected);
            });
          }
        },
      ),
      { seed: SEED, numRuns: 400 },
    );
  });

  it("softmax, logSoftmax and the losses against float64", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 4 }), maybeJunk, (rows, cols, mode, bad) => {
        const x = { shape: [rows, cols], values: Array.from({ length: rows * cols }, (_, i) => Math.fround(Math.sin(i * 1.7 + rows) * 4)) };
        const labels = Array.from({ length: rows }, (_, i) => (i * 7) % cols);
        const lse = (r: number) => {
          const row = x.values.slice(r * cols, (r + 1) * cols);
          const max = Math.max(...row);
          return max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
        };
        const tol = () => 1e-5 * 8;
        if (mode === 0) {
          const expected = x.values.map((v, i) => Math.exp(v - lse(Math.floor(i / cols))));
          fuzzCase(bad === null, (c) => c.make(x).softmax((bad === null ? -1 : c.junk(bad)) as number), (t) => expectClose((t as Tensor).data(), expected, tol));
        } else if (mode === 1) {
          const expected = x.values.map((v, i) => v - lse(Math.floor(i / cols)));
          fuzzCase(bad === null, (c) => c.make(x).logSoftmax((bad === null ? 1 : c.junk(bad)) as number), (t) => expectClose((t as Tensor).data(), expected, tol));
        } else if (mode === 2) {
          const expected = labels.reduce((s, l, r) => s + lse(r) - x.values[r * cols + l], 0) / rows;
          fuzzCase(bad === null, (c) => crossEntropy(c.make(x), (bad === null ? labels : c.junk(bad)) as never), (t) => expectClose([(t as Tensor).item()], [expected], tol));
        } else {
          const targets = x.values.map((v) => Math.fround(v / 2));
          const lossFn = mode === 3 ? mse : binaryCrossEntropy;
          const ref = mode === 3
            ? x.values.reduce((s, v, i) => s + (v - targets[i]) ** 2, 0) / x.values.length
            : x.values.reduce((s, z, i) => s + Math.max(z, 0) - z * targets[i] + Math.log1p(Math.exp(-Math.abs(z))), 0) / x.values.length;
          fuzzCase(bad === null, (c) => lossFn(c.make(x), (bad === null ? c.make({ shape: x.shape, values: targets }) : c.junk(bad)) as never), (t) =>
            expectClose([(t as Tensor).item()], [ref], () => 1e-5 * (Math.abs(ref) + 1)));
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it("conv2d, maxPool2d and avgPool2d against direct float64 loops, and bad geometry", () => {
    fc.assert(
      fc.property(
        fc.record({
          n: fc.integer({ min: 0, max: 2 }), h: fc.integer({ min: 1, max: 7 }), w: fc.integer({ min: 1, max: 7 }), c: fc.integer({ min: 1, max: 5 }),
          k: fc.integer({ min: 1, max: 4 }), f: fc.integer({ min: 1, max: 9 }), stride: fc.integer({ min: 1, max: 3 }),
          padding: fc.constantFrom("valid", "same"), pool: fc.integer({ min: 0, max: 2 }),
        }),
        maybeJunk, fc.boolean(),
        ({ n, h, w, c, k, f, stride, padding, pool }, bad, nanInside) => {
          const xValues = Array.from({ length: n * h * w * c }, (_, i) => Math.fround(Math.sin(i * 0.37) * 2));
          if (nanInside && xValues.length > 0) xValues[(xValues.length * 7) % xValues.length] = Number.NaN;
          const x = { shape: [n, h, w, c], values: xValues };
          const fits = padding === "same" || (h >= k && w >= k);
          if (pool > 0) {
            const valid = bad === null && h >= k && w >= k;
            const oh = Math.floor((h - k) / stride) + 1, ow = Math.floor((w - k) / stride) + 1;
            const expected: number[] = [];
            if (valid) for (let b = 0; b < n; b++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) for (let ch = 0; ch < c; ch++) {
              const window: number[] = [];
              for (let u = 0; u < k; u++) for (let v = 0; v < k; v++) window.push(xValues[((b * h + i * stride + u) * w + j * stride + v) * c + ch]);
              expected.push(pool === 1 ? (window.some(Number.isNaN) ? Number.NaN : Math.max(...window)) : window.reduce((s, v) => s + v, 0) / window.length);
            }
            const op = pool === 1 ? maxPool2d : avgPool2d;
            fuzzCase(valid, (cs) => op(cs.make(x), (bad === null ? { size: k, stride } : { size: cs.junk(bad), stride }) as never), (t) =>
              expectClose((t as Tensor).data(), expected, () => 1e-5 * 2));
            return;
          }
          const wValues = Array.from({ length: k * k * c * f }, (_, i) => Math.fround(Math.cos(i * 0.91)));
          const bValues = Array.from({ length: f }, (_, i) => Math.fround(i / 10));
          const oh = padding === "same" ? Math.ceil(h / stride) : Math.floor((h - k) / stride) + 1;
          const ow = padding === "same" ? Math.ceil(w / stride) : Math.floor((w - k) / stride) + 1;
          const top = padding === "same" ? Math.floor(Math.max((oh - 1) * stride + k - h, 0) / 2) : 0;
          const left = padding === "same" ? Math.floor(Math.max((ow - 1) * stride + k - w, 0) / 2) : 0;
          const expected: number[] = [], scale: number[] = [];
          if (fits) for (let b = 0; b < n; b++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) for (let o = 0; o < f; o++) {
            let s = bValues[o], abs = Math.abs(s);
            for (let u = 0; u < k; u++) for (let v = 0; v < k; v++) for (let ch = 0; ch < c; ch++) {
              const r = i * stride + u - top, q = j * stride + v - left;
              if (r < 0 || q < 0 || r >= h || q >= w) continue;
              const term = xValues[((b * h + r) * w + q) * c + ch] * wValues[((u * k + v) * c + ch) * f + o];
              (s += term), (abs += Math.abs(term));
            }
            expected.push(s), scale.push(abs);
          }
          const options = bad === null ? { stride, padding } : { stride: 1, padding: "valid", slope: bad };
          fuzzCase(bad === null && fits, (cs) =>
            conv2d(cs.make(x), cs.make({ shape: [k, k, c, f], values: wValues }), cs.make({ shape: [f], values: bValues }), options as never),
          (t) => expectClose((t as Tensor).data(), expected, (i) => 1e-6 * (scale[i] + 1)));
        },
      ),
      { seed: SEED, numRuns: 240 },
    );
  });

  it("shape ops: reshape, broadcastTo, and the same with junk", () => {
    fc.assert(
      fc.property(specOf(nonEmptyShape(1, 3)), shapeArb(4, 6), fc.boolean(), (spec, target, useFree) => {
        const wanted = useFree && target.length > 0 ? [...target.slice(0, -1), -1] : target;
        const known = sizeOf(target.slice(0, useFree ? -1 : undefined));
        const valid = useFree && target.length > 0 ? known > 0 && spec.values.length % known === 0 : sizeOf(target) === spec.values.length;
        fuzzCase(valid, (c) => c.make(spec).reshape(wanted), (t) => expectClose((t as Tensor).data(), f32(spec.values)));
        const bshape = broadcast(spec.shape, target);
        const canBroadcast = bshape !== null && bshape.length === target.length && bshape.every((d, i) => d === target[i]);
        fuzzCase(canBroadcast, (c) => c.make(spec).broadcastTo(target), (t) => {
          expectClose((t as Tensor).data(), Array.from({ length: sizeOf(target) }, (_, i) => at(spec, target, i)));
        });
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it("backward: gradients against the rule, bad options and disposed tensors in the graph", () => {
    fc.assert(
      fc.property(specOf(nonEmptyShape(1, 2), false), maybeJunk, fc.integer({ min: 0, max: 2 }), (spec, bad, mode) => {
        if (mode === 0) {
          // L = Σ x²·3: ∂L/∂x = 6x, exactly.
          fuzzCase(bad === null, (c) => {
            const x = c.make(spec, { requiresGrad: true });
            const y = c.keep(x.square().mul(3).sum());
            try {
              y.backward((bad === null ? undefined : { grad: c.junk(bad) }) as never);
              return c.keep(tensor(x.grad!.data(), { shape: spec.shape })); // a copy: the next step adds into x.grad
            } finally {
              if (!nodeOf(y)!.released) y.backward(); // a refused backward kept the graph: it must still run
              c.keep(x.sum()).backward(); // the next step through x frees the first graph's intermediates
            }
          }, (g) => expectClose((g as Tensor).data(), spec.values.map((v) => Math.fround(Math.fround(v * v * 0 + 6 * v)))));
        } else if (mode === 1) {
          fuzzCase(false, (c) => {
            const x = c.make(spec, { requiresGrad: true });
            const data = c.make(spec);
            const y = c.keep(c.keep(x.mul(data)).sum()); // a refused graph is the caller's: keep its tensors to free them
            data.dispose();
            try {
              y.backward();
            } finally {
              expect(x.grad).toBeNull(); // nothing written before the check failed
            }
          });
        } else {
          fuzzCase(false, (c) => {
            const x = c.make(spec, { requiresGrad: true });
            const y = c.keep(x.mul(2).sum());
            y.backward();
            try {
              y.backward(); // the graph was released
            } finally {
              c.keep(x.sum()).backward(); // the next step frees the released graph's intermediates
            }
          });
        }
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it("layers, models, optimisers and fit with random settings and junk", () => {
    const layerMakers: ((j: unknown) => unknown)[] = [
      (j) => new Dense(j as number),
      (j) => new Dense(3, { activation: j } as never),
      (j) => new Dense(3, { slope: j, activation: "leakyRelu" } as never),
      (j) => new Dense(3, { kernelInitializer: j } as never),
      (j) => new Conv2D(2, j as number),
      (j) => new Conv2D(2, 3, { padding: j } as never),
      (j) => new Dropout(j as number),
      (j) => new MaxPool2D(j as number),
      (j) => new AvgPool2D(2, j as number),
      (j) => new Sequential(j as never, { inputShape: [2] }),
      (j) => new Sequential([new Flatten()], { inputShape: j } as never),
      (j) => new Sequential([new Dense(2)], { inputShape: [2], seed: j } as never),
    ];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 11 }), junk, fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 9 }), (which, bad, mode, units) => {
        fuzzCase(false, (c) => {
          const made = layerMakers[which](c.junk(bad));
          if (made instanceof Sequential) made.parameters().forEach((p) => c.keep(p));
        });
        fuzzCase(true, (c) => {
          const model = new Sequential([new Dense(units, { activation: "tanh" }), new Dense(3)], { inputShape: [2], seed: units });
          model.parameters().forEach((p) => c.keep(p));
          const x = c.make({ shape: [6, 2], values: [0, 1, 1, 0, 1, 1, 0, 0, 0.5, 0.5, 1, 0.25] });
          const y = c.make({ shape: [6], values: [0, 1, 2, 0, 1, 2] });
          const optimizer = mode % 2 === 0 ? new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 }) : new Adam(model.parameters(), { lr: 0.01 });
          model.compile({ loss: "crossEntropy", optimizer });
          const before = model.parameters().map((p) => p.data());
          const junkOptions = [{ epochs: bad }, { batchSize: bad }, { callbacks: bad }, { validationData: bad }, { seed: bad }, { clipGradNorm: bad }][mode];
          try {
            model.fitSync(x, y, { verbose: false, ...(junkOptions as object) });
          } catch (e) {
            if (!(e instanceof WasmgradError)) throw e;
            // Refused: not one weight changed.
            model.parameters().forEach((p, i) => expectClose(p.data(), before[i]));
          }
          const history = model.fitSync(x, y, { epochs: 2, batchSize: 4, verbose: false });
          expect(history.epochs).toHaveLength(2);
          c.keep(model.predict(x));
          optimizer.zeroGrad();
          model.parameters().forEach((p) => p.zeroGrad());
          // Optimiser state is persistent: dropped with the optimiser, so free it for the baseline.
          (optimizer as unknown as { state: Map<Tensor, Tensor[]> }).state.forEach((s) => s.forEach((t) => c.keep(t)));
        });
      }),
      { seed: SEED, numRuns: 120 },
    );
  });

  it("optimisers, batches, gradcheck and graph export with junk options", () => {
    const calls: ((c: Case, j: unknown, p: Tensor) => unknown)[] = [
      (c, j, p) => new SGD([p], j as never),
      (c, j, p) => new SGD([p], { lr: j } as never),
      (c, j, p) => new SGD([p], { lr: 0.1, momentum: j } as never),
      (c, j, p) => new Adam([p], { beta1: j } as never),
      (c, j, p) => new Adam([p], { eps: j } as never),
      (c, j) => new Adam(j as never),
      (c, j, p) => {
        const it = batches(p, { batchSize: j } as never);
        for (const [b] of it) c.keep(b.detach());
      },
      (c, j, p) => batches(p, j as never),
      (c, j, p) => gradcheck((t) => t.mul(2), [p], { step: j } as never),
      (c, j) => gradcheck(j as never, []),
      (c, j, p) => toDot(p, { maxValues: j } as never),
      (c, j) => toDot(j as never),
      (c, j, p) => { p.grad = j as never; },
    ];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: calls.length - 1 }), junk, (which, bad) => {
        fuzzCase(false, (c) => {
          const p = c.make({ shape: [2], values: [1, 2] }, { requiresGrad: true });
          return calls[which](c, c.junk(bad), p);
        });
      }),
      { seed: SEED, numRuns: 240 },
    );
  });

  it("norms, embedding, recurrent layers, attention and imported ONNX graphs: values and gradients against float64 references, and junk inputs", () => {
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    /** Row-major [n, k]·[k, m] in float64. */
    const mm = (a: number[], b: number[], n: number, k: number, m: number) =>
      Array.from({ length: n * m }, (_, i) => { let t = 0; for (let j = 0; j < k; j++) t += a[Math.floor(i / m) * k + j] * b[j * m + (i % m)]; return t; });
    type Kind = {
      make: (u: number) => ConstructorParameters<typeof Sequential>[0];
      shape: (t: number, f: number) => number[];
      ref: (x: number[], w: Record<string, number[]>, n: number, t: number, f: number, u: number) => number[];
      /** The inputs are row indices below this (Embedding): drawn as integers, with no gradient. */
      indices?: number;
    };
    const norm = (x: number[], f: number, mean: number[] | null, variance: number[] | null, eps: number, g: number[], b: number[]) =>
      x.map((v, i) => {
        const r = Math.floor(i / f), row = x.slice(r * f, r * f + f);
        const m = mean?.[i % f] ?? row.reduce((p, q) => p + q, 0) / f;
        const va = variance?.[i % f] ?? row.reduce((p, q) => p + (q - m) ** 2, 0) / f;
        return ((v - m) / Math.sqrt(va + eps)) * g[i % f] + b[i % f];
      });
    /** A recurrence over [n, t, f]: step(x_t, states) → states, from zero states; the last h of each sample. */
    const recur = (x: number[], n: number, t: number, f: number, u: number, states: number, step: (xt: number[], s: number[][]) => number[][]) => {
      const out: number[] = [];
      for (let b = 0; b < n; b++) {
        let s = Array.from({ length: states }, () => new Array<number>(u).fill(0));
        for (let k = 0; k < t; k++) s = step(x.slice((b * t + k) * f, (b * t + k + 1) * f), s);
        out.push(...s[0]);
      }
      return out;
    };
    const proj = (xt: number[], W: number[], h: number[], U: number[], bias: number[] | undefined, f: number, u: number, g: number) => {
      const a = mm(xt, W, 1, f, g * u), c = mm(h, U, 1, u, g * u);
      return a.map((v, i) => v + c[i] + (bias?.[i] ?? 0));
    };
    const KINDS: Kind[] = [
      {
        make: (u) => [new Embedding(5, u)], shape: (t) => [t], indices: 5,
        ref: (x, w, _n, _t, _f, u) => x.flatMap((row) => w["embedding_1.embeddings"].slice(row * u, (row + 1) * u)),
      },
      { make: () => [new LayerNorm()], shape: (t, f) => [t, f], ref: (x, w, _n, _t, f) => norm(x, f, null, null, 1e-3, w["layernorm_1.gamma"], w["layernorm_1.beta"]) },
      {
        make: () => [new BatchNorm({ epsilon: 0.01 })], shape: (_, f) => [f],
        ref: (x, w, _n, _t, f) => norm(x, f, w["batchnorm_1.movingMean"], w["batchnorm_1.movingVariance"], 0.01, w["batchnorm_1.gamma"], w["batchnorm_1.beta"]),
      },
      {
        make: (u) => [new SimpleRNN(u)], shape: (t, f) => [t, f],
        ref: (x, w, n, t, f, u) => recur(x, n, t, f, u, 1, (xt, [h]) => [proj(xt, w["simplernn_1.kernel"], h, w["simplernn_1.recurrentKernel"], w["simplernn_1.bias"], f, u, 1).map(Math.tanh)]),
      },
      {
        make: (u) => [new LSTM(u)], shape: (t, f) => [t, f],
        ref: (x, w, n, t, f, u) => recur(x, n, t, f, u, 2, (xt, [h, c]) => {
          const z = proj(xt, w["lstm_1.kernel"], h, w["lstm_1.recurrentKernel"], w["lstm_1.bias"], f, u, 4);
          const next = c.map((cv, j) => sig(z[u + j]) * cv + sig(z[j]) * Math.tanh(z[2 * u + j]));
          return [next.map((cv, j) => sig(z[3 * u + j]) * Math.tanh(cv)), next];
        }),
      },
      {
        make: (u) => [new GRU(u)], shape: (t, f) => [t, f],
        ref: (x, w, n, t, f, u) => recur(x, n, t, f, u, 1, (xt, [h]) => {
          const b = w["gru_1.bias"];
          const mx = mm(xt, w["gru_1.kernel"], 1, f, 3 * u).map((v, i) => v + b[i]);
          const mh = mm(h, w["gru_1.recurrentKernel"], 1, u, 3 * u).map((v, i) => v + b[3 * u + i]);
          return [h.map((hv, j) => {
            const z = sig(mx[j] + mh[j]), r = sig(mx[u + j] + mh[u + j]);
            return z * hv + (1 - z) * Math.tanh(mx[2 * u + j] + r * mh[2 * u + j]);
          })];
        }),
      },
      {
        make: (u) => [new MultiHeadAttention(2, u, { causal: u % 2 === 0 })], shape: (t, f) => [t, f],
        ref: (x, w, n, t, f, u) => {
          const H = 2, K = u, out: number[] = [];
          for (let b = 0; b < n; b++) {
            const xb = x.slice(b * t * f, (b + 1) * t * f);
            const p = (which: string) => mm(xb, w[`multiheadattention_1.${which}Kernel`], t, f, H * K).map((v, i) => v + w[`multiheadattention_1.${which}Bias`][i % (H * K)]);
            const [q, k, v] = [p("query"), p("key"), p("value")];
            const joined = new Array<number>(t * H * K).fill(0);
            for (let hd = 0; hd < H; hd++) for (let i = 0; i < t; i++) {
              const s = Array.from({ length: t }, (_, j) => {
                if (u % 2 === 0 && j > i) return -Infinity;
                let d = 0;
                for (let e = 0; e < K; e++) d += q[i * H * K + hd * K + e] * k[j * H * K + hd * K + e];
                return d / Math.sqrt(K);
              });
              const top = Math.max(...s), e = s.map((z) => Math.exp(z - top)), sum = e.reduce((a, c) => a + c, 0);
              for (let j = 0; j < t; j++) for (let d = 0; d < K; d++) joined[i * H * K + hd * K + d] += (e[j] / sum) * v[j * H * K + hd * K + d];
            }
            out.push(...mm(joined, w["multiheadattention_1.outputKernel"], t, H * K, f).map((z, i) => z + w["multiheadattention_1.outputBias"][i % f]));
          }
          return out;
        },
      },
    ];
    const random = (k: number, s: number) => Array.from({ length: k }, (_, i) => Math.fround(Math.sin(s * 12.9898 + i * 78.233) * 0.9));
    /** Every parameter and moving statistic of `model` given seeded values (variances positive); those values, by name. */
    const seeded = (model: Sequential, seed: number) => {
      const w: Record<string, number[]> = {};
      for (const [name, tns] of [...model.namedParameters(), ...model.namedBuffers().filter(([nm]) => nm.includes("moving"))]) {
        w[name] = f32(random(tns.size, seed + name.length).map((v) => (name.includes("Variance") ? 0.5 + Math.abs(v) : v)));
        tns.set(w[name]);
      }
      return w;
    };
    /** Central differences of Σ r·ref in float64, for every element of the inputs named (h = 1e-5: the reference is smooth and exact to ~1e-16). */
    const numericGrad = (loss: (x: number[], w: Record<string, number[]>) => number, x: number[], w: Record<string, number[]>, names: string[]) => {
      const out: Record<string, number[]> = {};
      for (const name of names) {
        const base = name === "input" ? x : w[name];
        out[name] = base.map((_, i) => {
          const at = (d: number) => {
            const moved = base.slice();
            moved[i] += d;
            return name === "input" ? loss(moved, w) : loss(x, { ...w, [name]: moved });
          };
          return (at(1e-5) - at(-1e-5)) / 2e-5;
        });
      }
      return out;
    };
    let gradCases = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: KINDS.length }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 1_000_000 }), maybeJunk,
        (which, n, t, f, u, seed, bad) => {
          const imported = which === KINDS.length; // a Dense model, through toOnnx and fromOnnx
          const kind = KINDS[which % KINDS.length];
          const shape = imported ? [f] : kind.shape(t, f);
          const x = kind.indices && !imported
            ? Array.from({ length: n * sizeOf(shape) }, (_, i) => (seed + i * 3) % kind.indices!)
            : random(n * sizeOf(shape), seed);
          const ref = (xs: number[], w: Record<string, number[]>) => imported
            ? mm(mm(xs, w["dense_1.weight"], n, f, u).map((v, i) => Math.tanh(v + w["dense_1.bias"][i % u])), w["dense_2.weight"], n, u, 2).map((v, i) => v + w["dense_2.bias"][i % 2])
            : kind.ref(xs, w, n, t, f, u);
          const build = (c: Case) => {
            const model = new Sequential(imported ? [new Dense(u, { activation: "tanh" }), new Dense(2)] : kind.make(u), { inputShape: shape, seed: 1 });
            [...model.parameters(), ...model.namedBuffers().map(([, b]) => b)].forEach((p) => c.keep(p));
            const w = seeded(model, seed);
            if (!imported) return { model, w };
            const back = fromOnnx(toOnnx(model));
            back.parameters().forEach((p) => c.keep(p));
            return { model: back, w };
          };
          let w: Record<string, number[]> = {};
          fuzzCase(bad === null, (c) => {
            const built = build(c);
            w = built.w;
            const input = bad === null ? c.make({ shape: [n, ...shape], values: x }) : c.junk(bad);
            return built.model.predict(input as Tensor);
          }, (result) => {
            const expected = ref(x, w);
            expectClose((result as Tensor).data(), expected, relative(expected, 2e-4));
          });
          if (bad !== null) return;
          // Gradients: one backward with seeded upstream weights r, in eval mode (BatchNorm reads its
          // moving statistics), against central differences of Σ r·ref over every parameter and the input.
          gradCases++;
          const analytic: Record<string, number[]> = {};
          fuzzCase(true, (c) => {
            const { model } = build(c);
            model.eval();
            const input = c.make({ shape: [n, ...shape], values: x }, { requiresGrad: !kind.indices || imported });
            const y = c.keep(model.call(input));
            y.backward({ grad: c.make({ shape: y.shape, values: random(y.size, seed + 7) }) });
            for (const [name, p] of model.namedParameters()) analytic[name] = Array.from(p.grad!.data());
            if (input.grad) analytic.input = Array.from(input.grad.data());
            c.keep(model.parameters()[0].sum()).backward(); // the next step through the model frees the first graph's intermediates
          });
          const r = random(ref(x, w).length, seed + 7);
          const loss = (xs: number[], ws: Record<string, number[]>) => ref(xs, ws).reduce((s, v, i) => s + v * r[i], 0);
          const names = Object.keys(analytic);
          expect(names.filter((nm) => nm !== "input").sort()).toEqual(Object.keys(w).filter((nm) => !nm.includes("moving")).sort());
          const numeric = numericGrad(loss, x, w, names);
          for (const name of names) {
            const scale = Math.max(1, ...numeric[name].map(Math.abs));
            try {
              expectClose(analytic[name], numeric[name], () => 2e-4 * scale);
            } catch (e) {
              throw new Error(`${imported ? "imported Dense" : kind.make(u)[0].constructor.name} ∂/∂${name}: ${(e as Error).message}`);
            }
          }
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
    console.log(`fuzz: ${gradCases} gradient cases over norms, embedding, recurrent layers, attention and imported graphs`);
  });
});

describe("fuzz: the selecting ops, every activation and the shape layers", () => {
  it("abs, clip, max/min, argmax/argmin, gather, slice, concat, stack, where, each activation, Activation, Reshape, Permute and GlobalAveragePooling: values and gradients against float64, and junk", () => {
    type P = { r: number; c: number; axis: number; lo: number; hi: number; rows: number[]; slope: number };
    type Entry = {
      op: (c: Case, x: Tensor, y: Tensor, p: P) => Tensor;
      ref: (x: number[], y: number[], p: P) => number[];
      /** The same call with one argument replaced by junk. */
      bad: (c: Case, x: Tensor, y: Tensor, j: unknown, p: P) => unknown;
      /** No gradient to check (an index output). */
      indices?: true;
    };
    const rowsOf = (v: number[], c: number) => Array.from({ length: v.length / c }, (_, i) => v.slice(i * c, (i + 1) * c));
    const along = (v: number[], p: P, f: (xs: number[]) => number) =>
      p.axis === 1 ? rowsOf(v, p.c).map(f) : Array.from({ length: p.c }, (_, j) => f(rowsOf(v, p.c).map((row) => row[j])));
    const transposed = (v: number[], r: number, c: number) => Array.from({ length: r * c }, (_, o) => v[(o % r) * c + Math.floor(o / r)]);
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    const erf = (z: number) => { // Taylor series: |z| < 2.5 here, exact to ~1e-15
      let term = z, sum = z;
      for (let n = 1; n < 80; n++) (term *= (-z * z) / n), (sum += term / (2 * n + 1));
      return (2 / Math.sqrt(Math.PI)) * sum;
    };
    const rowwise = (v: number[], c: number, f: (row: number[]) => number[]) => rowsOf(v, c).flatMap(f);
    const lse = (row: number[]) => { const top = Math.max(...row); return top + Math.log(row.reduce((s, v) => s + Math.exp(v - top), 0)); };
    const ACTIVATION_REF: Record<string, (v: number[], p: P) => number[]> = {
      linear: (v) => v,
      sigmoid: (v) => v.map(sig),
      tanh: (v) => v.map(Math.tanh),
      relu: (v) => v.map((z) => Math.max(z, 0)),
      leakyRelu: (v, p) => v.map((z) => (z > 0 ? z : z * p.slope)),
      softmax: (v, p) => rowwise(v, p.c, (row) => row.map((z) => Math.exp(z - lse(row)))),
      logSoftmax: (v, p) => rowwise(v, p.c, (row) => row.map((z) => z - lse(row))),
      gelu: (v) => v.map((z) => 0.5 * z * (1 + erf(z / Math.SQRT2))),
      silu: (v) => v.map((z) => z * sig(z)),
      swish: (v) => v.map((z) => z * sig(z)),
      elu: (v) => v.map((z) => (z > 0 ? z : Math.exp(z) - 1)),
      softplus: (v) => v.map((z) => Math.log1p(Math.exp(z))),
      hardSigmoid: (v) => v.map((z) => Math.min(1, Math.max(0, 0.2 * z + 0.5))),
      hardSwish: (v) => v.map((z) => z * Math.min(1, Math.max(0, z / 6 + 0.5))),
    };
    expect(Object.keys(ACTIVATION_REF).sort()).toEqual([...ACTIVATIONS].sort()); // a new activation needs its reference here
    const sample = (p: P) => ({ inputShape: [p.r, p.c], seed: 1 });
    const asSample = (c: Case, x: Tensor) => c.keep(x.reshape([1, ...x.shape]));
    const ENTRIES: Record<string, Entry> = {
      abs: { op: (_, x) => abs(x), ref: (v) => v.map(Math.abs), bad: (_, __, ___, j) => abs(j as Tensor) },
      clip: { op: (_, x, __, p) => clip(x, p.lo, p.hi), ref: (v, _, p) => v.map((z) => Math.min(p.hi, Math.max(p.lo, z))), bad: (_, x, __, j, p) => clip(x, j as number, p.hi) },
      max: { op: (_, x, __, p) => max(x, p.axis), ref: (v, _, p) => along(v, p, (xs) => Math.max(...xs)), bad: (_, x, __, j) => max(x, j as number) },
      min: { op: (_, x, __, p) => min(x, p.axis), ref: (v, _, p) => along(v, p, (xs) => Math.min(...xs)), bad: (_, x, __, j) => min(x, 0, j as never) },
      argmax: { op: (_, x, __, p) => argmax(x, p.axis), ref: (v, _, p) => along(v, p, (xs) => xs.indexOf(Math.max(...xs))), bad: (_, x, __, j) => argmax(x, j as number), indices: true },
      argmin: { op: (_, x, __, p) => argmin(x, p.axis), ref: (v, _, p) => along(v, p, (xs) => xs.indexOf(Math.min(...xs))), bad: (_, x, __, j) => argmin(j as Tensor), indices: true },
      gather: { op: (_, x, __, p) => gather(x, p.rows), ref: (v, _, p) => p.rows.flatMap((i) => rowsOf(v, p.c)[i]), bad: (_, x, __, j) => gather(x, [0, j as number]) },
      slice: {
        op: (_, x, __, p) => slice(x, [p.rows[0], Math.floor(p.c / 2)], [p.r, p.c]),
        ref: (v, _, p) => rowsOf(v, p.c).slice(p.rows[0]).flatMap((row) => row.slice(Math.floor(p.c / 2))),
        bad: (_, x, __, j) => slice(x, [0, j as number]),
      },
      concat: {
        op: (_, x, y, p) => concat([x, y], p.axis),
        ref: (v, w, p) => (p.axis === 0 ? [...v, ...w] : rowsOf(v, p.c).flatMap((row, i) => [...row, ...rowsOf(w, p.c)[i]])),
        bad: (_, x, __, j) => concat([x, j as Tensor]),
      },
      stack: {
        op: (_, x, y, p) => stack([x, y], p.axis),
        ref: (v, w, p) => (p.axis === 0 ? [...v, ...w] : rowsOf(v, p.c).flatMap((row, i) => [...row, ...rowsOf(w, p.c)[i]])),
        bad: (_, x, y, j) => stack([x, y], j as number),
      },
      where: {
        op: (c, x, y) => where(c.keep(tensor(x.data().map((z) => (z > 0 ? 1 : 0)), { shape: x.shape })), x, y),
        ref: (v, w) => v.map((z, i) => (z > 0 ? z : w[i])),
        bad: (_, x, y, j) => where(j as Tensor, x, y),
      },
      ...Object.fromEntries(ACTIVATIONS.map((name): [string, Entry] => [`activate ${name}`, {
        op: (_, x, __, p) => activate(x, name, p.slope),
        ref: (v, _, p) => ACTIVATION_REF[name](v, p),
        bad: (_, x, __, j, p) => activate(x, j as never, p.slope),
      }])),
      "Activation layer": {
        op: (c, x, _, p) => { const m = new Sequential([new Activation("gelu")], sample(p)); return m.call(asSample(c, x)); },
        ref: (v) => ACTIVATION_REF.gelu(v, {} as P),
        bad: (_, __, ___, j) => new Activation(j as never),
      },
      "Reshape and Permute layers": {
        op: (c, x, _, p) => { const m = new Sequential([new Permute([2, 1]), new Reshape([p.c * p.r])], sample(p)); return m.call(asSample(c, x)); },
        ref: (v, _, p) => transposed(v, p.r, p.c),
        bad: (_, __, ___, j) => new Permute(j as never),
      },
      "GlobalAveragePooling layer": {
        op: (c, x, _, p) => { const m = new Sequential([new GlobalAveragePooling()], sample(p)); return m.call(asSample(c, x)); },
        ref: (v, _, p) => along(v, { ...p, axis: 0 }, (xs) => xs.reduce((a, b) => a + b, 0) / xs.length),
        bad: (_, __, ___, j) => new Reshape(j as never),
      },
    };
    const random = (k: number, s: number) => Array.from({ length: k }, (_, i) => Math.fround(Math.sin(s * 12.9898 + i * 78.233) * 2.7));
    const names = Object.keys(ENTRIES);
    let gradCases = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...names), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 1 }),
        fc.integer({ min: 1, max: 1_000_000 }), maybeJunk,
        (name, r, c, axis, seed, bad) => {
          const entry = ENTRIES[name];
          const p: P = { r, c, axis, lo: -0.3 - (seed % 7) / 5, hi: 0.2 + (seed % 5) / 4, rows: [seed % r, (seed * 7) % r, (seed * 13) % r], slope: ((seed % 9) + 1) / 20 };
          const xv = random(r * c, seed), yv = random(r * c, seed + 1);
          const spec = (values: number[]) => ({ shape: [r, c], values });
          if (bad !== null) return fuzzCase(false, (cs) => entry.bad(cs, cs.make(spec(xv)), cs.make(spec(yv)), cs.junk(bad), p));
          const expected = entry.ref(xv, yv, p);
          fuzzCase(true, (cs) => entry.op(cs, cs.make(spec(xv)), cs.make(spec(yv)), p), (t) => expectClose((t as Tensor).data(), expected, relative(expected, 2e-4)));
          if (entry.indices) return;
          gradCases++;
          const u = random(expected.length, seed + 3);
          const grads: number[][] = [];
          fuzzCase(true, (cs) => {
            const x = cs.make(spec(xv), { requiresGrad: true }), y = cs.make(spec(yv), { requiresGrad: true });
            const out = cs.keep(entry.op(cs, x, y, p));
            out.backward({ grad: cs.make({ shape: out.shape, values: u }) });
            grads.push(Array.from(x.grad?.data() ?? new Float32Array(r * c)), Array.from(y.grad?.data() ?? new Float32Array(r * c)));
            cs.keep(x.sum()).backward(); // the next step through x frees the first graph's intermediates
          });
          const loss = (v: number[], w: number[]) => entry.ref(v, w, p).reduce((s, z, i) => s + z * u[i], 0);
          [xv, yv].forEach((base, k) => {
            const numeric = base.map((_, i) => {
              const at = (d: number) => { const moved = base.slice(); moved[i] += d; return k === 0 ? loss(moved, yv) : loss(xv, moved); };
              return (at(1e-5) - at(-1e-5)) / 2e-5;
            });
            const scale = Math.max(1, ...numeric.map(Math.abs));
            try {
              expectClose(grads[k], numeric, () => 2e-4 * scale);
            } catch (e) {
              throw new Error(`${name} ∂/∂${k === 0 ? "x" : "y"}: ${(e as Error).message}`);
            }
          });
        },
      ),
      { seed: SEED, numRuns: 600 },
    );
    console.log(`fuzz: ${gradCases} gradient cases over the selecting ops, activations and shape layers`);
  });
});

/** Marks an axis argument to be replaced by junk inside the case. */
function c0(_bad: unknown): "junk" {
  return "junk";
}
