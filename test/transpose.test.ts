// transpose(): every permutation of ranks 1 to 4 and the 5-D channel shuffle, on awkward sizes,
// against an index-by-index reference. The permutations that swap two neighbouring runs of axes
// (NCHW ↔ NHWC, a shuffle) go through the block-transpose kernel, every other one through the
// strided walk: both must give the reference exactly, and send the gradient back.
import { beforeAll, describe, expect, it } from "vitest";
import { gradcheck, init, tensor } from "../src/index.js";
import { randomArray, rng } from "./helpers.js";

beforeAll(async () => {
  await init();
});

const permutations = (n: number): number[][] =>
  n === 0 ? [[]] : permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));

/** x permuted by p, element by element. */
function reference(data: Float32Array, shape: number[], p: number[]): number[] {
  const out = p.map((a) => shape[a]);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((s, d) => s * d, 1));
  const result: number[] = [];
  const index = new Array(out.length).fill(0);
  for (let k = 0; k < data.length; k++) {
    result.push(data[index.reduce((s, v, i) => s + v * strides[p[i]], 0)]);
    for (let d = out.length - 1; d >= 0 && ++index[d] === out[d]; d--) index[d] = 0;
  }
  return result;
}

describe("transpose", () => {
  it("gives the reference for every permutation of shapes up to rank 4, and the channel shuffle", () => {
    const cases: [number[], number[]][] = [];
    for (const shape of [[7], [5, 9], [3, 5, 17], [2, 3, 13, 11], [1, 19, 1, 9]]) for (const p of permutations(shape.length)) cases.push([shape, p]);
    cases.push([[2, 4, 6, 5, 3], [0, 2, 1, 3, 4]], [[1, 3, 2, 7, 7], [0, 2, 1, 3, 4]]);
    for (const [shape, p] of cases) {
      const size = shape.reduce((a, b) => a * b);
      const data = randomArray(size, rng(size + p.length));
      const y = tensor(data, { shape }).transpose(p);
      expect(y.shape).toEqual(p.map((a) => shape[a]));
      expect(Array.from(y.data()), `[${shape}] by [${p}]`).toEqual(reference(data, shape, p));
    }
  });

  it("sends the gradient back through the block path (NCHW → NHWC, a shuffle)", () => {
    for (const [shape, p] of [[[2, 3, 4, 5], [0, 2, 3, 1]], [[1, 2, 3, 2, 2], [0, 2, 1, 3, 4]]] as const) {
      const x = tensor(randomArray(shape.reduce((a, b) => a * b), rng(3)), { shape: [...shape], requiresGrad: true });
      expect(gradcheck((a) => a.transpose([...p]).tanh(), [x]).ok).toBe(true);
    }
  });
});
