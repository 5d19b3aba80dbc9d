// The personalising request (personalise.mjs) on Vercel's edge runtime, which forbids compiling
// WebAssembly at run time: its bundler compiles the .wasm outside the sandbox (`import wasm from
// "wasmgrad/wasm/simd.wasm?module"`), and the backbone and task.json ship with the function. In a
// deployment this file's default export is the route's handler; the test bundles it and runs it
// in an EdgeVM with code generation off, handing in `wasm`, `backbone` and `task` as globals.
import * as wasmgrad from "../../dist/index.js";
import * as onnx from "../../dist/onnx.js";
import { personalise } from "./personalise.mjs";

export default function handler(request) {
  const { wasm, backbone, task } = globalThis;
  return personalise(request, { wasmgrad, onnx, wasm, backbone, task });
}
globalThis.handler = handler;
