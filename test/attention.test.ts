// MultiHeadAttention: against a float64 reference of softmax(QKᵀ/√k)V per head, causal masking
// (a position never sees later ones), gradchecks, save/load, and a transformer block that trains.
import { beforeAll, describe, expect, it } from "vitest";
import {
  Adam, Dense, LayerNorm, Model, MultiHeadAttention, Sequential, type Tensor, gradcheck, init, loadModel, mse, tensor,
} from "../src/index.js";
import { randomArray, rng } from "./helpers.js";

beforeAll(async () => {
  await init();
});

const [B, T, D, H, K] = [2, 4, 5, 2, 3];

/** The layer's output by the textbook equations, in float64. */
function reference(x: Float32Array, w: Float32Array[], causal: boolean): number[] {
  const [wq, bq, wk, bk, wv, bv, wo, bo] = w;
  const out: number[] = [];
  for (let n = 0; n < B; n++) {
    const row = (t: number) => Array.from(x.slice((n * T + t) * D, (n * T + t + 1) * D));
    const proj = (kernel: Float32Array, bias: Float32Array, t: number, head: number) =>
      Array.from({ length: K }, (_, j) => bias[head * K + j] + row(t).reduce((s, v, i) => s + v * kernel[i * H * K + head * K + j], 0));
    for (let t = 0; t < T; t++) {
      const concat: number[] = [];
      for (let head = 0; head < H; head++) {
        const q = proj(wq, bq, t, head);
        const scores = Array.from({ length: T }, (_, u) => (causal && u > t ? -Infinity : proj(wk, bk, u, head).reduce((s, v, j) => s + v * q[j], 0) / Math.sqrt(K)));
        const max = Math.max(...scores);
        const e = scores.map((v) => Math.exp(v - max));
        const z = e.reduce((a, c) => a + c, 0);
        const attended = Array.from({ length: K }, (_, j) => e.reduce((s, p, u) => s + (p / z) * proj(wv, bv, u, head)[j], 0));
        concat.push(...attended);
      }
      for (let o = 0; o < D; o++) out.push(bo[o] + concat.reduce((s, v, i) => s + v * wo[i * D + o], 0));
    }
  }
  return out;
}

describe("MultiHeadAttention", () => {
  it.each([false, true])("equals the float64 equations (causal %s), Keras's weight shapes", (causal) => {
    const model = new Sequential([new MultiHeadAttention(H, K, { causal })], { inputShape: [T, D], seed: 1 });
    expect(model.namedParameters().map(([n, t]) => `${n} ${t.shape}`)).toEqual([
      "multiheadattention_1.queryKernel 5,2,3", "multiheadattention_1.queryBias 2,3", "multiheadattention_1.keyKernel 5,2,3",
      "multiheadattention_1.keyBias 2,3", "multiheadattention_1.valueKernel 5,2,3", "multiheadattention_1.valueBias 2,3",
      "multiheadattention_1.outputKernel 2,3,5", "multiheadattention_1.outputBias 5",
    ]);
    model.setWeights(model.getWeights().map((w, i) => randomArray(w.length, rng(20 + i))));
    const xs = randomArray(B * T * D, rng(2));
    const got = model.forward(tensor(xs, { shape: [B, T, D] })).data();
    const want = reference(xs, model.getWeights(), causal);
    want.forEach((v, i) => expect(Math.abs(got[i] - v)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(v))));
  });

  it("causal: changing later positions never changes earlier outputs", () => {
    const model = new Sequential([new MultiHeadAttention(H, K, { causal: true })], { inputShape: [T, D], seed: 2 });
    const xs = randomArray(B * T * D, rng(3));
    const changed = xs.slice();
    for (let i = 2 * D; i < T * D; i++) changed[i] += 1; // sample 0, positions 2 and 3
    const a = model.forward(tensor(xs, { shape: [B, T, D] })).data(), b = model.forward(tensor(changed, { shape: [B, T, D] })).data();
    expect(Array.from(a.slice(0, 2 * D))).toEqual(Array.from(b.slice(0, 2 * D)));
    expect(Array.from(a.slice(2 * D, T * D))).not.toEqual(Array.from(b.slice(2 * D, T * D)));
  });

  it.each([false, true])("gradchecks, weights and input (causal %s), and saves and loads", async (causal) => {
    const model = new Sequential([new MultiHeadAttention(H, K, { causal })], { inputShape: [T, D], seed: 3 });
    const x = tensor(randomArray(B * T * D, rng(4)), { shape: [B, T, D], requiresGrad: true });
    expect(gradcheck((t) => model.forward(t), [x]).ok).toBe(true);
    expect(gradcheck(() => model.forward(x.detach()), model.parameters()).ok).toBe(true);
    expect((await loadModel(model.save())).predict(x.detach()).data()).toEqual(model.predict(x.detach()).data());
  });

  it("a transformer block (attention and MLP, residuals, LayerNorm) trains", async () => {
    class Block extends Model {
      norm1 = new LayerNorm();
      attention = new MultiHeadAttention(2, 4, { causal: true });
      norm2 = new LayerNorm();
      up = new Dense(16, { activation: "gelu" });
      down = new Dense(8);
      forward(x: Tensor) {
        const h = x.add(this.attention.call(this.norm1.call(x)));
        return h.add(this.down.call(this.up.call(this.norm2.call(h))));
      }
    }
    const block = new Block({ seed: 5 }).build([6, 8]);
    const x = tensor(randomArray(16 * 6 * 8, rng(6)), { shape: [16, 6, 8] });
    // Target: each position's running mean of the inputs so far (needs attention to the past).
    const xs = x.data();
    const target = new Float32Array(xs.length);
    for (let n = 0; n < 16; n++) for (let t = 0; t < 6; t++) for (let f = 0; f < 8; f++) {
      let s = 0;
      for (let u = 0; u <= t; u++) s += xs[(n * 6 + u) * 8 + f];
      target[(n * 6 + t) * 8 + f] = s / (t + 1);
    }
    const y = tensor(target, { shape: [16, 6, 8] });
    block.compile({ loss: mse as never, optimizer: new Adam(block.parameters(), { lr: 0.01 }) });
    const before = block.evaluate(x, y).loss;
    await block.fit(x, y, { epochs: 60, batchSize: 8, verbose: false });
    expect(block.evaluate(x, y).loss).toBeLessThan(before / 4);
  });
});
