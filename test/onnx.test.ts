// ONNX export, run by ONNX Runtime itself (onnxruntime-web's wasm backend, in Node): the MLP,
// LeNet and every exportable layer alone give wasmgrad's outputs within 1e-5.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as ort from "onnxruntime-web";
import { beforeAll, describe, expect, it } from "vitest";
import {
  Activation, Adam, AvgPool2D, BatchNorm, Conv2D, Dense, Dropout, Embedding, Flatten, FormatError, GRU, GlobalAveragePooling, LSTM, type Layer, LayerNorm,
  MaxPool2D, MultiHeadAttention, Permute, RandomShift, Reshape, Sequential, type Shape, SimpleRNN, init, tensor,
} from "../src/index.js";
import { LAYER_CODECS } from "../src/nn/codecs.js";
import { fromOnnx, toOnnx } from "../src/onnx.js";
import { randomArray, rng } from "./helpers.js";

beforeAll(async () => {
  await init();
  ort.env.wasm.numThreads = 1;
});

/** Every parameter and moving statistic given seeded values (variances positive): nothing hides behind an initial zero or one. */
function randomise(model: Sequential): void {
  const state = [...model.namedParameters(), ...model.namedBuffers().filter(([n]) => /moving/.test(n))];
  state.forEach(([name, t], i) => t.set(Float32Array.from(randomArray(t.size, rng(90 + i)), (v) => (/Variance/.test(name) ? 0.5 + Math.abs(v) : v))));
}

/**
 * Runs the exported model in ONNX Runtime on a batch of 3 and compares with wasmgrad's
 * predict(); and imports the file again: fromOnnx(toOnnx(m)) predicts as m does.
 */
async function agrees(layers: Layer[], inputShape: Shape, opset = 17, input?: Float32Array): Promise<void> {
  const model = new Sequential(layers, { inputShape, seed: 11 });
  randomise(model);
  const size = inputShape.reduce((a, b) => a * b, 1);
  const values = input ?? randomArray(3 * size, rng(size));
  const x = tensor(values, { shape: [3, ...inputShape] });
  const expected = model.predict(x).data();
  const bytes = toOnnx(model, { opset });
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({ input: new ort.Tensor("float32", values, [3, ...inputShape]) });
  const got = out.output.data as Float32Array;
  expect(out.output.dims).toEqual([3, ...model.outputShape]);
  // 1e-5 of the output's scale: seeded weights make outputs that are differences of large sums.
  const scale = Math.max(1, ...Array.from(expected, Math.abs));
  for (let i = 0; i < expected.length; i++) expect(Math.abs(got[i] - expected[i])).toBeLessThanOrEqual(1e-5 * scale);
  const again = fromOnnx(bytes).predict(x).data();
  for (let i = 0; i < expected.length; i++) expect(Math.abs(again[i] - expected[i])).toBeLessThanOrEqual(1e-5 * scale);
}

describe("toOnnx, run by ONNX Runtime", () => {
  it("the MNIST MLP", async () => {
    await agrees([new Dense(128, { activation: "relu" }), new Dropout(0.2), new Dense(64, { activation: "relu" }), new Dense(10)], [784]);
  });

  it("LeNet-5 (with its augmentation layer, identity at inference)", async () => {
    await agrees([
      new RandomShift(1), new Conv2D(6, 5, { padding: "same", activation: "relu" }), new MaxPool2D(2),
      new Conv2D(16, 5, { activation: "relu" }), new MaxPool2D(2), new Flatten(),
      new Dense(120, { activation: "relu" }), new Dense(84, { activation: "relu" }), new Dense(10, { activation: "softmax" }),
    ], [28, 28, 1]);
  });

  it.each(["linear", "relu", "sigmoid", "tanh", "leakyRelu", "softmax", "logSoftmax", "elu", "softplus", "hardSigmoid", "silu", "swish", "hardSwish"] as const)("Dense with %s", async (activation) => {
    await agrees([new Dense(5, { activation, slope: 0.2 })], [7]);
  });

  it("Dense with gelu, at opset 20 (ONNX's Gelu), and a typed error before it", async () => {
    await agrees([new Dense(5, { activation: "gelu" })], [7], 20);
    expect(() => toOnnx(new Sequential([new Dense(2, { activation: "gelu" })], { inputShape: [2] }), { opset: 19 })).toThrow(/gelu needs opset 20/);
  });

  it.each<[string, () => Layer, Shape]>([
    ["Conv2D same, stride 1", () => new Conv2D(3, 3, { padding: "same" }), [5, 6, 2]],
    ["Conv2D same, stride 2 (asymmetric padding)", () => new Conv2D(4, 3, { padding: "same", stride: 2, activation: "tanh" }), [6, 7, 3]],
    ["Conv2D valid, no bias", () => new Conv2D(2, 2, { useBias: false }), [4, 4, 1]],
    ["Conv2D same, dilation 2", () => new Conv2D(3, 3, { padding: "same", dilation: 2 }), [7, 6, 2]],
    ["Conv2D valid, dilation 3", () => new Conv2D(2, 3, { dilation: 3, activation: "relu" }), [8, 9, 3]],
    ["Conv2D with softmax over its channels", () => new Conv2D(3, 1, { activation: "softmax" }), [3, 3, 2]],
    ["MaxPool2D", () => new MaxPool2D(2), [4, 6, 3]],
    ["MaxPool2D stride 1", () => new MaxPool2D(3, 1), [5, 5, 2]],
    ["AvgPool2D", () => new AvgPool2D(2, 1), [4, 4, 2]],
    ["Flatten", () => new Flatten(), [2, 3, 4]],
    ["Dropout", () => new Dropout(0.5), [4]],
    ["RandomShift", () => new RandomShift(1), [4, 4, 1]],
    ["Activation", () => new Activation("tanh"), [3, 2]],
    ["Activation linear (an Identity)", () => new Activation("linear"), [3]],
    ["Reshape", () => new Reshape([3, -1]), [2, 6]],
    ["Permute", () => new Permute([2, 3, 1]), [2, 3, 4]],
    ["GlobalAveragePooling over an image's pixels", () => new GlobalAveragePooling(), [3, 4, 2]],
    ["GlobalAveragePooling over a sequence's steps", () => new GlobalAveragePooling(), [5, 3]],
    ["LayerNorm", () => new LayerNorm(), [3, 4]],
    ["BatchNorm", () => new BatchNorm({ epsilon: 0.01 }), [2, 2, 3]],
    ["SimpleRNN (ONNX's RNN), the last step", () => new SimpleRNN(4), [5, 3]],
    ["SimpleRNN with relu, every step", () => new SimpleRNN(3, { activation: "relu", returnSequences: true }), [4, 2]],
    ["LSTM (ONNX's LSTM, gates reordered), every step", () => new LSTM(4, { returnSequences: true }), [5, 3]],
    ["LSTM with hard-sigmoid gates, no bias, the last step", () => new LSTM(3, { recurrentActivation: "hardSigmoid", useBias: false }), [4, 2]],
    ["GRU resetting after the product (linear_before_reset)", () => new GRU(4, { returnSequences: true }), [5, 3]],
    ["GRU resetting before, the last step", () => new GRU(3, { resetAfter: false }), [4, 2]],
    ["GRU resetting after, no bias", () => new GRU(3, { useBias: false }), [4, 2]],
    ["MultiHeadAttention", () => new MultiHeadAttention(2, 3), [4, 5]],
    ["MultiHeadAttention, causal, no bias", () => new MultiHeadAttention(3, 2, { causal: true, useBias: false }), [5, 4]],
  ])("%s alone", async (_, make, shape) => {
    await agrees([make()], shape);
  });

  it("Embedding alone (ids in, as floats)", async () => {
    await agrees([new Embedding(9, 4)], [5], 17, Float32Array.from({ length: 15 }, (_, i) => (i * 7) % 9));
  });

  it("every built-in layer kind has an ONNX lowering", () => {
    expect(LAYER_CODECS.filter((c) => !c.onnx).map((c) => c.kind)).toEqual([]);
  });

  it("every opset from 13 to 21", async () => {
    for (let opset = 13; opset <= 21; opset++) await agrees([new Conv2D(2, 3, { activation: "relu" }), new Flatten(), new Dense(2)], [4, 4, 1], opset);
  });

  it("refuses what it cannot say, and bad options", () => {
    expect(() => toOnnx({} as never)).toThrow(/expected a Sequential/);
    expect(() => toOnnx(new Sequential([new Dense(2)], { inputShape: [2] }), { opset: 12 })).toThrow(/opset must be an integer in \[13, 21\]/);
    expect(FormatError).toBeDefined();
  });
});

describe("fromOnnx", () => {
  it("imports what toOnnx wrote: same predictions, parameters named as the initialisers, and it fine-tunes", async () => {
    const model = new Sequential([
      new Conv2D(3, 3, { padding: "same", stride: 2, activation: "relu" }), new MaxPool2D(2, 1), new AvgPool2D(2),
      new Flatten(), new Dense(8, { activation: "tanh" }), new Dense(3, { activation: "softmax" }),
    ], { inputShape: [8, 8, 2], seed: 4 });
    const values = randomArray(12 * 128, rng(12));
    const x = tensor(values, { shape: [12, 8, 8, 2] });
    const imported = fromOnnx(toOnnx(model));
    expect(imported.inputNames).toEqual(["input"]);
    expect(imported.namedParameters().map(([n]) => n)).toEqual(["conv2d_1.weight", "conv2d_1.bias", "dense_1.weight", "dense_1.bias", "dense_2.weight", "dense_2.bias"]);
    const ours = model.predict(x).data(), theirs = imported.predict(x).data();
    for (let i = 0; i < ours.length; i++) expect(Math.abs(ours[i] - theirs[i])).toBeLessThanOrEqual(1e-5);
    const y = tensor(Float32Array.from({ length: 12 }, (_, i) => i % 3));
    imported.compile({ loss: "crossEntropyFromProbabilities", optimizer: new Adam(imported.parameters(), { lr: 0.02 }) });
    const before = imported.evaluate(x, y).loss;
    await imported.fit(x, y, { epochs: 30, batchSize: 4, verbose: false });
    expect(imported.evaluate(x, y).loss).toBeLessThan(before / 2);
  });

  it("refuses what it cannot express, naming the node", () => {
    expect(() => fromOnnx(new Uint8Array([1, 2, 3]))).toThrow(FormatError);
    expect(() => fromOnnx(toOnnx(new Sequential([new Dense(2)], { inputShape: [2] }), { opset: 13 }), { outputs: ["nope"] })).toThrow(/the graph computes no nope/);
  });
});

describe("a model trained by another library: scikit-learn's MLPClassifier through skl2onnx", () => {
  // test/fixtures/sklearn-digits-mlp.*, made by scripts/sklearn-fixture.py.
  const fixture = JSON.parse(readFileSync(join(__dirname, "fixtures/sklearn-digits-mlp.json"), "utf8"));
  const bytes = new Uint8Array(readFileSync(join(__dirname, "fixtures/sklearn-digits-mlp.onnx")));
  const rows = ([from, to]: number[]) => tensor(Float32Array.from(fixture.pixels.slice(from, to).flat(), (v: number) => v / 16), { shape: [to - from, 64] });
  const labels = ([from, to]: number[]) => tensor(Float32Array.from(fixture.labels.slice(from, to)));

  it("the whole graph, side branches and all, is refused only for what it cannot express", () => {
    expect(fixture.ops).toContain("ai.onnx.ml:ZipMap");
    expect(() => fromOnnx(bytes)).toThrow(/ZipMap|ArgMax|ArrayFeatureExtractor/);
  });

  it("imports the probabilities: predict_proba to 1e-5, then fit lowers its loss", async () => {
    const model = fromOnnx(bytes, { outputs: ["out_activations_result"] });
    expect(model.namedParameters().map(([n]) => n)).toEqual(["coefficient", "intercepts", "coefficient1", "intercepts1"]);
    const probabilities = model.predict(rows(fixture.test)).data();
    const expected = fixture.predict_proba.flat();
    for (let i = 0; i < expected.length; i++) expect(Math.abs(probabilities[i] - expected[i])).toBeLessThanOrEqual(1e-5);
    model.compile({ loss: "crossEntropyFromProbabilities", optimizer: new Adam(model.parameters(), { lr: 0.003 }) });
    const [x, y] = [rows(fixture.train), labels(fixture.train)];
    const before = model.evaluate(x, y);
    expect(before.loss).toBeCloseTo(fixture.sklearn_train_loss, 1); // scikit-learn's own training loss, near enough (its loss adds an L2 term)
    await model.fit(x, y, { epochs: 10, batchSize: 32, verbose: false });
    const after = model.evaluate(x, y);
    expect(after.loss).toBeLessThan(before.loss * 0.7);
    expect(model.evaluate(rows(fixture.test), labels(fixture.test)).accuracy).toBeGreaterThan(0.85);
  });
});

describe("fuzz: bit flips and truncations of real ONNX and tfjs files", () => {
  it("2,000 damaged ONNX models: a typed error or a model, never anything else, nothing left allocated", async () => {
    const { WasmgradError, getEngine } = await import("../src/index.js");
    const files = [
      new Uint8Array(readFileSync(join(__dirname, "fixtures/sklearn-digits-mlp.onnx"))),
      toOnnx(new Sequential([new Conv2D(2, 3, { padding: "same" }), new MaxPool2D(2), new Flatten(), new Dense(3, { activation: "softmax" })], { inputShape: [6, 6, 1], seed: 1 })),
    ];
    const random = rng(20261125);
    const memory = getEngine().memory;
    let typed = 0;
    for (let i = 0; i < 2000; i++) {
      const source = files[i % 2];
      const bytes = source.slice(0, i % 5 === 0 ? Math.floor(random() * source.length) : source.length);
      for (let f = 0; i % 5 !== 0 && f < 1 + Math.floor(random() * 3); f++) bytes[Math.floor(random() * bytes.length)] ^= 1 << Math.floor(random() * 8);
      const before = memory.stats().bytesInUse;
      try {
        const model = fromOnnx(bytes, i % 2 === 0 ? { outputs: ["out_activations_result"] } : undefined);
        try {
          const input = tensor(randomArray(i % 2 === 0 ? 2 * 64 : 2 * 36, rng(i)), { shape: i % 2 === 0 ? [2, 64] : [2, 6, 6, 1] });
          try {
            model.predict(input).dispose();
          } finally {
            input.dispose();
          }
        } finally {
          model.dispose(); // its initialisers and the weights laid out for its kernels
        }
      } catch (e) {
        if (!(e instanceof WasmgradError)) throw new Error(`case ${i}: untyped ${String(e)}`);
        typed++;
      }
      expect(memory.stats().bytesInUse).toBe(before);
    }
    expect(typed).toBeGreaterThan(100);
  });
});

// Token models: an embedding (indices cast to integers for Gather), dense layers over the last axis
// of a sequence (MatMul + Add), LayerNormalization, and a BatchNorm folded into x·a + b.
describe("toOnnx: embeddings and normalisation, run by ONNX Runtime", () => {
  it("Embedding → LayerNorm → Dense over every position → BatchNorm → Dense", async () => {
    const { BatchNorm, Embedding, LayerNorm } = await import("../src/index.js");
    const model = new Sequential([
      new Embedding(9, 6), new LayerNorm(), new Dense(5, { activation: "tanh" }), new BatchNorm(), new Dense(3),
    ], { inputShape: [4], seed: 12 });
    // Random weights and moving statistics (the variance positive), so nothing hides behind an initial value.
    model.setWeights(model.getWeights().map((w, i) => Float32Array.from(randomArray(w.length, rng(80 + i)), (v) => 0.5 + Math.abs(v))));
    const tokens = Float32Array.from({ length: 3 * 4 }, (_, i) => (i * 4 + 1) % 9);
    const expected = model.predict(tensor(tokens, { shape: [3, 4] })).data();
    const session = await ort.InferenceSession.create(toOnnx(model));
    const out = await session.run({ input: new ort.Tensor("float32", tokens, [3, 4]) });
    expect(out.output.dims).toEqual([3, 4, 3]);
    const got = out.output.data as Float32Array;
    for (let i = 0; i < expected.length; i++) expect(Math.abs(got[i] - expected[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected[i])));
    await expect(async () => toOnnx(model, { opset: 16 })).rejects.toThrow(/LayerNorm needs opset 17/);
  });
});
