// Deno and Bun read the package's own .wasm file as Node does (node:fs): init() needs no options.
//   deno run --allow-read examples/edge/deno-bun.mjs      bun examples/edge/deno-bun.mjs
import * as wasmgrad from "../../dist/index.js";
import { job } from "./job.mjs";

console.log(JSON.stringify(await job(wasmgrad)));
