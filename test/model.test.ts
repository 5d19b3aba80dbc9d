// The model API: Models with forward() of their own (residuals, two inputs, shared layers), named
// parameters and buffers, stateDict round trips, train/eval, and tensor writes and reads.
import { beforeAll, describe, expect, it } from "vitest";
import {
  Adam, Dense, Dropout, type Engine, Model, Sequential, ShapeError, StateDictError, type Tensor, ArgumentError,
  batches, crossEntropy, gradcheck, init, mse, noGrad, tensor, zeros,
} from "../src/index.js";
import { randomArray, rng } from "./helpers.js";

let engine: Engine;
beforeAll(async () => {
  engine = await init();
});

/** y = out(x + inner(x)): a residual block. */
class Residual extends Model {
  inner = new Dense(4, { activation: "tanh" });
  out = new Dense(3);
  forward(x: Tensor) {
    return this.out.call(x.add(this.inner.call(x)));
  }
}

/** Two inputs, one shared layer used on both, a nested Sequential. */
class TwoTowers extends Model {
  shared = new Dense(5, { activation: "relu" });
  head = new Sequential([new Dense(4, { activation: "tanh" }), new Dropout(0.5), new Dense(1)], { inputShape: [5], seed: 3 });
  forward(a: Tensor, b: Tensor) {
    return this.head.forward(this.shared.call(a).add(this.shared.call(b)), { training: this.training });
  }
}

let xs: Tensor;
let labels: Tensor;
beforeAll(() => {
  xs = tensor(Float32Array.from({ length: 32 * 4 }, (_, i) => Math.sin(i * 0.7)), { shape: [32, 4] });
  labels = tensor(Float32Array.from({ length: 32 }, (_, i) => i % 3));
});

describe("Model", () => {
  it("a residual model builds from its seed, names its parameters by field and trains", () => {
    const model = new Residual({ seed: 7 });
    expect(model.parameters()).toEqual([]); // built on the first call
    model.call(zeros([1, 4])).dispose();
    expect(model.namedParameters().map(([n, t]) => [n, t.shape])).toEqual([
      ["inner.weight", [4, 4]], ["inner.bias", [4]], ["out.weight", [4, 3]], ["out.bias", [3]],
    ]);
    expect(model.inner.name).toBe("inner");
    const again = new Residual({ seed: 7 }).build([4]);
    expect(again.getWeights()).toEqual(model.getWeights()); // same seed, same weights
    const optimizer = new Adam(model.parameters(), { lr: 0.05 });
    let first = 0, last = 0;
    for (let epoch = 0; epoch < 60; epoch++) {
      for (const [xb, yb] of batches(xs, labels, { batchSize: 8 })) {
        optimizer.zeroGrad();
        const loss = crossEntropy(model.call(xb), yb);
        loss.backward();
        optimizer.step();
        if (epoch === 0 && first === 0) first = loss.item();
        last = loss.item();
      }
    }
    expect(last).toBeLessThan(first / 3);
  });

  it("a model first called without a graph (inference) keeps the parameters its layers built", () => {
    const model = new Residual({ seed: 3 });
    const y = noGrad(() => model.call(xs));
    expect(y.shape).toEqual([32, 3]);
    expect(model.parameters().map((p) => p.isDisposed)).toEqual([false, false, false, false]);
    expect(model.call(xs).data()).toEqual(y.data());
  });

  it("the residual model's gradients match finite differences", () => {
    const model = new Residual({ seed: 1 }).build([4]);
    const x = xs.reshape([32, 4]);
    const report = gradcheck(() => model.call(x), model.parameters());
    expect(report.ok).toBe(true);
  });

  it("two inputs and a layer shared between them: its parameters once, its gradient summed over both uses", () => {
    const model = new TwoTowers({ seed: 2 }).build([3], [3]);
    const names = model.namedParameters().map(([n]) => n);
    expect(names).toEqual([
      "shared.weight", "shared.bias",
      "head.dense_1.weight", "head.dense_1.bias", "head.dense_2.weight", "head.dense_2.bias",
    ]);
    expect(model.namedBuffers().map(([n]) => n)).toEqual(["head.dropout_1.state"]);
    const a = tensor([[1, 0, -1], [0.5, 0.5, 0.5]]);
    const b = tensor([[0, 2, 1], [-1, 0.25, 0]]);
    const report = gradcheck(() => model.call(a, b), model.parameters());
    expect(report.ok).toBe(true);
    // Trains on a target that needs both inputs.
    const target = tensor([[1], [-1]]);
    const optimizer = new Adam(model.parameters(), { lr: 0.02 });
    model.train();
    let loss = 0;
    for (let i = 0; i < 200; i++) {
      optimizer.zeroGrad();
      const l = mse(model.call(a, b), target);
      l.backward();
      optimizer.step();
      loss = l.item();
    }
    model.eval();
    expect(mse(model.call(a, b), target).item()).toBeLessThan(0.05);
    expect(loss).toBeGreaterThan(0); // trained with dropout on
  });

  it("train() and eval() switch dropout for every module below", () => {
    const model = new TwoTowers({ seed: 4 }).build([3], [3]);
    const a = tensor([[1, 2, 3]]), b = tensor([[3, 2, 1]]);
    const inference = model.call(a, b).item();
    expect(model.call(a, b).item()).toBe(inference);
    model.train();
    expect(model.head.training).toBe(true);
    const trained = Array.from({ length: 8 }, () => model.call(a, b).item());
    expect(trained.some((v) => v !== inference)).toBe(true);
    model.eval();
    expect(model.call(a, b).item()).toBe(inference);
  });
});

describe("tensors a forward() makes outside the graph", () => {
  // A position table sliced every call: data that needs no gradient, so no graph node owns the
  // slice. The model's call hands it (and the cached table) to the output's graph, freed with its
  // intermediates at the next step, so a loop that never yields stays flat without dispose().
  class Positions extends Model {
    dense = new Dense(2);
    #table: Tensor | null = null;
    forward(x: Tensor) {
      if (!this.#table || this.#table.isDisposed) this.#table = tensor(Float32Array.from({ length: 8 }, (_, i) => i / 8), { shape: [1, 8] });
      return this.dense.call(x.add(this.#table.slice([0, 0], [1, x.shape[1]])));
    }
  }

  it("go with the output's graph: bytes in use stay flat over 300 synchronous steps", () => {
    const model = new Positions({ seed: 1 }).build([4]);
    const optimizer = new Adam(model.parameters(), { lr: 0.01 });
    const x = tensor(randomArray(8, rng(3)), { shape: [2, 4] });
    const samples: number[] = [];
    for (let step = 0; step < 300; step++) {
      optimizer.zeroGrad();
      const loss = model.call(x).square().mean();
      loss.backward();
      optimizer.step();
      if (step >= 100 && step % 50 === 0) samples.push(engine.memory.stats().bytesInUse);
    }
    expect(new Set(samples).size).toBe(1);
  });

  it("a batch made with tensor() every step, never disposed, never yielding: bytes in use stay flat (its Wasm copy goes with the graph)", () => {
    const model = new Sequential([new Dense(8, { activation: "relu" }), new Dense(3)], { inputShape: [4], seed: 2 });
    const optimizer = new Adam(model.parameters(), { lr: 0.01 });
    const samples: number[] = [];
    for (let step = 0; step < 400; step++) {
      const x = tensor(randomArray(16 * 4, rng(step)), { shape: [16, 4] });
      const y = tensor(Float32Array.from({ length: 16 }, (_, i) => (i + step) % 3));
      optimizer.zeroGrad();
      const loss = crossEntropy(model.forward(x, { training: true }), y);
      loss.backward();
      optimizer.step();
      if (step >= 100 && step % 50 === 0) samples.push(engine.memory.stats().bytesInUse);
      // The batch stays readable after the step, from its JS values.
      if (step === 399) expect(x.data().length).toBe(64);
    }
    expect(new Set(samples).size).toBe(1);
  });

  it("are freed at once when the output has no graph (parameters that need no gradient)", () => {
    const model = new Positions({ seed: 1 }).build([4]);
    for (const p of model.parameters()) p.requiresGrad = false;
    const x = tensor(randomArray(8, rng(3)), { shape: [2, 4] });
    model.call(x).dispose();
    const before = engine.memory.stats().bytesInUse;
    for (let i = 0; i < 5; i++) model.call(x).dispose();
    expect(engine.memory.stats().bytesInUse).toBe(before);
  });
});

describe("stateDict", () => {
  it("round-trips into a fresh model: bit-identical predictions", () => {
    const trained = new Residual({ seed: 1 }).build([4]);
    trained.parameters().forEach((p, i) => p.set(Float32Array.from({ length: p.size }, (_, k) => Math.cos(i + k))));
    const fresh = new Residual({ seed: 99 }).build([4]);
    expect(fresh.call(xs).data()).not.toEqual(trained.call(xs).data());
    fresh.loadStateDict(trained.stateDict());
    expect(fresh.call(xs).data()).toEqual(trained.call(xs).data());
    expect(Object.keys(trained.stateDict())).toEqual(["inner.weight", "inner.bias", "out.weight", "out.bias"]);
  });

  it("a wrong shape, a missing or an unexpected name is a StateDictError naming each, and nothing changes", () => {
    const model = new Residual({ seed: 1 }).build([4]);
    const before = model.getWeights();
    const dict = { ...new Residual({ seed: 2 }).build([4]).stateDict() };
    const wrong = { ...dict, "out.weight": zeros([3, 4]) };
    expect(() => model.loadStateDict(wrong)).toThrow(StateDictError);
    expect(() => model.loadStateDict(wrong)).toThrow(/out.weight: shape \[3, 4\] in the dict, \[4, 3\] in the model/);
    const { "inner.bias": _, ...missing } = dict;
    expect(() => model.loadStateDict({ ...missing, extra: zeros([1]) })).toThrow(/missing: inner.bias; unexpected: extra/);
    expect(model.getWeights()).toEqual(before);
    // Not strict: what matches loads, the rest is skipped.
    model.loadStateDict({ ...missing, extra: zeros([1]) }, { strict: false });
    expect(model.stateDict()["inner.weight"].data()).toEqual(dict["inner.weight"].data());
    expect(model.stateDict()["inner.bias"].data()).toEqual(before[1]);
  });

  it("getWeights and setWeights in the stateDict's order, checked before any is written", () => {
    const model = new Sequential([new Dense(2), new Dropout(0.1), new Dense(1)], { inputShape: [3], seed: 1 });
    const weights = model.getWeights();
    expect(weights.map((w) => w.length)).toEqual([6, 2, 4, 2, 1]); // dense_1 W b, dropout_1 state, dense_2 W b
    const before = model.getWeights();
    expect(() => model.setWeights([...weights.slice(0, 4), new Float32Array(2)])).toThrow(/dense_2.bias needs 1 values/);
    expect(model.getWeights()).toEqual(before);
    model.setWeights(weights.map((w) => w.map((v) => v + 1)));
    expect(model.getWeights()[0]).toEqual(before[0].map((v) => v + 1));
  });
});

describe("tensor writes and reads", () => {
  it("set, copyFrom and toArray with shape checks", () => {
    const t = zeros([2, 3]);
    t.set([[1, 2, 3], [4, 5, 6]]);
    expect(t.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    t.set(new Float32Array([6, 5, 4, 3, 2, 1]));
    expect(t.toArray()).toEqual([[6, 5, 4], [3, 2, 1]]);
    expect(() => t.set([[1, 2], [3, 4], [5, 6]])).toThrow(ShapeError);
    expect(() => t.set([1, 2])).toThrow(/2 values for a tensor of shape \[2, 3\]/);
    expect(() => t.set([1, 2, 3, 4, 5, "6"] as never)).toThrow(ArgumentError);
    expect(t.toArray()).toEqual([[6, 5, 4], [3, 2, 1]]);
    const u = zeros([2, 3]).copyFrom(t);
    expect(u.toArray()).toEqual(t.toArray());
    expect(() => u.copyFrom(zeros([3, 2]))).toThrow(/copyFrom: shape \[3, 2\] into a tensor of shape \[2, 3\]/);
    expect(tensor(5).toArray()).toBe(5);
    expect(zeros([2, 0, 3]).toArray()).toEqual([[], []]);
    expect(tensor([[[1], [2]], [[3], [4]]]).toArray()).toEqual([[[1], [2]], [[3], [4]]]);
  });
});
