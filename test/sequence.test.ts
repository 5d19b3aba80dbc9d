// Sequence pieces: cross-entropy over rank-3 outputs with an ignore index, Dense over every step,
// Reshape, Permute, GlobalAveragePooling, and a small sequence model trained by fit.
import { beforeAll, describe, expect, it } from "vitest";
import {
  Adam, Dense, Embedding, GlobalAveragePooling, LSTM, Permute, Reshape, Sequential, crossEntropy, gradcheck, init, tensor,
} from "../src/index.js";
import { randomArray, rng } from "./helpers.js";

beforeAll(async () => {
  await init();
});

describe("cross-entropy over sequences", () => {
  it("is the mean over the tokens not ignored, and ignored tokens get no gradient", () => {
    const values = randomArray(2 * 3 * 4, rng(1)).map((v) => v * 3);
    const labels = [1, -100, 3, 0, 2, -100];
    const logits = tensor(values, { shape: [2, 3, 4], requiresGrad: true });
    const loss = crossEntropy(logits, tensor(labels, { shape: [2, 3] }), { ignoreIndex: -100 });
    let sum = 0, count = 0;
    labels.forEach((l, i) => {
      if (l === -100) return;
      const row = values.slice(i * 4, i * 4 + 4);
      const max = Math.max(...row);
      sum += max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0)) - row[l];
      count++;
    });
    expect(loss.item()).toBeCloseTo(sum / count, 5);
    loss.backward();
    const g = logits.grad!.data();
    for (const i of [1, 5]) expect(Array.from(g.slice(i * 4, i * 4 + 4))).toEqual([0, 0, 0, 0]);
    expect(gradcheck((t) => crossEntropy(t, labels, { ignoreIndex: -100 }), [tensor(values, { shape: [2, 3, 4], requiresGrad: true })]).ok).toBe(true);
    expect(() => crossEntropy(logits, [-100, -100, -100, -100, -100, -100], { ignoreIndex: -100 })).toThrow(/every position is ignored/);
    expect(() => crossEntropy(logits, [1, 2])).toThrow(/2 targets for 6 positions/);
  });
});

describe("layers for sequences", () => {
  it("Dense applies to every step; Reshape, Permute and GlobalAveragePooling move and pool", () => {
    const model = new Sequential([new Dense(3)], { inputShape: [4, 2], seed: 1 });
    expect(model.outputShape).toEqual([4, 3]);
    const x = tensor(randomArray(16, rng(2)), { shape: [2, 4, 2] });
    const whole = model.forward(x).data();
    const [w, b] = model.parameters().map((p) => p.data());
    const xs = x.data();
    for (let r = 0; r < 8; r++) for (let j = 0; j < 3; j++) {
      expect(whole[r * 3 + j]).toBeCloseTo(b[j] + xs[r * 2] * w[j] + xs[r * 2 + 1] * w[3 + j], 5);
    }
    expect(gradcheck(() => model.forward(x), model.parameters()).ok).toBe(true);
    const t = tensor(Array.from({ length: 24 }, (_, i) => i), { shape: [2, 3, 4] });
    expect(new Sequential([new Reshape([4, -1])], { inputShape: [3, 4] }).forward(t).shape).toEqual([2, 4, 3]);
    expect(new Sequential([new Permute([2, 1])], { inputShape: [3, 4] }).forward(t).toArray()).toEqual(t.transpose([0, 2, 1]).toArray());
    expect(new Sequential([new GlobalAveragePooling()], { inputShape: [3, 4] }).forward(t).toArray()).toEqual([[4, 5, 6, 7], [16, 17, 18, 19]]);
    expect(() => new Reshape([0])).toThrow(/positive sizes/);
    expect(() => new Permute([1, 3])).toThrow(/a permutation of 1 … 2/);
  });

  it("Embedding → LSTM → Dense over every step learns a sequence's next token with fit", async () => {
    // Sequences counting up modulo 5 from a random start: the next token is always the current + 1.
    const random = rng(3);
    const n = 64, T = 8;
    const starts = Array.from({ length: n }, () => Math.floor(random() * 5));
    const x = tensor(starts.flatMap((s) => Array.from({ length: T }, (_, t) => (s + t) % 5)), { shape: [n, T] });
    const y = tensor(starts.flatMap((s) => Array.from({ length: T }, (_, t) => (s + t + 1) % 5)), { shape: [n, T] });
    const model = new Sequential([new Embedding(5, 8), new LSTM(16, { returnSequences: true }), new Dense(5)], { inputShape: [T], seed: 4 });
    model.compile({ loss: "crossEntropy", optimizer: new Adam(model.parameters(), { lr: 0.02 }) });
    const history = await model.fit(x, y, { epochs: 30, batchSize: 16, verbose: false });
    expect(history.epochs[0].loss).toBeGreaterThan(1);
    expect(history.epochs.at(-1)!.loss).toBeLessThan(0.1);
    expect(history.epochs.at(-1)!.accuracy).toBe(1);
  });
});
