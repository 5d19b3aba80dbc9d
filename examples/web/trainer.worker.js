// Training runs here, off the page's thread: the page stays responsive while fit() works, and
// hears of every batch and epoch. It sends the trained model back as a safetensors file.
import { Adam, init, tensor } from "wasmgrad";
import { lenet, mnistMlp } from "../models.mjs";
import { TEST, TRAIN, loadDigits } from "./digits.js";

let stopping = false;

async function train({ model: kind, epochs, dataUrl }) {
  stopping = false;
  // Threads where the page is cross-origin isolated (shared memory), at least two there.
  const engine = await init({ threads: self.crossOriginIsolated ? Math.min(4, Math.max(2, navigator.hardwareConcurrency)) : 1 });
  await engine.threadsReady();
  const { images, labels } = await loadDigits(dataUrl);
  const shape = kind === "lenet" ? [28, 28, 1] : [784];
  const x = tensor(images.subarray(0, TRAIN * 784), { shape: [TRAIN, ...shape] });
  const y = tensor(labels.subarray(0, TRAIN));
  const xTest = tensor(images.subarray(TRAIN * 784, (TRAIN + TEST) * 784), { shape: [TEST, ...shape] });
  const yTest = tensor(labels.subarray(TRAIN, TRAIN + TEST));
  // The examples' chosen settings: the main job's for the MLP, examples/lenet.mjs's for LeNet.
  const model = kind === "lenet" ? lenet({ seed: 1, shift: 1 }) : mnistMlp({ seed: 1, dropout: 0.1 });
  const optimizer = new Adam(model.parameters(), { lr: kind === "lenet" ? 0.001 : 0.002 });
  const decay = kind === "lenet" ? 0.9 : 0.85;
  model.compile({ loss: "crossEntropy", optimizer });
  postMessage({ type: "ready", build: engine.build, threads: engine.threads, threadsNote: engine.threadsNote, parameters: model.parameters().reduce((n, p) => n + p.size, 0), summary: model.summary() });
  const batchesPerEpoch = Math.ceil(TRAIN / 32);
  let step = 0;
  await model.fit(x, y, {
    epochs,
    batchSize: 32,
    seed: 1,
    validationData: [xTest, yTest],
    callbacks: {
      onBatchEnd: (_batch, logs, context) => {
        if (stopping) context.stop();
        step++;
        postMessage({ type: "batch", epochs: step / batchesPerEpoch, loss: logs.loss });
      },
      onEpochEnd: (e) => {
        optimizer.lr *= decay;
        postMessage({ type: "epoch", ...e, model: model.save() });
      },
    },
  });
  postMessage({ type: "done", model: model.save() });
}

onmessage = ({ data }) => {
  if (data.type === "stop") stopping = true;
  if (data.type === "train") train(data).catch((e) => postMessage({ type: "error", message: `${e.name}: ${e.message}` }));
};
