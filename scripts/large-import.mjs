// Import cost of a large ONNX file: wall time of fromOnnx and the process's peak resident memory
// over what it held before reading the file (Node, wasmgrad loaded and initialised), against the
// file's size. Usage: node scripts/large-import.mjs <model.onnx>  (after npm run build; for the
// model zoo's VGG-19, 144M parameters, 575 MB: .venv/bin/python scripts/model-zoo.py vgg19, then
// test/.onnx-cases/zoo_vgg19_opset9/model.onnx).
import { readFileSync, statSync } from "node:fs";
import { init } from "../dist/index.js";
import { fromOnnx } from "../dist/onnx.js";

const file = process.argv[2];
if (!file) {
  console.error("usage: node scripts/large-import.mjs <model.onnx>");
  process.exit(2);
}
const MiB = 1024 * 1024;
const peak = () => (process.resourceUsage().maxRSS * 1024) / MiB; // maxRSS is in KiB
const engine = await init();
const before = peak();
const size = statSync(file).size / MiB;
const bytes = readFileSync(file); // a Buffer is a Uint8Array: no copy
const started = performance.now();
const model = fromOnnx(bytes);
const ms = performance.now() - started;
const after = peak();
const parameters = model.namedParameters().reduce((n, [, t]) => n + t.size, 0) + model.namedBuffers().reduce((n, [, t]) => n + t.size, 0);
const wasm = engine.memory.wasm.buffer.byteLength / MiB;
console.log(JSON.stringify({
  file, fileMiB: +size.toFixed(1), parameters, importMs: Math.round(ms),
  peakRssOverBaselineMiB: +(after - before).toFixed(1), ratioToFile: +((after - before) / size).toFixed(2), wasmMemoryMiB: +wasm.toFixed(1),
}));
