// The head trains here, off the page's thread: the backbone cut at its features and frozen, a new
// Dense head `fc` on it, fit() on cached features, each epoch reported; then the composite as
// .onnx and its state as PyTorch's .safetensors, and answers for drawings.
import { Adam, Dense, Sequential, init, tensor, toTorchSafetensors } from "wasmgrad";
import { fromOnnx, toOnnx } from "wasmgrad/onnx";
import { withNewHead } from "../transfer/head.mjs";

let model = null, shape = null;

async function train({ backbone, features, inputShape, classes, images, labels, epochs, lr }) {
  await init({ threads: 1 });
  model = withNewHead({ Dense, Sequential }, { fromOnnx }, new Uint8Array(backbone), { features, classes: classes.length, inputShape, zero: false });
  shape = inputShape;
  model.compile({ loss: "crossEntropy", optimizer: new Adam(model.trainableParameters(), { lr }) });
  const x = tensor(Float32Array.from(images.flat()), { shape: [images.length, ...inputShape] });
  const started = performance.now();
  const history = await model.fit(x, tensor(labels), {
    epochs, batchSize: images.length, shuffle: false, verbose: false, cacheFeatures: true,
    callbacks: { onEpochEnd: (e) => postMessage({ type: "epoch", epoch: e.epoch, loss: e.loss, accuracy: e.accuracy }) },
  });
  const onnx = toOnnx(model), safetensors = toTorchSafetensors(model);
  postMessage({ type: "done", seconds: (performance.now() - started) / 1000, cached: history.cachedFeatures, onnx, safetensors }, [onnx.buffer, safetensors.buffer]);
}

function predict({ pixels }) {
  if (!model) return;
  const logits = Array.from(model.predict(tensor(Float32Array.from(pixels), { shape: [1, ...shape] })).data());
  const top = Math.max(...logits), e = logits.map((v) => Math.exp(v - top)), sum = e.reduce((a, b) => a + b, 0);
  postMessage({ type: "prediction", probabilities: e.map((v) => v / sum) });
}

onmessage = ({ data }) => {
  const run = data.type === "train" ? train(data) : Promise.resolve(predict(data));
  run.catch((e) => postMessage({ type: "error", message: `${e.name}: ${e.message}` }));
};
