// Forward values of every op against float64 references computed here, elementwise.
import { beforeAll, describe, expect, it } from "vitest";
import { type Tensor, init, tensor } from "../src/index.js";
import { BUILDS, F32_EPS, randomArray, rng } from "./helpers.js";

const random = rng(42);
const A = randomArray(12, random); // 3×4
const B = randomArray(12, random); // 3×4
const ROW = randomArray(4, random); // broadcast over A's rows
const POS = A.map((v) => 0.5 + Math.abs(v)); // positive, for log, sqrt and division

const at = (v: Float32Array, i: number, j: number) => v[i * 4 + j];
const grid = (f: (i: number, j: number) => number) => Array.from({ length: 12 }, (_, k) => f(Math.floor(k / 4), k % 4));

// ulps: allowed float32 rounding steps; floor: the magnitude below which the error is absolute
// (sums and dot products can cancel to near zero, leaving the rounding of their terms).
type Case = [name: string, op: (t: Record<string, Tensor>) => Tensor, want: number[], shape: number[], ulps: number, floor?: number];

const softmaxRow = (i: number) => {
  const row = [0, 1, 2, 3].map((j) => at(A, i, j));
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m));
  const s = e.reduce((x, y) => x + y);
  return { e, s, m };
};

const CASES: Case[] = [
  ["add", (t) => t.a.add(t.b), grid((i, j) => at(A, i, j) + at(B, i, j)), [3, 4], 1],
  ["add row", (t) => t.a.add(t.row), grid((i, j) => at(A, i, j) + ROW[j]), [3, 4], 1],
  ["sub number", (t) => t.a.sub(0.25), grid((i, j) => at(A, i, j) - 0.25), [3, 4], 1],
  ["mul", (t) => t.a.mul(t.b), grid((i, j) => at(A, i, j) * at(B, i, j)), [3, 4], 1],
  ["div", (t) => t.a.div(t.pos), grid((i, j) => at(A, i, j) / at(POS, i, j)), [3, 4], 1],
  ["div number", (t) => t.a.div(3), grid((i, j) => at(A, i, j) / 3), [3, 4], 1],
  ["neg", (t) => t.a.neg(), grid((i, j) => -at(A, i, j)), [3, 4], 0],
  ["square", (t) => t.a.square(), grid((i, j) => at(A, i, j) ** 2), [3, 4], 1],
  ["pow 3", (t) => t.a.pow(3), grid((i, j) => at(A, i, j) ** 3), [3, 4], 2],
  ["exp", (t) => t.a.exp(), grid((i, j) => Math.exp(at(A, i, j))), [3, 4], 2],
  ["log", (t) => t.pos.log(), grid((i, j) => Math.log(at(POS, i, j))), [3, 4], 2],
  ["sqrt", (t) => t.pos.sqrt(), grid((i, j) => Math.sqrt(at(POS, i, j))), [3, 4], 1],
  ["sigmoid", (t) => t.a.sigmoid(), grid((i, j) => 1 / (1 + Math.exp(-at(A, i, j)))), [3, 4], 3],
  ["tanh", (t) => t.a.tanh(), grid((i, j) => Math.tanh(at(A, i, j))), [3, 4], 3],
  ["relu", (t) => t.a.relu(), grid((i, j) => Math.max(0, at(A, i, j))), [3, 4], 0],
  ["leakyRelu", (t) => t.a.leakyRelu(0.2), grid((i, j) => (at(A, i, j) > 0 ? at(A, i, j) : 0.2 * at(A, i, j))), [3, 4], 1],
  ["softmax", (t) => t.a.softmax(), grid((i, j) => softmaxRow(i).e[j] / softmaxRow(i).s), [3, 4], 8],
  ["logSoftmax", (t) => t.a.logSoftmax(), grid((i, j) => at(A, i, j) - softmaxRow(i).m - Math.log(softmaxRow(i).s)), [3, 4], 8],
  ["transpose", (t) => t.a.transpose(), Array.from({ length: 12 }, (_, k) => at(A, k % 3, Math.floor(k / 3))), [4, 3], 0],
  ["sum", (t) => t.a.sum(), [A.reduce((x, y) => x + y, 0)], [], 12, 1],
  ["sum axis 0", (t) => t.a.sum(0), [0, 1, 2, 3].map((j) => at(A, 0, j) + at(A, 1, j) + at(A, 2, j)), [4], 3, 1],
  ["mean axis 1 keepDims", (t) => t.a.mean(1, { keepDims: true }), [0, 1, 2].map((i) => (at(A, i, 0) + at(A, i, 1) + at(A, i, 2) + at(A, i, 3)) / 4), [3, 1], 4],
  ["matmul", (t) => t.a.matmul(t.b.transpose()), Array.from({ length: 9 }, (_, k) => [0, 1, 2, 3].reduce((s, p) => s + at(A, Math.floor(k / 3), p) * at(B, k % 3, p), 0)), [3, 3], 6, 1],
  ["broadcastTo", (t) => t.row.broadcastTo([2, 4]), [...ROW, ...ROW], [2, 4], 0],
];

describe.each(BUILDS)("forward values (%s build)", (build) => {
  let inputs: Record<string, Tensor>;
  beforeAll(async () => {
    await init({ build });
    inputs = {
      a: tensor(A, { shape: [3, 4] }),
      b: tensor(B, { shape: [3, 4] }),
      row: tensor(ROW),
      pos: tensor(POS, { shape: [3, 4] }),
    };
  });

  it.each(CASES)("%s", (_, op, want, shape, ulps, floor = 1e-3) => {
    const y = op(inputs);
    expect(y.shape).toEqual(shape);
    const got = y.data();
    want.forEach((w, k) => {
      const tolerance = ulps * F32_EPS * 2 * Math.max(Math.abs(w), floor) + 1e-30;
      if (!(Math.abs(got[k] - w) <= tolerance)) throw new Error(`element ${k}: got ${got[k]}, want ${w} (±${tolerance})`);
    });
  });
});
