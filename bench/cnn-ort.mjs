// The cnn suite's onnxruntime-web half, in a process of its own: ORT-web fixes its thread count
// when it first starts, so each thread count is one run of this script. Prints one JSON row per
// (model, batch) on stdout: forward latency in ms on the same files wasmgrad runs.
// Usage: node bench/cnn-ort.mjs <threads> <file.onnx:label[:c×h×w:batch,…]> … (default 3×224×224, batches 1 and 8)
import { readFileSync } from "node:fs";
import * as ort from "onnxruntime-web";
import { measure } from "./measure.mjs";

const [threads, ...models] = process.argv.slice(2);
ort.env.wasm.numThreads = Number(threads);
ort.env.logLevel = "error";
for (const spec of models) {
  const [file, label, image = "3×224×224", batches = "1,8"] = spec.split(":");
  const impl = `ort-web${Number(threads) > 1 ? ` ${threads} threads` : ""}`;
  for (const batch of batches.split(",").map(Number)) {
    const row = { suite: "cnn", case: `${label} forward batch ${batch}`, impl };
    try {
      const session = await ort.InferenceSession.create(readFileSync(file), { graphOptimizationLevel: "all" });
      const shape = [batch, ...image.split("×").map(Number)];
      const data = Float32Array.from({ length: shape.reduce((a, b) => a * b) }, (_, i) => Math.sin(i));
      const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", data, shape) };
      const t = await measure(() => session.run(feeds), { time: 0, iterations: batch === 1 ? 5 : 3 });
      process.stdout.write(`${JSON.stringify({ ...row, metric: "ms", median: t.median, min: t.min, max: t.max })}\n`);
      await session.release();
    } catch (e) {
      process.stdout.write(`${JSON.stringify({ ...row, metric: "ms", error: String(e.message ?? e).split("\n")[0].slice(0, 160) })}\n`);
    }
  }
}
