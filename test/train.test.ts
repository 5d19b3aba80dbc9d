import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  Adam, ArgumentError, Dense, DisposedError, type Engine, SGD, Sequential, ShapeError, init, noGrad, tensor, withArena,
} from "../src/index.js";
import { rng } from "./helpers.js";

let engine: Engine;
beforeAll(async () => {
  engine = await init();
});
afterEach(() => vi.restoreAllMocks());

/** Three Gaussian blobs in the plane: a small, real classification problem. */
function blobs(n: number, seed: number) {
  const random = rng(seed);
  const centres = [[-2, 0], [2, 0], [0, 2.5]];
  const x = new Float32Array(n * 2);
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    const r = Math.sqrt(-2 * Math.log(1 - random())) * 0.6;
    const a = 2 * Math.PI * random();
    x[2 * i] = centres[c][0] + r * Math.cos(a);
    x[2 * i + 1] = centres[c][1] + r * Math.sin(a);
    y.push(c);
  }
  return { x: tensor(x, { shape: [n, 2] }), y: tensor(y) };
}

function model(seed = 1) {
  const m = new Sequential([new Dense(16, { activation: "tanh" }), new Dense(3)], { inputShape: [2], seed });
  m.compile({ loss: "crossEntropy", optimizer: new Adam(m.parameters(), { lr: 0.01 }) });
  return m;
}

describe("fit, evaluate, predict", () => {
  it("learns to separate three blobs, and reports loss and accuracy per epoch", () => {
    const train = blobs(300, 1);
    const test = blobs(150, 2);
    const m = model();
    const seen: number[] = [];
    const history = m.fitSync(train.x, train.y, {
      epochs: 20, batchSize: 16, validationData: [test.x, test.y], verbose: false,
      callbacks: { onEpochEnd: (logs) => seen.push(logs.epoch) },
    });
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const first = history.epochs[0];
    const last = history.epochs[19];
    expect(last.loss).toBeLessThan(first.loss / 3);
    expect(last.accuracy).toBeGreaterThan(0.95);
    expect(last.valAccuracy).toBeGreaterThan(0.95);
    expect(last.samplesPerSecond).toBeGreaterThan(0);
    const evaluated = m.evaluate(test.x, test.y, { batchSize: 7 });
    expect(evaluated.accuracy).toBe(last.valAccuracy);
    expect(evaluated.loss).toBeCloseTo(last.valLoss!, 6);
  });

  it("predict gives the model's outputs for every sample, batch size regardless", () => {
    const { x } = blobs(50, 3);
    const m = model();
    const whole = noGrad(() => m.forward(x)).data();
    expect(Array.from(m.predict(x, { batchSize: 8 }).data())).toEqual(Array.from(whole));
    expect(m.predict(x).shape).toEqual([50, 3]);
  });

  it("gives bit-identical weights for the same seeds, and different ones for another", () => {
    const { x, y } = blobs(120, 4);
    const train = (fitSeed: number) => {
      const m = model(7);
      m.fitSync(x, y, { epochs: 3, batchSize: 10, seed: fitSeed, verbose: false });
      return m.parameters().map((p) => Array.from(new Uint32Array(p.data().buffer)));
    };
    expect(train(5)).toEqual(train(5));
    expect(train(5)).not.toEqual(train(6));
  });

  it("allocates nothing after the first epoch: memory stays flat over 10,000 steps", () => {
    const { x, y } = blobs(200, 5);
    const m = model();
    const stats: ReturnType<typeof engine.memory.stats>[] = [];
    m.fitSync(x, y, {
      epochs: 100, batchSize: 2, verbose: false, validationData: [x, y],
      callbacks: { onEpochEnd: () => stats.push(engine.memory.stats()) },
    });
    const after1 = stats[0];
    const after100 = stats[99];
    expect(after100.capacityBytes).toBe(after1.capacityBytes);
    expect(after100.persistentBytes).toBe(after1.persistentBytes);
    expect(after100.arenaReservedBytes).toBe(after1.arenaReservedBytes);
    expect(after100.peakBytes).toBe(after1.peakBytes);
    expect(after100.arenaBytes).toBe(0);
  });

  it("draws a progress bar only on a terminal", () => {
    const { x, y } = blobs(30, 6);
    const write = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const tty = process.stderr.isTTY;
    try {
      process.stderr.isTTY = false;
      model().fitSync(x, y, { epochs: 1, batchSize: 10 });
      expect(write).not.toHaveBeenCalled();
      process.stderr.isTTY = true;
      model().fitSync(x, y, { epochs: 1, batchSize: 10, verbose: false });
      expect(write).not.toHaveBeenCalled();
      model().fitSync(x, y, { epochs: 1, batchSize: 10 });
      expect(write.mock.calls.map((c) => String(c[0])).join("")).toMatch(/epoch 1\/1 \[=+\] 30\/30 loss \d\.\d{4}/);
    } finally {
      process.stderr.isTTY = tty;
    }
  });

  it("refuses bad data and settings with errors that say what is wrong", () => {
    const { x, y } = blobs(30, 7);
    const m = model();
    expect(() => m.fitSync(x, tensor([0, 1]), { verbose: false })).toThrow(ShapeError);
    expect(() => m.fitSync(x, tensor([0, 1]), { verbose: false })).toThrow(/one row per sample \(30\), got shape \[2\]/);
    expect(() => m.fitSync(tensor([[1, 2, 3]]), y, { verbose: false })).toThrow(/x must have shape \[samples, 2\], got \[1, 3\]/);
    expect(() => m.fitSync(tensor([[1, Number.NaN]]), tensor([0]), { verbose: false })).toThrow(/x holds NaN at element 1 \(sample 0\)/);
    expect(() => m.fitSync(x, tensor(new Array(30).fill(5)), { verbose: false })).toThrow(/label 5 at row 0 is not a class index in \[0, 3\)/);
    expect(() => m.fitSync(x, y, { batchSize: 0 })).toThrow(/batchSize must be a positive integer, got 0/);
    const fresh = new Sequential([new Dense(3)], { inputShape: [2] });
    expect(() => fresh.fitSync(x, y)).toThrow(/call model.compile/);
    expect(() => fresh.compile({ loss: "hinge" as never, optimizer: new SGD(fresh.parameters(), { lr: 1 }) })).toThrow(/loss must be one of .*got "hinge"/);
    fresh.compile({ loss: "mse", optimizer: new SGD(fresh.parameters(), { lr: 1e30 }) });
    const targets = tensor(new Float32Array(90).fill(1e20), { shape: [30, 3] });
    expect(() => fresh.fitSync(x, targets, { verbose: false })).toThrow(/the loss became (Infinity|NaN) at epoch 1, batch \d+/);
    // The step that found it updated nothing: the weights are those of the last good step.
    for (const p of fresh.parameters()) expect(p.data().every(Number.isFinite)).toBe(true);
  });
});

describe("withArena", () => {
  it("frees every tensor made inside at once; using one afterwards throws DisposedError", () => {
    const before = engine.memory.stats().bytesInUse;
    let kept: ReturnType<typeof tensor> | null = null;
    const total = withArena(() => {
      kept = tensor([1, 2, 3]).mul(2);
      expect(engine.memory.stats().arenaBytes).toBeGreaterThan(0);
      return kept.sum().item();
    });
    expect(total).toBe(12);
    expect(engine.memory.stats().bytesInUse).toBe(before);
    expect(() => kept!.data()).toThrow(DisposedError);
    expect(() => kept!.data()).toThrow(/freed when the withArena\(\) scope that made it ended/);
  });

  it("keeps parameters' gradients outside the arena", () => {
    const w = tensor([1, 2], { requiresGrad: true });
    withArena(() => w.mul(3).sum().backward());
    expect(Array.from(w.grad!.data())).toEqual([3, 3]);
  });

  it("refuses to hand a tensor out of the scope", () => {
    expect(() => withArena(() => tensor([1]))).toThrow(ArgumentError);
  });
});
