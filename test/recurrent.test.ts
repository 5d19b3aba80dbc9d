// SimpleRNN, LSTM and GRU against tfjs-layers with the same weights (outputs and the gradients of
// Σ r·output for input and weights, to 1e-4 relative / 1e-6 absolute), GRU with resetAfter against
// a float64 reference of the Keras ≥ 2.3 equations, gradchecks, initial state in and out, and a
// save/load round trip.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import { beforeAll, describe, expect, it } from "vitest";
import { GRU, LSTM, type Layer, SimpleRNN, Sequential, type Tensor, gradcheck, init, loadModel, tensor } from "../src/index.js";
import { randomArray, rng } from "./helpers.js";

beforeAll(async () => {
  await init();
  await tf.setBackend("cpu");
});

const close = (ours: ArrayLike<number>, theirs: ArrayLike<number>, what: string, relative = 1e-4) => {
  expect(ours.length, what).toBe(theirs.length);
  for (let i = 0; i < ours.length; i++) expect(Math.abs(ours[i] - theirs[i]), `${what}[${i}]`).toBeLessThanOrEqual(relative * Math.abs(theirs[i]) + 1e-6);
};

const [B, T, F, U] = [3, 5, 4, 6];

async function againstTfjs(ours: Layer, theirs: tfl.layers.Layer, returnSequences: boolean) {
  const model = new Sequential([ours], { inputShape: [T, F], seed: 3 });
  (theirs.apply(tf.zeros([1, T, F])) as tf.Tensor).dispose(); // builds it (a manual build() would be repeated by apply)
  const weights = model.getWeights().map((w, i) => randomArray(w.length, rng(10 + i)).map((v) => v * 0.8));
  model.setWeights(weights);
  theirs.setWeights(theirs.getWeights().map((w, i) => tf.tensor(weights[i], w.shape)));
  const xs = randomArray(B * T * F, rng(1));
  const x = tensor(xs, { shape: [B, T, F], requiresGrad: true });
  const y = model.forward(x);
  expect(y.shape).toEqual(returnSequences ? [B, T, U] : [B, U]);
  const r = randomArray(y.size, rng(2));
  const tx = tf.variable(tf.tensor3d(xs, [B, T, F]));
  const { grads } = tf.variableGrads(() => {
    const out = theirs.apply(tx) as tf.Tensor;
    close(y.data(), out.dataSync(), "output");
    return tf.sum(tf.mul(out, tf.tensor(r, out.shape))) as tf.Scalar;
  });
  y.backward({ grad: tensor(r, { shape: y.shape }) });
  close(x.grad!.data(), grads[tx.name].dataSync(), "∂x");
  const theirWeights = theirs.trainableWeights.map((w) => grads[w.originalName ?? w.name] ?? Object.entries(grads).find(([k]) => k.endsWith(w.name))?.[1]);
  model.parameters().forEach((p, i) => close(p.grad!.data(), theirWeights[i]!.dataSync(), p.name ?? `param ${i}`));
}

describe("recurrent layers against tfjs-layers", () => {
  it.each([false, true])("SimpleRNN (returnSequences %s)", async (seq) => {
    await againstTfjs(new SimpleRNN(U, { returnSequences: seq }), tfl.layers.simpleRNN({ units: U, returnSequences: seq, recurrentInitializer: "glorotUniform" }), seq);
  });

  // sigmoid gates take the fused sequence node (ops/lstm.ts), hardSigmoid the composed ops.
  it.each([["sigmoid", false], ["sigmoid", true], ["hardSigmoid", true]] as const)("LSTM (recurrentActivation %s, returnSequences %s)", async (gates, seq) => {
    await againstTfjs(new LSTM(U, { recurrentActivation: gates, returnSequences: seq }), tfl.layers.lstm({ units: U, recurrentActivation: gates, returnSequences: seq, recurrentInitializer: "glorotUniform" }), seq);
  });

  it.each([["sigmoid", true], ["hardSigmoid", false]] as const)("GRU, resetAfter false (recurrentActivation %s, returnSequences %s)", async (gates, seq) => {
    await againstTfjs(new GRU(U, { resetAfter: false, recurrentActivation: gates, returnSequences: seq }), tfl.layers.gru({ units: U, recurrentActivation: gates, returnSequences: seq, recurrentInitializer: "glorotUniform" }), seq);
  });
});

describe("GRU with resetAfter (Keras ≥ 2.3, PyTorch, ONNX linear_before_reset)", () => {
  it("equals a float64 reference of the equations", () => {
    const model = new Sequential([new GRU(U, { returnSequences: true })], { inputShape: [T, F], seed: 4 });
    const [W, Uw, b] = model.getWeights().map((w) => Array.from(w));
    const xs = randomArray(B * T * F, rng(5));
    const y = model.forward(tensor(xs, { shape: [B, T, F] })).data();
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    for (let n = 0; n < B; n++) {
      let h = new Array(U).fill(0);
      for (let t = 0; t < T; t++) {
        const mx = Array.from({ length: 3 * U }, (_, j) => b[j] + xs.slice((n * T + t) * F, (n * T + t + 1) * F).reduce((s, v, k) => s + v * W[k * 3 * U + j], 0));
        const mh = Array.from({ length: 3 * U }, (_, j) => b[3 * U + j] + h.reduce((s, v, k) => s + v * Uw[k * 3 * U + j], 0));
        const z = Array.from({ length: U }, (_, j) => sig(mx[j] + mh[j]));
        const r = Array.from({ length: U }, (_, j) => sig(mx[U + j] + mh[U + j]));
        const hh = Array.from({ length: U }, (_, j) => Math.tanh(mx[2 * U + j] + r[j] * mh[2 * U + j]));
        h = h.map((v, j) => z[j] * v + (1 - z[j]) * hh[j]);
        h.forEach((v, j) => expect(Math.abs(y[((n * T + t) * U) + j] - v)).toBeLessThanOrEqual(1e-5));
      }
    }
  });
});

describe("backpropagation through time", () => {
  it.each<[string, () => Layer]>([
    ["SimpleRNN", () => new SimpleRNN(3, { returnSequences: true })],
    ["LSTM", () => new LSTM(3)],
    ["LSTM sequences", () => new LSTM(3, { returnSequences: true })],
    ["GRU", () => new GRU(3, { returnSequences: true })],
    ["GRU resetAfter false", () => new GRU(3, { resetAfter: false })],
  ])("%s gradchecks, weights and input", (_, make) => {
    const model = new Sequential([make()], { inputShape: [4, 2], seed: 6 });
    const x = tensor(randomArray(16, rng(7)), { shape: [2, 4, 2], requiresGrad: true });
    expect(gradcheck((t) => model.forward(t), [x]).ok).toBe(true);
    expect(gradcheck(() => model.forward(x.detach()), model.parameters()).ok).toBe(true);
  });

  // Scale 40 saturates the gates: the fused kernel's vector exp must stay finite and agree there too
  // (to 1e-3: 1 − σ near 1 keeps few significant bits in float32, whichever exp computed σ).
  it.each([1, 40])("the fused LSTM node and the composed ops (run) agree, outputs and every gradient (inputs ×%d)", (scale) => {
    const lstm = new LSTM(5, { returnSequences: true });
    const model = new Sequential([lstm], { inputShape: [7, 3], seed: 4 });
    const xs = randomArray(2 * 7 * 3, rng(5)).map((v) => v * scale);
    const r = randomArray(2 * 7 * 5, rng(6));
    const results = [(x: Tensor) => model.forward(x), (x: Tensor) => lstm.run(x).output].map((f) => {
      for (const p of model.parameters()) p.grad = null;
      const x = tensor(xs, { shape: [2, 7, 3], requiresGrad: true });
      const y = f(x);
      y.backward({ grad: tensor(r, { shape: y.shape }) });
      return [y.data(), x.grad!.data(), ...model.parameters().map((p) => p.grad!.data())];
    });
    expect(results[0].length).toBe(5);
    results[0].forEach((a, i) => {
      expect(a.every(Number.isFinite)).toBe(true);
      close(a, results[1][i], `result ${i}`, scale === 1 ? 1e-4 : 1e-3);
    });
  });

  it("initial state in and out: two halves run as one whole", () => {
    const lstm = new LSTM(4, { returnSequences: true });
    new Sequential([lstm], { inputShape: [6, 3], seed: 8 });
    const xs = randomArray(2 * 6 * 3, rng(9));
    const whole = lstm.run(tensor(xs, { shape: [2, 6, 3] }));
    const first = lstm.run(tensor(xs, { shape: [2, 6, 3] }).slice([0, 0, 0], [2, 3, 3]));
    const second = lstm.run(tensor(xs, { shape: [2, 6, 3] }).slice([0, 3, 0], [2, 6, 3]), first.states);
    close(second.states[0].data(), whole.states[0].data(), "h");
    close(second.states[1].data(), whole.states[1].data(), "c");
  });

  it("saves and loads by architecture", async () => {
    const model = new Sequential([new GRU(5, { returnSequences: true, resetAfter: false }), new LSTM(3)], { inputShape: [4, 2], seed: 9 });
    const x = tensor(randomArray(16, rng(10)), { shape: [2, 4, 2] });
    expect((await loadModel(model.save())).predict(x).data()).toEqual(model.predict(x).data());
  });
});
