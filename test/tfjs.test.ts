// TensorFlow.js layers models both ways, against tfjs itself (pure JS: tfjs-core, tfjs-layers and
// the CPU backend): a model built and trained in tfjs, saved through tf.io, predicts the same in
// wasmgrad; a wasmgrad model exported to tf.io's format predicts the same in tfjs.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import { beforeAll, describe, expect, it } from "vitest";
import {
  BatchNorm, Conv2D, Dense, Dropout, Embedding, Flatten, FormatError, GRU, LSTM, LayerNorm, MaxPool2D, Sequential, SimpleRNN, type TfjsArtifacts, fromTfjs, fromTfjsFiles, init,
  tensor, toTfjs, toTfjsFiles,
} from "../src/index.js";
import { randomArray, rng } from "./helpers.js";

beforeAll(async () => {
  await init();
  await tf.setBackend("cpu");
});

async function artifactsOf(model: tfl.LayersModel): Promise<TfjsArtifacts> {
  let saved: TfjsArtifacts | null = null;
  await model.save(tf.io.withSaveHandler(async (a) => {
    saved = a as TfjsArtifacts;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
  }));
  return saved!;
}

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i])));
};

describe("tfjs → wasmgrad", () => {
  it("a convolutional model trained in tfjs predicts the same after import", async () => {
    const model = tfl.sequential({ layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, padding: "same", activation: "relu" }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 3, kernelSize: 3, strides: 1, activation: "tanh" }),
      tfl.layers.averagePooling2d({ poolSize: 2, strides: 1 }),
      tfl.layers.flatten(),
      tfl.layers.dropout({ rate: 0.3 }),
      tfl.layers.dense({ units: 5, activation: "softmax" }),
    ] });
    const xs = randomArray(16 * 64, rng(1));
    const x = tf.tensor4d(xs, [16, 8, 8, 1]);
    const y = tf.oneHot(tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 5), "int32"), 5);
    model.compile({ optimizer: tf.train.adam(0.01), loss: "categoricalCrossentropy" });
    await model.fit(x, y, { epochs: 3, verbose: 0 });
    const expected = (model.predict(x) as tf.Tensor).dataSync();
    const imported = fromTfjs(await artifactsOf(model));
    expect(imported.layers.map((l) => l.kind)).toEqual(["Conv2D", "MaxPool2D", "Conv2D", "AvgPool2D", "Flatten", "Dropout", "Dense"]);
    close(imported.predict(tensor(xs, { shape: [16, 8, 8, 1] })).data(), expected);
  });

  it("an MLP, through model.json and weights.bin as tf.io writes them", async () => {
    const model = tfl.sequential({ layers: [
      tfl.layers.dense({ inputShape: [6], units: 10, activation: "sigmoid" }),
      tfl.layers.dense({ units: 3, useBias: false }),
    ] });
    const xs = randomArray(4 * 6, rng(2));
    const expected = (model.predict(tf.tensor2d(xs, [4, 6])) as tf.Tensor).dataSync();
    const a = await artifactsOf(model);
    const modelJson = JSON.stringify({ modelTopology: a.modelTopology, weightsManifest: [{ paths: ["group1-shard1of1.bin"], weights: a.weightSpecs }] });
    const imported = fromTfjsFiles(modelJson, { "group1-shard1of1.bin": new Uint8Array(a.weightData as ArrayBuffer) });
    close(imported.predict(tensor(xs, { shape: [4, 6] })).data(), expected);
  });

  it("what wasmgrad lacks is a FormatError naming the layer", async () => {
    const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [2], units: 2, activation: "selu" })] });
    expect(() => fromTfjs({ modelTopology: { class_name: "Model", config: {} }, weightSpecs: [], weightData: new ArrayBuffer(0) })).toThrow(/a "Model" model; wasmgrad imports Sequential/);
    const a = await artifactsOf(model);
    expect(() => fromTfjs(a)).toThrow(FormatError);
    expect(() => fromTfjs(a)).toThrow(/layer 0 \(dense_Dense\d+\): activation "selu" has no wasmgrad equivalent/);
    const b = await artifactsOf(tfl.sequential({ layers: [tfl.layers.repeatVector({ inputShape: [3], n: 2 })] }));
    expect(() => fromTfjs(b)).toThrow(/layer type "RepeatVector" has no wasmgrad equivalent/);
    const d = await artifactsOf(tfl.sequential({ layers: [tfl.layers.lstm({ inputShape: [3, 2], units: 2, goBackwards: true, recurrentInitializer: "glorotUniform" })] }));
    expect(() => fromTfjs(d)).toThrow(/go_backwards is not supported/);
    const e = await artifactsOf(tfl.sequential({ layers: [tfl.layers.layerNormalization({ inputShape: [3, 2], axis: 1 })] }));
    expect(() => fromTfjs(e)).toThrow(/axis 1; wasmgrad normalises over the last axis \(2 here\)/);
    const f = await artifactsOf(tfl.sequential({ layers: [tfl.layers.embedding({ inputDim: 4, outputDim: 2, inputLength: 3, maskZero: true })] }));
    expect(() => fromTfjs(f)).toThrow(/mask_zero is not supported/);
    const c = await artifactsOf(tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [2], units: 2 })] }));
    expect(() => fromTfjs({ ...c, weightData: new ArrayBuffer(8) })).toThrow(/runs past the 8 bytes of weight data/);
  });
});

describe("wasmgrad → tfjs", () => {
  it("an exported model loads with tf.io.fromMemory and predicts the same", async () => {
    const ours = new Sequential([
      new Conv2D(4, 3, { padding: "same", activation: "relu" }), new MaxPool2D(2), new Flatten(), new Dropout(0.1),
      new Dense(6, { activation: "tanh" }), new Dense(3, { activation: "softmax" }),
    ], { inputShape: [6, 6, 2], seed: 3 });
    const xs = randomArray(5 * 72, rng(3));
    const expected = ours.predict(tensor(xs, { shape: [5, 6, 6, 2] })).data();
    const theirs = await tfl.loadLayersModel(tf.io.fromMemory(toTfjs(ours) as tf.io.ModelArtifacts));
    close((theirs.predict(tf.tensor4d(xs, [5, 6, 6, 2])) as tf.Tensor).dataSync(), expected);
    // And back again, through the files.
    const files = toTfjsFiles(ours);
    const again = fromTfjsFiles(files.modelJson, files.weights);
    expect(again.parameters().map((t) => t.data())).toEqual(ours.parameters().map((t) => t.data())); // dropout's generator is wasmgrad's own
    expect(() => toTfjs(new Sequential([new Dense(2, { activation: "leakyRelu" })], { inputShape: [2] }))).toThrow(/activation "leakyRelu" has no tfjs/);
  });
});

describe("dilated convolutions, both ways", () => {
  it("tfjs's dilation_rate imports as the Conv2D's dilation, and exports back to tfjs, predicting the same", async () => {
    const model = tfl.sequential({ layers: [
      tfl.layers.conv2d({ inputShape: [9, 9, 2], filters: 4, kernelSize: 3, dilationRate: 2, padding: "same", activation: "relu" }),
      tfl.layers.conv2d({ filters: 3, kernelSize: 3, dilationRate: 3 }),
    ] });
    const xs = randomArray(3 * 9 * 9 * 2, rng(11));
    const expected = (model.predict(tf.tensor4d(xs, [3, 9, 9, 2])) as tf.Tensor).dataSync();
    const imported = fromTfjs(await artifactsOf(model));
    expect(imported.layers.map((l) => l.config().dilation)).toEqual([2, 3]);
    close(imported.predict(tensor(xs, { shape: [3, 9, 9, 2] })).data(), expected);
    const back = await tfl.loadLayersModel(tf.io.fromMemory(toTfjs(imported) as tf.io.ModelArtifacts));
    close((back.predict(tf.tensor4d(xs, [3, 9, 9, 2])) as tf.Tensor).dataSync(), expected);
  });
});

describe("fuzz: damaged model.json and weights", () => {
  it("1,000 damaged tfjs file pairs: a typed error or a model, nothing left allocated", async () => {
    const { WasmgradError, getEngine } = await import("../src/index.js");
    const files = toTfjsFiles(new Sequential([new Conv2D(2, 3), new MaxPool2D(2), new Flatten(), new Dense(3, { activation: "softmax" })], { inputShape: [7, 7, 1], seed: 5 }));
    const random = rng(7);
    const memory = getEngine().memory;
    let typed = 0;
    for (let i = 0; i < 1000; i++) {
      const json = [...files.modelJson];
      const weights = files.weights["weights.bin"].slice(0, i % 7 === 0 ? Math.floor(random() * 400) : undefined);
      if (i % 2 === 0) for (let f = 0; f < 1 + Math.floor(random() * 3); f++) json[Math.floor(random() * json.length)] = String.fromCharCode(32 + Math.floor(random() * 95));
      else weights[Math.floor(random() * weights.length)] ^= 1 << Math.floor(random() * 8);
      const before = memory.stats().bytesInUse;
      try {
        const model = fromTfjsFiles(json.join(""), { "weights.bin": weights });
        Object.values(model.stateDict()).forEach((t) => t.dispose());
      } catch (e) {
        if (!(e instanceof WasmgradError)) throw new Error(`case ${i}: untyped ${String(e)}`);
        typed++;
      }
      expect(memory.stats().bytesInUse).toBe(before);
    }
    expect(typed).toBeGreaterThan(200);
  });
});

// The sequence and normalisation layers move both ways with their weights as they are (Keras's
// layouts): embeddings, kernel / recurrent_kernel / bias, gamma / beta / moving statistics.
describe("sequence and normalisation layers, both ways", () => {
  const T = 5, V = 7;
  const tokens = Float32Array.from({ length: 3 * T }, (_, i) => (i * 5 + 2) % V);

  it("tfjs → wasmgrad: Embedding, LSTM, LayerNorm, GRU (reset before), SimpleRNN, BatchNorm, Dense predict the same", async () => {
    const theirs = tfl.sequential({
      layers: [
        tfl.layers.embedding({ inputDim: V, outputDim: 4, inputLength: T }),
        tfl.layers.lstm({ units: 6, returnSequences: true, recurrentInitializer: "glorotUniform" }),
        tfl.layers.layerNormalization({}),
        tfl.layers.gru({ units: 5, returnSequences: true, recurrentInitializer: "glorotUniform" }),
        tfl.layers.simpleRNN({ units: 4, recurrentInitializer: "glorotUniform" }),
        tfl.layers.batchNormalization({}),
        tfl.layers.dense({ units: 3 }),
      ],
    });
    // Every weight random, the moving variance positive, so nothing hides behind an initial value.
    theirs.setWeights(theirs.weights.map((w, i) => tf.tensor(randomArray(w.shape.reduce((a, d) => a * d, 1), rng(40 + i)).map((v) => (w.name.includes("moving_variance") ? 0.5 + Math.abs(v) : v)), w.shape)));
    const ours = fromTfjs(await artifactsOf(theirs));
    expect(ours.layers.map((l) => l.kind)).toEqual(["Embedding", "LSTM", "LayerNorm", "GRU", "SimpleRNN", "BatchNorm", "Dense"]);
    const expected = (theirs.predict(tf.tensor2d(tokens, [3, T])) as tf.Tensor).dataSync();
    close(ours.predict(tensor(tokens, { shape: [3, T] })).data(), expected);
  });

  it("wasmgrad → tfjs: the same layers load with tf.io.fromMemory and predict the same; a GRU that resets after is refused", async () => {
    const ours = new Sequential([
      new Embedding(V, 4), new LSTM(6, { returnSequences: true }), new LayerNorm(),
      new GRU(5, { returnSequences: true, resetAfter: false }), new SimpleRNN(4), new BatchNorm(), new Dense(3),
    ], { inputShape: [T], seed: 8 });
    ours.setWeights(ours.getWeights().map((w, i) => Float32Array.from(randomArray(w.length, rng(60 + i)), (v) => 0.5 + Math.abs(v))));
    const expected = ours.predict(tensor(tokens, { shape: [3, T] })).data();
    const theirs = await tfl.loadLayersModel(tf.io.fromMemory(toTfjs(ours) as tf.io.ModelArtifacts));
    close((theirs.predict(tf.tensor2d(tokens, [3, T])) as tf.Tensor).dataSync(), expected);
    const back = fromTfjs(toTfjs(ours));
    close(back.predict(tensor(tokens, { shape: [3, T] })).data(), expected);
    const resetAfter = new Sequential([new GRU(2)], { inputShape: [3, 2] });
    expect(() => toTfjs(resetAfter)).toThrow(/resets before the recurrent product only/);
  });

  it("Activation, Reshape, Permute and global average pooling (1-D and 2-D), both ways", async () => {
    const theirs = tfl.sequential({ layers: [
      tfl.layers.reshape({ inputShape: [24], targetShape: [4, 3, 2] }),
      tfl.layers.permute({ dims: [2, 1, 3] }),
      tfl.layers.activation({ activation: "tanh" }),
      tfl.layers.globalAveragePooling2d({}),
      tfl.layers.dense({ units: 6 }),
      tfl.layers.reshape({ targetShape: [3, 2] }),
      tfl.layers.globalAveragePooling1d({}),
    ] });
    theirs.setWeights(theirs.weights.map((w, i) => tf.tensor(randomArray(w.shape.reduce((a, d) => a * d, 1), rng(70 + i)), w.shape)));
    const xs = randomArray(3 * 24, rng(7));
    const expected = (theirs.predict(tf.tensor2d(xs, [3, 24])) as tf.Tensor).dataSync();
    const ours = fromTfjs(await artifactsOf(theirs));
    expect(ours.layers.map((l) => l.kind)).toEqual(["Reshape", "Permute", "Activation", "GlobalAveragePooling", "Dense", "Reshape", "GlobalAveragePooling"]);
    close(ours.predict(tensor(xs, { shape: [3, 24] })).data(), expected);
    const again = await tfl.loadLayersModel(tf.io.fromMemory(toTfjs(ours) as tf.io.ModelArtifacts));
    close((again.predict(tf.tensor2d(xs, [3, 24])) as tf.Tensor).dataSync(), expected);
  });
});
