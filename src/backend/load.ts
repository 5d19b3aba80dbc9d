// Finding and compiling the module: from the package's own files (Node), from a URL next to this
// file (browsers and bundlers, which recognise `new URL(…, import.meta.url)`), from bytes, or from
// an already compiled WebAssembly.Module (edge runtimes that forbid compiling at run time).
import { UnsupportedHostError } from "../errors.js";

export type Build = "simd" | "relaxed";
export type WasmSource = WebAssembly.Module | BufferSource | URL | string;

function defaultUrl(build: Build): URL {
  // Two literal patterns, so that bundlers find and emit both files.
  return build === "relaxed"
    ? new URL("../../build/relaxed.wasm", import.meta.url)
    : new URL("../../build/simd.wasm", import.meta.url);
}

async function readBytes(url: URL): Promise<BufferSource> {
  if (url.protocol === "file:") {
    // Only Node gets here; the specifier is a variable so browser bundlers leave it alone.
    const [fsName, urlName] = ["node:fs/promises", "node:url"];
    const { readFile } = (await import(/* @vite-ignore */ /* webpackIgnore: true */ fsName)) as typeof import("node:fs/promises");
    const { fileURLToPath } = (await import(/* @vite-ignore */ /* webpackIgnore: true */ urlName)) as typeof import("node:url");
    return readFile(fileURLToPath(url));
  }
  const response = await fetch(url);
  if (!response.ok) throw new UnsupportedHostError(`could not fetch ${url}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

export async function compileModule(build: Build, source?: WasmSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  const bytes =
    source === undefined || typeof source === "string" || source instanceof URL
      ? await readBytes(source === undefined ? defaultUrl(build) : new URL(source, import.meta.url))
      : source;
  try {
    return await WebAssembly.compile(bytes);
  } catch (e) {
    throw new UnsupportedHostError(
      `this host could not compile the wasmgrad ${build} module: ${(e as Error).message}`,
    );
  }
}
