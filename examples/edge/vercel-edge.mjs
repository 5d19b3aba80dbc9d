// Vercel's edge runtime (npm edge-runtime) forbids compiling WebAssembly at run time; its bundler
// compiles the .wasm outside the sandbox (`import wasm from "wasmgrad/wasm/simd.wasm?module"`) and
// hands in a WebAssembly.Module from another realm. This entry is bundled into one script and run
// inside an EdgeVM with `codeGeneration: { wasm: false }`; the test passes the module as `wasm`, and
// the file's bytes as `bytes` to show what init() says when handed bytes it may not compile.
import * as wasmgrad from "../../dist/index.js";
import { job, tryInit } from "./job.mjs";

globalThis.result = (async () => ({
  withoutModule: await tryInit(wasmgrad),
  fromBytes: await tryInit(wasmgrad, globalThis.bytes),
  ...(await job(wasmgrad, globalThis.wasm)),
}))();
