// Cloudflare's workerd compiles no WebAssembly at run time and gives modules no file URL: the .wasm
// is a module of the worker, imported as a compiled WebAssembly.Module and passed to init().
// (With wrangler: `import wasm from "wasmgrad/wasm/simd.wasm"`, which it bundles as CompiledWasm.)
import * as wasmgrad from "wasmgrad";
import wasm from "simd.wasm";
import { job, tryInit } from "./job.mjs";

export default {
  async test() {
    console.log(JSON.stringify({ withoutModule: await tryInit(wasmgrad), ...(await job(wasmgrad, wasm)) }));
  },
};
