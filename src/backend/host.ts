// What the JavaScript host offers beyond the language: whether it is Node, and Node's built-in
// modules (Deno and Bun have them too), reached without a static import that would break a
// browser bundle.

interface NodeProcess {
  versions?: { node?: string };
  execArgv?: string[];
  getBuiltinModule?: (name: string) => unknown;
}

/** The host's byte order is little-endian (typed arrays over Wasm memory, raw file bytes, read as they are). */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Node's process object, where there is one. */
export const nodeProcess = (): NodeProcess | undefined => (globalThis as { process?: NodeProcess }).process;

/** True in Node (and in hosts that present themselves as Node). */
export const isNode = (): boolean => typeof nodeProcess()?.versions?.node === "string";

/**
 * A Node built-in module. process.getBuiltinModule (Node ≥ 20.16, Deno, Bun) hands it over as it
 * is, where import("node:fs") first builds its ES-module face (which loads node:stream: ~12 ms of a
 * cold start); elsewhere a dynamic import, named by a variable so that bundlers leave it alone.
 * Rejects where the host has no such module (a browser).
 */
export async function nodeBuiltin<T>(name: string): Promise<T> {
  return nodeBuiltinNow<T>(name) ?? (await import(/* @vite-ignore */ /* webpackIgnore: true */ name));
}

/** A Node built-in module at once, where process.getBuiltinModule has it; undefined elsewhere. */
export const nodeBuiltinNow = <T>(name: string): T | undefined => nodeProcess()?.getBuiltinModule?.(name) as T | undefined;
