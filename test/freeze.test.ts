// Transfer learning's controls: freeze()/unfreeze() by parameter-name glob and per-module
// `trainable` (frozen parameters take no gradient, hold no gradient buffer, get no optimiser state
// and do not move; a frozen BatchNorm keeps its running statistics in training mode), and
// optimiser parameter groups (a learning rate and weight decay per group, moving with the schedule).
import { beforeAll, describe, expect, it } from "vitest";
import { Adam, ArgumentError, BatchNorm, Dense, SGD, Sequential, init, tensor, weightDecayGroups } from "../src/index.js";

beforeAll(async () => {
  await init();
});

const net = () => new Sequential([new Dense(4, { activation: "tanh" }), new BatchNorm(), new Dense(3)], { inputShape: [2], seed: 3 });
const x = () => tensor([[0.5, -1], [1, 2], [-0.3, 0.7], [2, -2]]);
const y = () => tensor([0, 1, 2, 1]);

describe("freeze", () => {
  it("by glob: frozen parameters stay parameters, take no gradient, hold no buffer and do not move; unfreeze brings them back", async () => {
    const m = net();
    expect(m.freeze("dense_1.*")).toEqual(["dense_1.weight", "dense_1.bias"]);
    expect(m.namedParameters().map(([n]) => n)).toEqual(["dense_1.weight", "dense_1.bias", "batchnorm_1.gamma", "batchnorm_1.beta", "dense_2.weight", "dense_2.bias"]);
    expect(m.trainableParameters().length).toBe(4);
    const optimizer = new Adam(m.parameters(), { lr: 0.05 });
    m.compile({ loss: "crossEntropy", optimizer });
    const frozen = m.namedParameters().slice(0, 2).map(([, t]) => Array.from(t.data()));
    const trained = Array.from(m.namedParameters()[4][1].data());
    await m.fit(x(), y(), { epochs: 3, batchSize: 2, verbose: false });
    const [w, b] = m.namedParameters().slice(0, 2).map(([, t]) => t);
    expect([Array.from(w.data()), Array.from(b.data())]).toEqual(frozen);
    expect(w.grad).toBeNull();
    expect(Object.keys(optimizer.stateDict(m).state)).not.toContain("dense_1.weight");
    expect(Array.from(m.namedParameters()[4][1].data())).not.toEqual(trained);
    // Unfrozen, the same optimiser trains them again.
    expect(m.unfreeze("dense_1.*")).toEqual(["dense_1.weight", "dense_1.bias"]);
    await m.fit(x(), y(), { epochs: 1, batchSize: 2, verbose: false });
    expect(Array.from(w.data())).not.toEqual(frozen[0]);
  });

  it("per module: trainable false freezes every parameter below it, and a frozen BatchNorm keeps its running statistics in training mode", () => {
    const m = net();
    const bn = m.layers[1] as BatchNorm;
    expect(bn.trainable).toBe(true);
    bn.trainable = false;
    expect(bn.trainable).toBe(false);
    expect(m.trainable).toBe(false);
    const running = Array.from(bn.movingMean!.data());
    m.train();
    const out = m.call(x()).data();
    expect(Array.from(bn.movingMean!.data())).toEqual(running); // no update: inference statistics
    m.eval();
    expect(Array.from(m.call(x()).data())).toEqual(Array.from(out)); // the same as inference (no dropout here)
    bn.trainable = true;
    m.train();
    m.call(x());
    expect(Array.from(bn.movingMean!.data())).not.toEqual(running);
  });

  it("a pattern that freezes nothing, or a bad one, is an ArgumentError and nothing changes", () => {
    const m = net();
    expect(() => m.freeze("encoder.*")).toThrow(ArgumentError);
    expect(() => m.freeze("encoder.*")).toThrow(/"encoder\.\*" matches no parameter, so nothing changed \(they are dense_1\.weight/);
    expect(() => m.freeze([])).toThrow(/pattern must be a glob/);
    expect(() => m.freeze(7 as never)).toThrow(/pattern must be a glob/);
    expect(() => { m.trainable = "no" as never; }).toThrow(/trainable must be true or false/);
    expect(m.trainableParameters().length).toBe(6);
    expect(m.freeze(["*.bias", "dense_2.weight"])).toEqual(["dense_1.bias", "dense_2.weight", "dense_2.bias"]);
    expect(m.freeze("dense_?.weight")).toEqual(["dense_1.weight", "dense_2.weight"]);
  });
});

describe("optimiser parameter groups", () => {
  it("each group steps at its own rate and decay; a schedule scales them all", () => {
    const a = tensor([1, 1], { requiresGrad: true }), b = tensor([1, 1], { requiresGrad: true });
    const sgd = new SGD([{ params: [a], lr: 0.1 }, { params: [b], lr: 0.01, weightDecay: 1 }], { lr: 0.1 });
    const stepWith = (g: number[]) => {
      a.grad = tensor(g);
      b.grad = tensor(g);
      sgd.step();
    };
    stepWith([1, 2]);
    expect(Array.from(a.data())).toEqual([Math.fround(1 - 0.1), Math.fround(1 - 0.2)]);
    // b: gradient plus the decay term (w·1), at 0.01
    expect(Array.from(b.data())).toEqual([Math.fround(1 - 0.01 * 2), Math.fround(1 - 0.01 * 3)]);
    sgd.lr = 0.05; // half: every group's rate halves
    const [a0, b0] = [Array.from(a.data()), Array.from(b.data())];
    stepWith([1, 1]);
    expect(a.data()[0]).toBeCloseTo(a0[0] - 0.05, 6);
    expect(b.data()[0]).toBeCloseTo(b0[0] - 0.005 * (1 + b0[0]), 6);
    expect(() => new SGD([{ params: [a], lr: -1 }], { lr: 0.1 })).toThrow(/group 0: lr must be a finite number ≥ 0/);
    expect(() => new SGD([{ params: [] }], { lr: 0.1 })).toThrow(/group 0 has no parameters/);
    expect(() => new SGD([{ params: [a] }, b] as never, { lr: 0.1 })).toThrow(/not a mix/);
  });

  it("weightDecayGroups: matrices decay, biases and norms' scales and shifts do not", () => {
    const m = net();
    const [decayed, plain] = weightDecayGroups(m, 0.01);
    const names = new Map(m.namedParameters().map(([n, t]) => [t, n]));
    expect(decayed.params.map((t) => names.get(t))).toEqual(["dense_1.weight", "dense_2.weight"]);
    expect(plain.params.map((t) => names.get(t))).toEqual(["dense_1.bias", "batchnorm_1.gamma", "batchnorm_1.beta", "dense_2.bias"]);
    expect([decayed.weightDecay, plain.weightDecay]).toEqual([0.01, 0]);
    expect(() => new Adam(weightDecayGroups(m, 0.01), { lr: 1e-3 })).not.toThrow();
  });
});
