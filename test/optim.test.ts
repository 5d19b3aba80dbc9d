import { beforeAll, describe, expect, it } from "vitest";
import { Adam, AdamW, ArgumentError, SGD, type Tensor, clipGradNorm, gradientNorms, init, tensor } from "../src/index.js";

beforeAll(async () => {
  await init();
});

/** A parameter with a fixed gradient, as backward would leave it. */
function param(values: number[], grad: number[]): Tensor {
  const p = tensor(values, { requiresGrad: true, name: "p" });
  p.grad = tensor(grad);
  return p;
}

const f32 = Math.fround;

describe("SGD", () => {
  it("plain: w ← w − η·g, exactly in float32 (the seeds' gradient-descent step)", () => {
    const p = param([0.8, -1], [-0.2007, 0.5]);
    new SGD([p], { lr: 0.1 }).step();
    expect(Array.from(p.data())).toEqual([f32(f32(0.8) - f32(f32(0.1) * f32(-0.2007))), f32(-1 - f32(f32(0.1) * 0.5))]);
  });

  it("momentum, Nesterov and weight decay follow PyTorch's definition over several steps", () => {
    for (const nesterov of [false, true]) {
      const p = param([1, -2], [0.5, 0.25]);
      const opt = new SGD([p], { lr: 0.1, momentum: 0.9, nesterov, weightDecay: 0.01 });
      const w = [1, -2];
      const v = [0, 0];
      for (let step = 0; step < 3; step++) {
        opt.step();
        for (let i = 0; i < 2; i++) {
          const g = [0.5, 0.25][i] + 0.01 * w[i];
          v[i] = 0.9 * v[i] + g;
          w[i] -= 0.1 * (nesterov ? g + 0.9 * v[i] : v[i]);
        }
      }
      const got = p.data();
      w.forEach((wi, i) => expect(got[i]).toBeCloseTo(wi, 5));
    }
  });

  it("learning rate can change between steps; bad options are refused", () => {
    const p = param([1], [1]);
    const opt = new SGD([p], { lr: 0.5 });
    opt.step();
    opt.lr = 0.25;
    opt.step();
    expect(p.item()).toBe(0.25);
    expect(() => (opt.lr = -1)).toThrow(/lr must be a finite number ≥ 0, got -1/);
    expect(() => new SGD([], { lr: 0.1 })).toThrow(ArgumentError);
    expect(() => new SGD([tensor([1])], { lr: 0.1 })).toThrow(/tensors with requiresGrad/);
  });
});

describe("Adam and AdamW", () => {
  /** PyTorch's Adam/AdamW in float64. */
  function reference(decoupled: boolean, wd: number, steps: number) {
    const [lr, b1, b2, eps] = [0.01, 0.9, 0.999, 1e-8];
    const w = [0.5, -1.5, 2];
    const grads = [0.1, -0.3, 0.02];
    const m = [0, 0, 0];
    const v = [0, 0, 0];
    for (let t = 1; t <= steps; t++) {
      for (let i = 0; i < 3; i++) {
        let g = grads[i];
        if (decoupled) w[i] *= 1 - lr * wd;
        else g += wd * w[i];
        m[i] = b1 * m[i] + (1 - b1) * g;
        v[i] = b2 * v[i] + (1 - b2) * g * g;
        w[i] -= ((lr / (1 - b1 ** t)) * m[i]) / (Math.sqrt(v[i]) / Math.sqrt(1 - b2 ** t) + eps);
      }
    }
    return w;
  }

  it.each([
    ["Adam", false, 0],
    ["Adam with L2", false, 0.1],
    ["AdamW", true, 0.1],
  ] as const)("%s matches a float64 reference over 5 steps", (_, decoupled, wd) => {
    const p = param([0.5, -1.5, 2], [0.1, -0.3, 0.02]);
    const opt = decoupled ? new AdamW([p], { lr: 0.01, weightDecay: wd }) : new Adam([p], { lr: 0.01, weightDecay: wd });
    for (let i = 0; i < 5; i++) opt.step();
    const want = reference(decoupled, wd, 5);
    Array.from(p.data()).forEach((got, i) => expect(Math.abs(got - want[i])).toBeLessThan(2e-6));
  });

  it("zeroGrad keeps the gradient buffers and fills them with zeros", () => {
    const p = param([1, 2], [3, 4]);
    const grad = p.grad;
    const opt = new Adam([p]);
    opt.zeroGrad();
    expect(p.grad).toBe(grad);
    expect(Array.from(p.grad!.data())).toEqual([0, 0]);
    expect(() => new Adam([p], { beta1: 1 })).toThrow(/beta1 must be a number in \[0, 1\), got 1/);
  });
});

describe("gradient norms and clipping", () => {
  it("reports each parameter's gradient norm by name", () => {
    const a = param([0, 0], [3, 4]);
    a.name = "dense_1.weight";
    const b = param([0], [12]);
    b.name = "dense_1.bias";
    expect(gradientNorms([a, b])).toEqual([
      { name: "dense_1.weight", norm: 5 },
      { name: "dense_1.bias", norm: 12 },
    ]);
  });

  it("clips by the global norm: scales every gradient by maxNorm/‖g‖ when ‖g‖ is larger", () => {
    const a = param([0, 0], [3, 4]);
    const b = param([0], [12]);
    expect(clipGradNorm([a, b], 26)).toBe(13); // under the limit: unchanged
    expect(Array.from(b.grad!.data())).toEqual([12]);
    expect(clipGradNorm([a, b], 6.5)).toBe(13);
    expect(a.grad!.data()[0]).toBeCloseTo(1.5, 5);
    expect(a.grad!.data()[1]).toBeCloseTo(2, 5);
    expect(b.grad!.data()[0]).toBeCloseTo(6, 5);
    expect(() => clipGradNorm([a], 0)).toThrow(/maxNorm must be a finite number > 0, got 0/);
  });
});
