// A request that personalises: POST labelled images as JSON, { classes: ["a", "b", …], images:
// [[784 grey levels], …], labels: [class index, …] }, and the answer is a new head for the bundled
// backbone (examples/transfer/backbone.onnx, a CNN pretrained on MNIST 0-4), trained in this one
// request — the backbone frozen and run once per image (cacheFeatures), a zero-initialised head
// trained with Adam — as a .safetensors file of the head alone, in PyTorch's names and layout
// (fc.weight [classes, 64], fc.bias), which model.load_state_dict(..., strict=False) takes.
// Each runtime's entry (personalise-workerd.mjs, personalise-vercel.mjs) hands in wasmgrad, its
// ONNX entry, the compiled .wasm, the backbone's bytes and task.json.
import { withNewHead } from "../transfer/head.mjs";

let engine = null; // one engine for the worker's lifetime, made by its first request

export async function personalise(request, { wasmgrad, onnx, wasm, backbone, task }) {
  const { Adam, init, tensor, toTorchStateDict, writeSafetensors } = wasmgrad;
  if (request.method !== "POST") return new Response("POST { classes, images, labels } as JSON\n", { status: 405 });
  let body;
  try {
    body = await request.json();
  } catch {
    return new Response("the body is not JSON\n", { status: 400 });
  }
  const { classes, images, labels } = body ?? {};
  const problem = !Array.isArray(classes) || classes.length < 2 ? "classes must list at least two names"
    : !Array.isArray(images) || images.length === 0 || !images.every((im) => Array.isArray(im) && im.length === 784 && im.every((v) => typeof v === "number" && v >= 0 && v <= 1)) ? "images must be 28×28 grey levels in [0, 1], 784 numbers each"
    : !Array.isArray(labels) || labels.length !== images.length || !labels.every((l) => Number.isInteger(l) && l >= 0 && l < classes.length) ? `labels must be one class index (0 … ${classes.length - 1}) per image`
    : null;
  if (problem) return new Response(`${problem}\n`, { status: 400 });
  engine ??= init({ build: "simd", threads: 1, ...(wasm === undefined ? {} : { wasm }) });
  await engine;
  const model = withNewHead(wasmgrad, onnx, backbone, { features: task.features, classes: classes.length });
  const x = tensor(Float32Array.from(images.flat()), { shape: [images.length, 1, 28, 28] });
  model.compile({ loss: "crossEntropy", optimizer: new Adam(model.trainableParameters(), { lr: task.lr }) });
  const history = model.fitSync(x, tensor(labels), { epochs: task.epochs, batchSize: images.length, shuffle: false, verbose: false, cacheFeatures: true });
  const state = toTorchStateDict(model);
  const file = writeSafetensors([["fc.weight", state["fc.weight"]], ["fc.bias", state["fc.bias"]]], { classes: JSON.stringify(classes), loss: String(history.epochs.at(-1).loss) });
  model.layers[0].model.dispose(); // the backbone's tensors, at once: a Worker serves request after request
  return new Response(file, { headers: { "content-type": "application/octet-stream", "content-disposition": 'attachment; filename="head.safetensors"' } });
}
