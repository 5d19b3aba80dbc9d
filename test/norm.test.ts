// LayerNorm, BatchNorm and Embedding against tfjs-layers with the same weights and options:
// outputs, gradients (of Σ r·output for fixed random r) and BatchNorm's moving statistics after a
// training call, to 1e-4 relative (1e-6 absolute); gradchecks; and a save/load round trip.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import { beforeAll, describe, expect, it } from "vitest";
import {
  BatchNorm, Dense, Embedding, LayerNorm, Sequential, gradcheck, init, loadModel, tensor,
} from "../src/index.js";
import { randomArray, rng } from "./helpers.js";

beforeAll(async () => {
  await init();
  await tf.setBackend("cpu");
});

const close = (ours: ArrayLike<number>, theirs: ArrayLike<number>) => {
  expect(ours.length).toBe(theirs.length);
  for (let i = 0; i < ours.length; i++) expect(Math.abs(ours[i] - theirs[i])).toBeLessThanOrEqual(1e-4 * Math.abs(theirs[i]) + 1e-6);
};

/** Our layer and theirs on the same input: outputs, then the gradients of Σ r·y for x and every weight. */
async function compare(ours: Sequential, theirs: tfl.layers.Layer, shape: number[], training: boolean) {
  const xs = randomArray(shape.reduce((a, b) => a * b, 1), rng(shape.length)).map((v) => v * 2 + 0.3);
  const x = tensor(xs, { shape, requiresGrad: true });
  const tx = tf.tensor(xs, shape);
  const yOurs = ours.forward(x, { training });
  const r = randomArray(yOurs.size, rng(99));
  const tr = tf.tensor(r, yOurs.shape as number[]);
  let tyData: Float32Array | null = null;
  const { grads } = tf.variableGrads(() => {
    const y = theirs.apply(tx, { training }) as tf.Tensor;
    tyData = y.dataSync() as Float32Array;
    return tf.sum(tf.mul(y, tr)) as tf.Scalar;
  });
  close(yOurs.data(), tyData!);
  yOurs.backward({ grad: tensor(r, { shape: yOurs.shape }) });
  const dx = tf.grad((u: tf.Tensor) => tf.sum(tf.mul(theirs.apply(u, { training: false }) as tf.Tensor, tr)));
  if (!training) close(x.grad!.data(), dx(tx).dataSync());
  return { grads, x };
}

describe("LayerNorm", () => {
  it("equals tfjs-layers' LayerNormalization: outputs and gradients", async () => {
    const ours = new Sequential([new LayerNorm()], { inputShape: [6] });
    const theirs = tfl.layers.layerNormalization({ epsilon: 1e-3 });
    theirs.build([null, 6]);
    const gamma = randomArray(6, rng(1)).map((v) => 1 + v), beta = randomArray(6, rng(2));
    theirs.setWeights([tf.tensor1d(gamma), tf.tensor1d(beta)]);
    ours.setWeights([gamma, beta]);
    const { grads } = await compare(ours, theirs, [4, 6], false);
    const [g, b] = ours.parameters();
    close(g.grad!.data(), Object.entries(grads).find(([k]) => k.includes("gamma"))![1].dataSync());
    close(b.grad!.data(), Object.entries(grads).find(([k]) => k.includes("beta"))![1].dataSync());
  });

  it("gradchecks, over the last axis of rank-3 inputs too", () => {
    const model = new Sequential([new LayerNorm()], { inputShape: [3, 5] });
    model.setWeights([randomArray(5, rng(3)).map((v) => v + 1), randomArray(5, rng(4))]);
    const x = tensor(randomArray(30, rng(5)), { shape: [2, 3, 5], requiresGrad: true });
    expect(gradcheck((t) => model.forward(t), [x]).ok).toBe(true);
    expect(gradcheck(() => model.forward(x.detach()), model.parameters()).ok).toBe(true);
  });
});

describe("BatchNorm", () => {
  it("in training: batch statistics, gradients and the moving averages equal tfjs-layers'", async () => {
    const ours = new Sequential([new BatchNorm()], { inputShape: [3, 3, 4] });
    const theirs = tfl.layers.batchNormalization({ momentum: 0.99, epsilon: 1e-3 });
    theirs.build([null, 3, 3, 4]);
    const weights = [randomArray(4, rng(6)).map((v) => 1 + v), randomArray(4, rng(7)), randomArray(4, rng(8)), randomArray(4, rng(9)).map((v) => 1.5 + v)];
    theirs.setWeights(weights.map((w) => tf.tensor1d(w)));
    ours.setWeights(weights);
    const { grads } = await compare(ours, theirs, [2, 3, 3, 4], true);
    const [gamma, beta] = ours.parameters();
    close(gamma.grad!.data(), Object.entries(grads).find(([k]) => k.includes("gamma"))![1].dataSync());
    close(beta.grad!.data(), Object.entries(grads).find(([k]) => k.includes("beta"))![1].dataSync());
    const [, , movingMean, movingVariance] = theirs.getWeights().map((w) => w.dataSync());
    const buffers = Object.fromEntries(ours.namedBuffers());
    close(buffers["batchnorm_1.movingMean"].data(), movingMean);
    close(buffers["batchnorm_1.movingVariance"].data(), movingVariance);
  });

  it("in inference: the moving statistics, equal to tfjs-layers'", async () => {
    const ours = new Sequential([new BatchNorm({ epsilon: 0.01 })], { inputShape: [5] });
    const theirs = tfl.layers.batchNormalization({ epsilon: 0.01 });
    theirs.build([null, 5]);
    const weights = [randomArray(5, rng(10)).map((v) => 1 + v), randomArray(5, rng(11)), randomArray(5, rng(12)), randomArray(5, rng(13)).map((v) => 1.5 + v)];
    theirs.setWeights(weights.map((w) => tf.tensor1d(w)));
    ours.setWeights(weights);
    await compare(ours, theirs, [3, 5], false);
  });

  it("gradchecks in training mode, and its buffers travel with a saved model", async () => {
    const model = new Sequential([new Dense(4), new BatchNorm(), new Dense(2)], { inputShape: [3], seed: 2 });
    const x = tensor(randomArray(18, rng(14)), { shape: [6, 3], requiresGrad: true });
    expect(gradcheck((t) => model.forward(t, { training: true }), [x], { seed: 3 }).ok).toBe(true);
    model.train();
    for (let i = 0; i < 3; i++) model.call(x.detach());
    model.eval();
    const loaded = await loadModel(model.save());
    expect(Object.keys(loaded.stateDict())).toContain("batchnorm_1.movingVariance");
    expect(loaded.predict(x.detach()).data()).toEqual(model.predict(x.detach()).data());
  });
});

describe("Embedding", () => {
  it("gathers rows and scatter-adds their gradients, equal to tfjs-layers'", async () => {
    const ours = new Sequential([new Embedding(7, 3)], { inputShape: [5] });
    const theirs = tfl.layers.embedding({ inputDim: 7, outputDim: 3 });
    theirs.build([null, 5]);
    const table = randomArray(21, rng(15));
    theirs.setWeights([tf.tensor2d(table, [7, 3])]);
    ours.setWeights([table]);
    const ids = [0, 3, 3, 6, 1, 2, 2, 2, 5, 0];
    const y = ours.forward(tensor(ids, { shape: [2, 5] }));
    expect(y.shape).toEqual([2, 5, 3]);
    const r = randomArray(30, rng(16));
    const { value, grads } = tf.variableGrads(() => {
      const out = theirs.apply(tf.tensor2d(ids, [2, 5], "int32")) as tf.Tensor;
      return tf.sum(tf.mul(out, tf.tensor(r, [2, 5, 3]))) as tf.Scalar;
    });
    y.backward({ grad: tensor(r, { shape: [2, 5, 3] }) });
    const g = ours.parameters()[0].grad!;
    const theirGrad = Object.values(grads)[0];
    close(g.data(), (theirGrad instanceof tf.Tensor ? theirGrad : theirGrad).dataSync());
    expect(Math.abs(value.dataSync()[0] - y.data().reduce((s, v, i) => s + v * r[i], 0))).toBeLessThan(1e-4);
    expect(() => ours.forward(tensor([[7, 0, 0, 0, 0]]))).toThrow(/index 7 at 0 is not a row/);
  });

  it("gradchecks", () => {
    const model = new Sequential([new Embedding(4, 2)], { inputShape: [3] });
    const ids = tensor([[0, 1, 1], [3, 0, 2]]);
    expect(gradcheck(() => model.forward(ids), model.parameters()).ok).toBe(true);
  });
});

