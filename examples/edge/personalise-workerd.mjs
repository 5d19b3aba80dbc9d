// The personalising request (personalise.mjs) as a Cloudflare Worker. workerd compiles no
// WebAssembly at run time: the .wasm is a module of the worker (wrangler: `import wasm from
// "wasmgrad/wasm/simd.wasm"`), as are the backbone's bytes (a data module) and task.json. The
// test() handler is what `workerd test` runs: it posts the examples module's images to fetch().
import * as wasmgrad from "wasmgrad";
import * as onnx from "wasmgrad/onnx";
import wasm from "simd.wasm";
import backbone from "backbone.onnx";
import task from "task.json";
import examples from "examples.json";
import { personalise } from "./personalise.mjs";

const worker = {
  fetch: (request) => personalise(request, { wasmgrad, onnx, wasm, backbone: new Uint8Array(backbone), task }),
  async test() {
    const bad = await worker.fetch(new Request("http://worker/", { method: "POST", body: JSON.stringify({ classes: ["a"], images: [], labels: [] }) }));
    const response = await worker.fetch(new Request("http://worker/", { method: "POST", body: JSON.stringify(examples) }));
    const bytes = new Uint8Array(await response.arrayBuffer());
    let binary = "";
    for (const b of bytes) binary += String.fromCharCode(b);
    console.log(JSON.stringify({ status: response.status, refused: [bad.status, await bad.text()], head: btoa(binary) }));
  },
};
export default worker;
