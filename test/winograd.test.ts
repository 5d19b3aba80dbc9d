// Winograd's F(2×2, 3×3) (assembly/winograd.ts): a 3×3 convolution at stride 1, against the
// im2col convolution of the same inputs, on every edge it has: odd output sizes (a last tile half
// outside), uneven padding, channel and filter counts off the 4 lanes, bias and ReLU, a batch of
// images one at a time and small images in groups; its gradients (∂x as the flipped convolution
// on Winograd's, ∂W on the GEMM) against im2col's and finite differences; and its typed errors.
import { beforeAll, describe, expect, it } from "vitest";
import { ArgumentError, conv2d, gradcheck, init, noGrad, tensor } from "../src/index.js";
import { randomArray, rng } from "./helpers.js";

beforeAll(async () => {
  await init();
});

describe("conv2d, algorithm winograd", () => {
  const cases: [number[], number, "same" | "valid" | [number, number, number, number], "linear" | "relu" | "tanh"][] = [
    [[2, 7, 9, 5], 6, "same", "linear"],
    [[1, 8, 8, 16], 32, "valid", "relu"],
    [[3, 5, 6, 3], 7, [0, 1, 2, 1], "linear"],
    [[1, 3, 3, 4], 1, "valid", "tanh"],
    [[9, 32, 32, 64], 64, "same", "relu"], // 9 images, one after another
    [[11, 7, 7, 8], 12, "same", "relu"], // 16 tiles an image: groups of 8 images, then 3
    [[2, 6, 6, 4], 5, [0, 1, 3, 1], "tanh"], // padding 3 below: ∂x past Winograd's reach, on im2col
  ];
  const relative = (got: Float32Array, want: Float32Array) => {
    const scale = want.reduce((s, v) => Math.max(s, Math.abs(v)), 0);
    let worst = 0;
    got.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - want[i]))));
    return worst / scale;
  };
  for (const [shape, filters, padding, activation] of cases) {
    it(`x [${shape}], ${filters} filters, padding ${JSON.stringify(padding)}, ${activation}: the im2col convolution's values`, () => {
      const size = shape.reduce((a, b) => a * b);
      const x = tensor(randomArray(size, rng(size)), { shape });
      const w = tensor(randomArray(9 * shape[3] * filters, rng(filters)), { shape: [3, 3, shape[3], filters] });
      const b = tensor(randomArray(filters, rng(7)), { shape: [filters] });
      const fast = noGrad(() => conv2d(x, w, b, { padding, activation, algorithm: "winograd" }));
      const plain = conv2d(x, w, b, { padding, activation });
      expect(fast.shape).toEqual(plain.shape);
      expect(relative(fast.data(), plain.data())).toBeLessThan(2e-6);
      if (activation === "relu") expect(fast.data().every((v) => v >= 0)).toBe(true);
    });

    it(`x [${shape}], ${filters} filters, padding ${JSON.stringify(padding)}, ${activation}: im2col's ∂x, ∂W and ∂b`, () => {
      const size = shape.reduce((a, b) => a * b);
      const grads = (algorithm: "im2col" | "winograd") => {
        const x = tensor(randomArray(size, rng(size)), { shape, requiresGrad: true });
        const w = tensor(randomArray(9 * shape[3] * filters, rng(filters)), { shape: [3, 3, shape[3], filters], requiresGrad: true });
        const b = tensor(randomArray(filters, rng(7)), { shape: [filters], requiresGrad: true });
        const y = conv2d(x, w, b, { padding, activation, algorithm });
        y.mul(tensor(randomArray(y.size, rng(3)), { shape: y.shape })).sum().backward();
        return [x, w, b].map((t) => t.grad!.data());
      };
      const [fast, plain] = [grads("winograd"), grads("im2col")];
      fast.forEach((g, i) => expect(relative(g, plain[i]), ["∂x", "∂W", "∂b"][i]).toBeLessThan(1e-5));
    });
  }

  it("its gradients match finite differences", () => {
    for (const padding of ["same", "valid"] as const) {
      const x = tensor(randomArray(3 * 5 * 6 * 3, rng(4)), { shape: [3, 5, 6, 3], requiresGrad: true });
      const w = tensor(randomArray(9 * 3 * 5, rng(5)), { shape: [3, 3, 3, 5], requiresGrad: true });
      const r = gradcheck((x, w) => conv2d(x, w, null, { padding, activation: "tanh", algorithm: "winograd" }), [x, w]);
      expect(r.ok, JSON.stringify(r.worst)).toBe(true);
    }
  });

  it("refuses other windows and strides, and an unknown algorithm, with typed errors", () => {
    const x = tensor(randomArray(2 * 6 * 6 * 3, rng(1)), { shape: [2, 6, 6, 3], requiresGrad: true });
    const w = tensor(randomArray(9 * 3 * 4, rng(2)), { shape: [3, 3, 3, 4] });
    expect(() => conv2d(x, w, null, { stride: 2, algorithm: "winograd" })).toThrow(ArgumentError);
    expect(() => conv2d(x, w, null, { stride: 2, algorithm: "winograd" })).toThrow(/3×3 window at stride 1, got 3×3 at stride 2/);
    const w5 = tensor(randomArray(25 * 3 * 4, rng(3)), { shape: [5, 5, 3, 4] });
    expect(() => conv2d(x, w5, null, { algorithm: "winograd" })).toThrow(/got 5×5/);
    expect(() => conv2d(x, w, null, { algorithm: "fft" as never })).toThrow(/algorithm must be one of "im2col", "winograd"/);
  });
});
