// Finding and compiling the module: from the package's own files (Node, Deno, Bun), from a URL next
// to this file (browsers and bundlers, which recognise `new URL(…, import.meta.url)`), from bytes,
// or from an already compiled WebAssembly.Module (edge runtimes that forbid compiling at run time).
import { UnsupportedHostError } from "../errors.js";
import { nodeBuiltin } from "./host.js";
import { withSharedMemory } from "./shared-module.js";

export type Build = "simd" | "relaxed";
/**
 * Where the kernels come from: a compiled `WebAssembly.Module` (typed as `object` so that these
 * declarations need no DOM lib), the `.wasm` file's bytes, or its URL.
 */
export type WasmSource = object | ArrayBuffer | ArrayBufferView | URL | string;

const HOW = "pass the module to init({ wasm }): a WebAssembly.Module (edge runtimes: import the package's " +
  "wasmgrad/wasm/simd.wasm as a module), the .wasm file's bytes, or its URL";

function defaultUrl(build: Build): URL {
  try {
    // Two literal patterns, so that bundlers find and emit both files.
    return build === "relaxed"
      ? new URL("../../build/relaxed.wasm", import.meta.url)
      : new URL("../../build/simd.wasm", import.meta.url);
  } catch {
    // workerd and bundles that rewrite import.meta.url give no base to resolve against.
    throw new UnsupportedHostError(`init: could not locate the wasmgrad ${build} module (this host gives modules no usable URL: import.meta.url is ${JSON.stringify(String(import.meta.url))}); ${HOW}`);
  }
}

async function readBytes(url: URL): Promise<ArrayBuffer | ArrayBufferView> {
  try {
    if (url.protocol === "file:") {
      // Node, Deno and Bun get here.
      const { readFileSync } = await nodeBuiltin<typeof import("node:fs")>("node:fs");
      const { fileURLToPath } = await nodeBuiltin<typeof import("node:url")>("node:url");
      // Read synchronously: 32 kB, where the first asynchronous read starts libuv's thread pool.
      return readFileSync(fileURLToPath(url));
    }
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return await response.arrayBuffer();
  } catch (e) {
    throw new UnsupportedHostError(`init: could not read the wasmgrad module from ${url} (${(e as Error).message}); ${HOW}`);
  }
}

/** A compiled module, also one made in another realm (an edge runtime's sandbox), where instanceof fails. */
const isCompiledModule = (value: unknown): value is WebAssembly.Module =>
  value instanceof WebAssembly.Module || Object.prototype.toString.call(value) === "[object WebAssembly.Module]";

/** @internal With `shared`, the module imports shared memory (its bytes rewritten: shared-module.ts). */
export async function compileModule(build: Build, wasm?: WasmSource, { shared = false } = {}): Promise<WebAssembly.Module> {
  if (isCompiledModule(wasm)) return wasm;
  const source: unknown = wasm;
  const bytes =
    source === undefined || typeof source === "string" || source instanceof URL
      ? await readBytes(source === undefined ? defaultUrl(build) : new URL(source, import.meta.url))
      : source;
  if (!(bytes instanceof ArrayBuffer || ArrayBuffer.isView(bytes))) {
    throw new UnsupportedHostError(`init: options.wasm is neither a WebAssembly.Module, bytes nor a URL; ${HOW}`);
  }
  let code = bytes as BufferSource;
  if (shared) {
    const view = ArrayBuffer.isView(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : new Uint8Array(bytes);
    const patched = withSharedMemory(view);
    // Bytes that are no module at all fail to compile below, with the error that says so.
    if (!patched && WebAssembly.validate(code)) throw new UnsupportedHostError("init: the module's memory import is not the one wasmgrad builds (env.memory): cannot share it between threads");
    code = (patched ?? code) as BufferSource;
  }
  try {
    return await WebAssembly.compile(code);
  } catch (e) {
    const what = source === undefined || typeof source === "string" || source instanceof URL ? `the wasmgrad ${build} module` : "the bytes passed as options.wasm";
    const message = (e as Error).message;
    // Vercel's edge runtime and workerd forbid compiling at run time: only a precompiled module works there.
    const forbidden = /disallow|not allowed|code generation|CompileError: WebAssembly\.compile\(\)/i.test(message);
    throw new UnsupportedHostError(
      forbidden
        ? `this host forbids compiling WebAssembly at run time (${message}): pass a precompiled WebAssembly.Module to init({ wasm }) — import the package's wasmgrad/wasm/simd.wasm as a module`
        : `this host could not compile ${what}: ${message}`,
    );
  }
}
