import { beforeAll, describe, expect, it } from "vitest";
import { ArgumentError, RandomShift, Sequential, ShapeError, gradcheck, init, shift2d, tensor } from "../src/index.js";
import { BUILDS, randomArray, rng } from "./helpers.js";

/** The shift written out element by element: the independent reference. */
function shiftedReference(x: Float32Array, [n, h, w, c]: number[], shifts: number[]) {
  const y = new Float32Array(x.length);
  for (let i = 0; i < n; i++)
    for (let r = 0; r < h; r++)
      for (let q = 0; q < w; q++)
        for (let ch = 0; ch < c; ch++) {
          const [sr, sq] = [r - shifts[2 * i], q - shifts[2 * i + 1]];
          if (sr >= 0 && sr < h && sq >= 0 && sq < w) y[((i * h + r) * w + q) * c + ch] = x[((i * h + sr) * w + sq) * c + ch];
        }
  return y;
}

describe.each(BUILDS)("shift2d (%s build)", (build) => {
  beforeAll(async () => {
    await init({ build });
  });

  it("moves a 3×3 image down one and left one, filling with zeros", () => {
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], { shape: [1, 3, 3, 1] });
    expect(Array.from(shift2d(x, [1, -1]).data())).toEqual([0, 0, 0, 2, 3, 0, 5, 6, 0]);
  });

  it("matches the element-by-element reference for every offset up to and past the image's size", () => {
    const shape = [9, 4, 5, 3];
    const xv = randomArray(shape.reduce((a, b) => a * b), rng(3));
    const shifts = [0, 0, 1, 2, -1, -2, 3, -4, -3, 4, 4, 0, 0, -5, 2, 2, -9, 9];
    const y = shift2d(tensor(xv, { shape }), shifts);
    expect(Array.from(y.data())).toEqual(Array.from(shiftedReference(xv, shape, shifts)));
  });

  it("sends each gradient back to the pixel it came from (gradcheck)", () => {
    const x = tensor(randomArray(2 * 5 * 4 * 2, rng(8)), { shape: [2, 5, 4, 2], requiresGrad: true });
    const report = gradcheck((x) => shift2d(x, [2, -1, -1, 3]).tanh(), [x]);
    expect(report.ok, JSON.stringify(report.worst)).toBe(true);
  });

  it("refuses shapes and shifts that do not fit, saying why", () => {
    const x = tensor(new Float32Array(8), { shape: [2, 2, 2, 1] });
    expect(() => shift2d(tensor([1, 2, 3]), [0, 0])).toThrow(ShapeError);
    expect(() => shift2d(x, [0, 0, 1])).toThrow(/expected 4 shifts \(dy, dx for each of 2 images\), got 3/);
    expect(() => shift2d(x, [0, 0.5, 1, 1])).toThrow(/whole pixels, got 0.5 at 1/);
  });
});

describe("RandomShift", () => {
  beforeAll(async () => {
    await init();
  });

  const digits = () => tensor(Array.from({ length: 50 * 36 }, (_, i) => (i % 36) + 1), { shape: [50, 6, 6, 1] });

  it("moves each image by at most maxShift in each direction while training, and is the identity otherwise", () => {
    const model = new Sequential([new RandomShift(2)], { inputShape: [6, 6, 1], seed: 4 });
    const x = digits();
    expect(model.forward(x)).toBe(x);
    const y = model.forward(x, { training: true }).data();
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const image = y.subarray(36 * i, 36 * i + 36);
      // Pixel values are 1 + row·6 + column: the first non-zero one says where the image went.
      const first = image.findIndex((v) => v !== 0);
      const [r, q] = [Math.floor(first / 6), first % 6];
      const v = image[first] - 1;
      const [dy, dx] = [r - Math.floor(v / 6), q - (v % 6)];
      expect(Math.abs(dy)).toBeLessThanOrEqual(2);
      expect(Math.abs(dx)).toBeLessThanOrEqual(2);
      expect(Array.from(image)).toEqual(Array.from(shiftedReference(x.data().subarray(0, 36), [1, 6, 6, 1], [dy, dx])));
      seen.add(`${dy},${dx}`);
    }
    expect(seen.size).toBeGreaterThan(15); // of the 25 possible moves, most appear in 50 draws
  });

  it("draws the same shifts from the same seed", () => {
    const shifted = (seed: number) => new Sequential([new RandomShift(1)], { inputShape: [6, 6, 1], seed }).forward(digits(), { training: true }).data();
    expect(shifted(2)).toEqual(shifted(2));
    expect(shifted(2)).not.toEqual(shifted(3));
  });

  it("refuses a bad maxShift and inputs that are not images", () => {
    expect(() => new RandomShift(-1)).toThrow(ArgumentError);
    expect(() => new RandomShift(1.5)).toThrow(/maxShift must be a non-negative integer, got 1.5/);
    expect(() => new Sequential([new RandomShift(1)], { inputShape: [784] })).toThrow(/\[height, width, channels\] per sample, got \[784\]/);
  });
});
