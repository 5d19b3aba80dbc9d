// Training over any model: fit yields to the event loop, callbacks stop it, EarlyStopping restores
// the best weights, schedules follow their closed forms, metrics match hand counts,
// validationSplit holds out the last samples.
import { beforeAll, describe, expect, it } from "vitest";
import {
  Adam, Dense, EarlyStopping, type Engine, Model, SGD, Sequential, type Tensor, ArgumentError, crossEntropy,
  binaryAccuracy, categoricalAccuracy, confusionMatrix, cosineDecay, exponentialDecay, init, stepDecay, tensor,
  topKAccuracy,
} from "../src/index.js";

let engine: Engine;
let x: Tensor;
let y: Tensor;
beforeAll(async () => {
  engine = await init();
  x = tensor(Float32Array.from({ length: 200 * 2 }, (_, i) => Math.sin(i * 12.9898) * 2), { shape: [200, 2] });
  const v = x.data();
  y = tensor(Float32Array.from({ length: 200 }, (_, i) => (v[2 * i] * v[2 * i + 1] > 0 ? 1 : 0)));
});

const model = (seed = 1) => {
  const m = new Sequential([new Dense(16, { activation: "tanh" }), new Dense(2)], { inputShape: [2], seed });
  m.compile({ loss: "crossEntropy", optimizer: new Adam(m.parameters(), { lr: 0.02 }) });
  return m;
};

describe("fit", () => {
  it("yields: a timer set before training fires while it runs", async () => {
    const m = model();
    let fired = false;
    let batchesAfterTimer = 0;
    setTimeout(() => (fired = true), 0);
    await m.fit(x, y, {
      epochs: 20, batchSize: 4, verbose: false, yieldEvery: 0,
      callbacks: { onBatchEnd: () => void (fired && batchesAfterTimer++) },
    });
    expect(fired).toBe(true);
    expect(batchesAfterTimer).toBeGreaterThan(0); // training went on after the timer ran
  });

  it("await fit and fitSync give bit-identical weights", async () => {
    const a = model(3), b = model(3);
    await a.fit(x, y, { epochs: 3, batchSize: 16, verbose: false });
    b.fitSync(x, y, { epochs: 3, batchSize: 16, verbose: false });
    expect(a.getWeights()).toEqual(b.getWeights());
  });

  it("a callback stops training after the step under way; fitSync refuses asynchronous callbacks", async () => {
    const m = model();
    const optimizer = new SGD(m.parameters(), { lr: 0.1 });
    m.compile({ loss: "crossEntropy", optimizer });
    const history = m.fitSync(x, y, {
      epochs: 5, batchSize: 20, verbose: false,
      callbacks: { onBatchEnd: (batch, _logs, context) => batch === 3 && context.stop() },
    });
    expect(optimizer.steps).toBe(4);
    expect(history.epochs).toHaveLength(1);
    expect(() => m.fitSync(x, y, { verbose: false, callbacks: { onEpochEnd: async () => {} } })).toThrow(/use await model.fit/);
    // And an async callback is awaited by fit.
    const order: string[] = [];
    await m.fit(x, y, {
      epochs: 2, verbose: false,
      callbacks: { onEpochEnd: async (logs) => { await new Promise((r) => setTimeout(r, 5)); order.push(`end ${logs.epoch}`); }, onEpochBegin: (e) => void order.push(`begin ${e}`) },
    });
    expect(order).toEqual(["begin 1", "end 1", "begin 2", "end 2"]);
  });

  it("a diverging loss stops before the step that would corrupt the weights", async () => {
    const m = new Sequential([new Dense(2)], { inputShape: [2], seed: 1 });
    m.compile({ loss: "mse", optimizer: new SGD(m.parameters(), { lr: 1e18 }) });
    const target = tensor(Float32Array.from({ length: 400 }, () => 1e18), { shape: [200, 2] });
    await expect(m.fit(x, target, { epochs: 3, batchSize: 50, verbose: false })).rejects.toThrow(/the loss became/);
    expect(m.getWeights().every((w) => w.every(Number.isFinite))).toBe(true);
  });

  it("validationSplit holds out the last samples and evaluates on them", () => {
    const m = model(5);
    const history = m.fitSync(x, y, { epochs: 2, batchSize: 16, validationSplit: 0.25, verbose: false, shuffle: false });
    const last = history.epochs[1];
    const heldX = tensor(x.data().subarray(300, 400), { shape: [50, 2] });
    const heldY = tensor(y.data().subarray(150));
    const v = m.evaluate(heldX, heldY);
    expect(last.valLoss).toBe(v.loss);
    expect(last.valAccuracy).toBe(v.accuracy);
    expect(last.samplesPerSecond).toBeGreaterThan(0);
    expect(() => m.fitSync(x, y, { validationSplit: 1, verbose: false })).toThrow(ArgumentError);
  });

  it("trains a two-input Model through compile and fit", async () => {
    class Pair extends Model {
      a = new Dense(8, { activation: "tanh" });
      b = new Dense(8, { activation: "tanh" });
      out = new Dense(2);
      forward(u: Tensor, v: Tensor) {
        return this.out.call(this.a.call(u).add(this.b.call(v)));
      }
    }
    const m = new Pair({ seed: 2 });
    const first = tensor(x.data().filter((_, i) => i % 2 === 0), { shape: [200, 1] });
    const second = tensor(x.data().filter((_, i) => i % 2 === 1), { shape: [200, 1] });
    m.build([1], [1]);
    m.compile({ loss: "crossEntropy", optimizer: new Adam(m.parameters(), { lr: 0.03 }), metrics: ["accuracy", topKAccuracy(1)] });
    const history = await m.fit([first, second], y, { epochs: 60, batchSize: 20, verbose: false });
    const end = history.epochs.at(-1)!;
    expect(end.accuracy).toBeGreaterThan(0.9);
    expect(end.top1Accuracy).toBe(end.accuracy);
    expect(m.predict([first, second]).shape).toEqual([200, 2]);
  });
});

describe("gradient health", () => {
  it("fit records every layer's gradient norm every N steps, equal to the norms computed by hand", async () => {
    const m = model(4);
    const history = await m.fit(x, y, { epochs: 2, batchSize: 40, gradientNorms: 3, verbose: false, shuffle: false });
    expect(history.gradientNorms!.map((r) => [r.step, r.epoch])).toEqual([[0, 1], [3, 1], [6, 2], [9, 2]]);
    expect(Object.keys(history.gradientNorms![0].layers)).toEqual(["dense_1", "dense_2"]);
    // The first record, by hand: the gradients of the first batch at the initial weights.
    const fresh = model(4);
    const xb = tensor(x.data().subarray(0, 80), { shape: [40, 2] }), yb = tensor(y.data().subarray(0, 40));
    crossEntropy(fresh.forward(xb, { training: true }), yb).backward();
    const [w1, b1] = fresh.parameters();
    const byHand = Math.sqrt([...w1.grad!.data(), ...b1.grad!.data()].reduce((s, g) => s + g * g, 0));
    expect(history.gradientNorms![0].layers.dense_1).toBeCloseTo(byHand, 5);
    expect((await model(4).fit(x, y, { verbose: false })).gradientNorms).toBeUndefined();
  });
});

describe("EarlyStopping", () => {
  it("stops after `patience` epochs without improvement and puts back the best epoch's weights", async () => {
    const m = model(7);
    const seen: Float32Array[][] = [];
    // Loss falls every epoch, so in "max" mode no epoch after the first improves.
    const stopper = new EarlyStopping({ monitor: "loss", mode: "max", patience: 2, restoreBestWeights: true });
    const history = await m.fit(x, y, {
      epochs: 10, batchSize: 20, verbose: false,
      callbacks: [{ onEpochEnd: () => void seen.push(m.getWeights()) }, stopper],
    });
    expect(history.epochs).toHaveLength(3);
    expect(stopper.stoppedEpoch).toBe(3);
    expect(stopper.bestEpoch).toBe(1);
    expect(m.getWeights()).toEqual(seen[0]);
    expect(m.getWeights()).not.toEqual(seen[2]);
  });

  it("follows the monitored value with minDelta, and says when the log is missing", async () => {
    const m = model(8);
    const stopper = new EarlyStopping({ monitor: "loss", minDelta: 10, patience: 0 }); // no drop of 10: stops at once
    const history = await m.fit(x, y, { epochs: 5, verbose: false, callbacks: [stopper] });
    expect(history.epochs).toHaveLength(2);
    await expect(m.fit(x, y, { epochs: 2, verbose: false, callbacks: [new EarlyStopping()] })).rejects.toThrow(/no "valLoss" in the epoch's logs/);
    expect(new EarlyStopping({ monitor: "valAccuracy" }).mode).toBe("max");
  });
});

describe("learning-rate schedules", () => {
  it("match their closed forms", () => {
    const step = stepDecay({ initial: 0.1, factor: 0.5, every: 10 });
    expect([0, 9, 10, 25].map(step)).toEqual([0.1, 0.1, 0.05, 0.025]);
    const exp = exponentialDecay({ initial: 1, rate: 0.5, steps: 4 });
    for (const s of [0, 1, 2, 4, 7]) expect(exp(s)).toBeCloseTo(0.5 ** (s / 4), 15);
    expect(exponentialDecay({ initial: 1, rate: 0.5, steps: 4, staircase: true })(7)).toBe(0.5);
    const cos = cosineDecay({ initial: 1, steps: 110, warmup: 10, min: 0.1 });
    expect(cos(0)).toBeCloseTo(1 / 11, 15);
    expect(cos(9)).toBeCloseTo(10 / 11, 15);
    expect(cos(10)).toBe(1);
    expect(cos(60)).toBeCloseTo(0.1 + 0.9 * 0.5, 15);
    expect(cos(110)).toBeCloseTo(0.1, 15);
    expect(cos(500)).toBeCloseTo(0.1, 15);
    expect(() => step(-1)).toThrow(ArgumentError);
    expect(() => cosineDecay({ initial: 1, steps: 10, warmup: 10 })).toThrow(/warmup must be an integer in \[0, 10\)/);
  });

  it("fit applies a schedule before every update", async () => {
    const m = model();
    const lrs: number[] = [];
    const schedule = stepDecay({ initial: 0.04, factor: 0.5, every: 3 });
    await m.fit(x, y, { epochs: 1, batchSize: 25, verbose: false, schedule, callbacks: { onBatchEnd: (_, logs) => void lrs.push(logs.lr) } });
    expect(lrs).toEqual([0.04, 0.04, 0.04, 0.02, 0.02, 0.02, 0.01, 0.01]);
  });
});

describe("metrics", () => {
  it("count what a hand count gives", () => {
    const scores = tensor([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6], [0.3, 0.4, 0.3]]);
    const labels = tensor([1, 2, 2, 0]);
    expect(categoricalAccuracy.correct(scores, labels)).toBe(2); // rows 0 and 2
    expect(categoricalAccuracy.correct(scores, tensor([[0, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 0]]))).toBe(4);
    expect(topKAccuracy(2).correct(scores, labels)).toBe(3); // row 1's 2 is third; row 3's 0 ties second
    expect(binaryAccuracy.correct(tensor([[2], [-1], [0.5], [-3]]), tensor([[1], [1], [1], [0]]))).toBe(3);
    expect(confusionMatrix(scores, labels)).toEqual([[0, 1, 0], [0, 1, 0], [1, 0, 1]]);
    expect(() => confusionMatrix(scores, [1, 2, 3, 0])).toThrow(/label 3 at 2 is not a class index in \[0, 3\)/);
  });

  it("binary accuracy for binaryCrossEntropy, from the logits", () => {
    const m = new Sequential([new Dense(1, { kernelInitializer: (o) => o.fill(1) })], { inputShape: [2] });
    m.compile({ loss: "binaryCrossEntropy", optimizer: new SGD(m.parameters(), { lr: 0 }), metrics: ["accuracy"] });
    const r = m.evaluate(tensor([[1, 1], [-1, -1], [1, -2]]), tensor([[1], [1], [0]]));
    expect(r.accuracy).toBeCloseTo(2 / 3, 7);
  });
});
