import { beforeAll, describe, expect, it } from "vitest";
import {
  type ActivationName as Activation, ArgumentError, Dense, Dropout, type Engine, Flatten, Random, Sequential, ShapeError, type Tensor,
  binaryCrossEntropy, crossEntropy, dense, gradcheck, init, initializers, mse, noGrad, tensor,
} from "../src/index.js";
import { randomArray, rng } from "./helpers.js";

let engine: Engine;
beforeAll(async () => {
  engine = await init();
});

const leaf = (values: Float32Array | number[], shape: number[]) => tensor(values, { shape, requiresGrad: true });

describe("dense op", () => {
  const ACTS: Activation[] = ["linear", "sigmoid", "tanh", "relu", "leakyRelu", "softmax"];
  const f64: Record<Activation, (z: number[]) => number[]> = {
    linear: (z) => z,
    sigmoid: (z) => z.map((v) => 1 / (1 + Math.exp(-v))),
    tanh: (z) => z.map(Math.tanh),
    relu: (z) => z.map((v) => Math.max(0, v)),
    leakyRelu: (z) => z.map((v) => (v > 0 ? v : 0.01 * v)),
    softmax: (z) => {
      const e = z.map((v) => Math.exp(v - Math.max(...z)));
      const s = e.reduce((a, b) => a + b);
      return e.map((v) => v / s);
    },
  };

  it.each(ACTS)("%s: forward is f(x·W + b) and backward passes gradcheck", (activation) => {
    const random = rng(activation.length);
    const [m, k, n] = [5, 7, 6];
    // Small x·W and biases of ±1 keep every pre-activation at least 0.37 from relu's kink.
    const x = leaf(randomArray(m * k, random).map((v) => 0.3 * v), [m, k]);
    const w = leaf(randomArray(k * n, random).map((v) => 0.3 * v), [k, n]);
    const b = leaf(Array.from({ length: n }, (_, j) => (j % 2 ? 1 : -1)), [n]);
    const y = noGrad(() => dense(x, w, b, activation)).data();
    const [xv, wv, bv] = [x.data(), w.data(), b.data()];
    for (let i = 0; i < m; i++) {
      const z = Array.from({ length: n }, (_, j) => bv[j] + Array.from({ length: k }, (_, p) => xv[i * k + p] * wv[p * n + j]).reduce((s, v) => s + v));
      f64[activation](z).forEach((want, j) => expect(Math.abs(y[i * n + j] - want)).toBeLessThan(1e-5));
    }
    const report = gradcheck((x, w, b) => dense(x, w, b, activation), [x, w, b]);
    expect(report.ok, JSON.stringify(report.worst)).toBe(true);
  });

  it("accumulates the parameters' gradients straight into their .grad, across calls", () => {
    const x = tensor([[1, 2]]);
    const w = leaf([1, 0, 0, 1], [2, 2]);
    const b = leaf([0, 0], [2]);
    dense(x, w, b).sum().backward();
    dense(x, w, b).sum().backward();
    expect(Array.from(w.grad!.data())).toEqual([2, 2, 4, 4]);
    expect(Array.from(b.grad!.data())).toEqual([2, 2]);
  });

  it("names the shapes it expected", () => {
    expect(() => dense(tensor([[1, 2, 3]]), leaf([1, 2], [2, 1]), null)).toThrow(
      /dense: expected x \[batch, in\], W \[in, out\], b \[out\], got \[1, 3\], \[2, 1\]/,
    );
  });
});

describe("losses", () => {
  const logits = [[2, -1, 0.5], [0.1, 0.2, 0.3]];
  const lse = (r: number[]) => Math.log(r.reduce((s, v) => s + Math.exp(v), 0));

  it("cross-entropy from logits: mean of log Σe^z − z[label], the same with one-hot targets", () => {
    const want = (lse(logits[0]) - 2 + lse(logits[1]) - 0.3) / 2;
    expect(crossEntropy(tensor(logits), [0, 2]).item()).toBeCloseTo(want, 6);
    expect(crossEntropy(tensor(logits), tensor([[1, 0, 0], [0, 0, 1]])).item()).toBeCloseTo(want, 6);
  });

  it("cross-entropy's gradient from logits is (ŷ − y)/batch", () => {
    const z = leaf(logits.flat(), [2, 3]);
    crossEntropy(z, [0, 2]).backward();
    const g = z.grad!.data();
    logits.forEach((row, i) => {
      const p = row.map((v) => Math.exp(v - lse(row)));
      p.forEach((pj, j) => expect(g[i * 3 + j]).toBeCloseTo((pj - (j === [0, 2][i] ? 1 : 0)) / 2, 6));
    });
  });

  it.each([
    ["cross-entropy, labels", (z: Tensor) => crossEntropy(z, [1, 0, 2, 2])],
    ["cross-entropy, soft targets", (z: Tensor) => crossEntropy(z, tensor([[0.2, 0.8, 0], [1, 0, 0], [0, 0, 1], [0.3, 0.3, 0.4]]))],
    ["cross-entropy from probabilities", (z: Tensor) => crossEntropy(z.softmax(), [1, 0, 2, 2], { fromLogits: false })],
    ["cross-entropy from probabilities, one-hot", (z: Tensor) => crossEntropy(z.softmax(), tensor([[0, 1, 0], [1, 0, 0], [0, 0, 1], [0, 0, 1]]), { fromLogits: false })],
    ["binary cross-entropy", (z: Tensor) => binaryCrossEntropy(z, tensor([[1, 0, 1], [0, 0, 1], [1, 1, 0], [0, 1, 0]]))],
    ["mse", (z: Tensor) => mse(z, tensor([[0.5, -1, 2], [0, 0, 1], [1, 1, 0], [-2, 1, 0]]))],
  ])("%s passes gradcheck", (_, loss) => {
    const z = leaf(randomArray(12, rng(7)).map((v) => 2 * v), [4, 3]);
    const report = gradcheck(loss, [z]);
    expect(report.ok, JSON.stringify(report.worst)).toBe(true);
  });

  it("binary cross-entropy from logits and MSE match their formulas", () => {
    const z = [[-3, 0.5], [2, 40]];
    const t = [[0, 1], [1, 1]];
    const bce = z.flat().reduce((s, v, i) => s + Math.log(1 + Math.exp(-v)) + (1 - t.flat()[i]) * v, 0) / 4;
    expect(binaryCrossEntropy(tensor(z), tensor(t)).item()).toBeCloseTo(bce, 5);
    expect(mse(tensor([1, 2, 3]), [1, 0, 0]).item()).toBeCloseTo((0 + 4 + 9) / 3, 6);
  });

  it("refuses labels that are not class indices, and targets of the wrong shape", () => {
    expect(() => crossEntropy(tensor(logits), [0, 3])).toThrow(ArgumentError);
    expect(() => crossEntropy(tensor(logits), [0, 3])).toThrow(/label 3 at row 1 is not a class index in \[0, 3\)/);
    expect(() => crossEntropy(tensor(logits), [0, 1.5])).toThrow(/label 1.5 at row 1/);
    expect(() => crossEntropy(tensor(logits), [0, 1, 2])).toThrow(ShapeError);
    expect(() => crossEntropy(tensor([1, 2, 3]), [0])).toThrow(/expected inputs of shape \[batch, classes\], got \[3\]/);
    expect(() => mse(tensor([1, 2]), [1, 2, 3])).toThrow(/targets must have the input's shape \[2\], got \[3\]/);
  });
});

describe("initialisers", () => {
  const sample = (name: keyof typeof initializers, fanIn: number, fanOut: number, seed = 3) => {
    const out = new Float32Array(20_000);
    initializers[name](out, fanIn, fanOut, new Random(seed));
    const mean = out.reduce((s, v) => s + v, 0) / out.length;
    const std = Math.sqrt(out.reduce((s, v) => s + (v - mean) ** 2, 0) / out.length);
    return { out, mean, std, max: Math.max(...out.map(Math.abs)) };
  };

  it("He and Xavier have the variances their papers give", () => {
    expect(sample("heNormal", 200, 50).std).toBeCloseTo(Math.sqrt(2 / 200), 2);
    expect(sample("xavierNormal", 200, 50).std).toBeCloseTo(Math.sqrt(2 / 250), 2);
    const he = sample("heUniform", 200, 50);
    expect(he.max).toBeLessThanOrEqual(Math.sqrt(6 / 200));
    expect(he.std).toBeCloseTo(Math.sqrt(2 / 200), 2); // uniform(±√(6/n)) has variance 2/n
    const xu = sample("xavierUniform", 200, 50);
    expect(xu.max).toBeLessThanOrEqual(Math.sqrt(6 / 250));
    expect(Math.abs(sample("heNormal", 200, 50).mean)).toBeLessThan(0.003);
    expect(sample("zeros", 3, 3).max).toBe(0);
  });

  it("the same seed gives the same weights; another seed, other weights", () => {
    expect(sample("heNormal", 10, 10, 1).out).toEqual(sample("heNormal", 10, 10, 1).out);
    expect(sample("heNormal", 10, 10, 1).out).not.toEqual(sample("heNormal", 10, 10, 2).out);
  });

  it("the uniform initialisers' bulk fill draws exactly the numbers uniform() gives one by one, and leaves the generator where they would", () => {
    const [bulk, single] = [new Random(42), new Random(42)];
    const out = new Float32Array(10_001);
    bulk.fillSymmetric(out, 0.3);
    const reference = Float32Array.from({ length: out.length }, () => 0.3 * (2 * single.uniform() - 1));
    expect(out).toEqual(reference);
    expect(bulk.nextUint32()).toBe(single.nextUint32());
  });

  it("Dense picks He for ReLU and Xavier otherwise", () => {
    const std = (m: Sequential) => {
      const w = m.parameters()[0].data();
      return Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    };
    expect(std(new Sequential([new Dense(100, { activation: "relu" })], { inputShape: [400] }))).toBeCloseTo(Math.sqrt(2 / 400), 2);
    expect(std(new Sequential([new Dense(100, { activation: "tanh" })], { inputShape: [400] }))).toBeCloseTo(Math.sqrt(2 / 500), 2);
  });
});

describe("dropout", () => {
  it("drops about `rate` of its inputs while training, scales the rest by 1/(1 − rate), and is the identity otherwise", () => {
    const model = new Sequential([new Dropout(0.25)], { inputShape: [4000], seed: 5 });
    const x = tensor(new Float32Array(4000).fill(1), { shape: [1, 4000], requiresGrad: true });
    const y = model.forward(x, { training: true });
    const v = y.data();
    const dropped = v.filter((e) => e === 0).length / v.length;
    expect(dropped).toBeGreaterThan(0.22);
    expect(dropped).toBeLessThan(0.28);
    expect(v.every((e) => e === 0 || Math.abs(e - 4 / 3) < 1e-6)).toBe(true);
    y.sum().backward();
    expect(Array.from(x.grad!.data())).toEqual(Array.from(v)); // ∂y/∂x = mask/keep = y here
    expect(model.forward(x)).toBe(x);
  });

  it("draws the same masks from the same seed", () => {
    const masks = (seed: number) => {
      const m = new Sequential([new Dropout(0.5)], { inputShape: [64], seed });
      const x = tensor(new Float32Array(64).fill(1), { shape: [1, 64] });
      return [m.forward(x, { training: true }).data(), m.forward(x, { training: true }).data()];
    };
    expect(masks(9)).toEqual(masks(9));
    expect(masks(9)[0]).not.toEqual(masks(9)[1]);
    expect(masks(9)[0]).not.toEqual(masks(10)[0]);
  });
});

describe("Sequential", () => {
  it("builds from the input shape, names its layers and summarises them", () => {
    const model = new Sequential([new Flatten(), new Dense(8, { activation: "relu" }), new Dropout(0.1), new Dense(3)], { inputShape: [2, 5] });
    expect(model.outputShape).toEqual([3]);
    expect(model.parameters().map((p) => p.name)).toEqual(["dense_1.weight", "dense_1.bias", "dense_2.weight", "dense_2.bias"]);
    expect(model.summary().split("\n")).toEqual([
      "layer      type              output shape  params",
      "flatten_1  Flatten           [batch, 10]        0",
      "dense_1    Dense relu        [batch, 8]        88",
      "dropout_1  Dropout rate 0.1  [batch, 8]         0",
      "dense_2    Dense linear      [batch, 3]        27",
      "total parameters: 115 (0 KiB)",
    ]);
    expect(model.forward(tensor(new Float32Array(20), { shape: [2, 2, 5] })).shape).toEqual([2, 3]);
  });

  it("refuses inputs of the wrong shape; Dense works over the last axis of longer samples", () => {
    const model = new Sequential([new Dense(2)], { inputShape: [3] });
    expect(() => model.forward(tensor([[1, 2]]))).toThrow(/expected a batch of shape \[batch, 3\], got \[1, 2\]/);
    expect(new Sequential([new Dense(2)], { inputShape: [4, 3] }).outputShape).toEqual([4, 2]); // as Keras: every step of a sequence
    expect(() => new Sequential([new Dense(2)], { inputShape: [] })).toThrow(/expects inputs of shape \[\.\.\., features\]/);
    expect(() => new Dense(0)).toThrow(/units must be a positive integer/);
    expect(() => new Dense(3, { activation: "mish" as never })).toThrow(/activation must be one of .*got "mish"/);
  });
});

describe("engines", () => {
  it("a model keeps its parameters in the engine it is given, and refuses tensors from another", async () => {
    const mine = await init({ build: "simd" });
    const other = await init({ build: "simd" });
    const model = new Sequential([new Dense(2)], { inputShape: [3], engine: mine });
    expect(model.parameters().every((p) => p.engine === mine)).toBe(true);
    expect(() => model.forward(tensor([[1, 2, 3]], { engine: other }))).toThrow(/dense: the two tensors live in different engines' memory/);
    expect(model.forward(tensor([[1, 2, 3]], { engine: mine })).shape).toEqual([1, 2]);
  });
});
