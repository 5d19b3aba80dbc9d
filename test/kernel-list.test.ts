// The kernel list is written once, in the module (assembly/index.ts's exports): the TypeScript
// view of it (src/backend/kernels.ts) and the table of kernels threads may run (slots.ts) are
// held to it — every declared kernel is exported with the arity declared, every export is
// declared, and every shareable kernel exists — for both builds.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { KERNELS } from "../src/backend/slots.js";

const root = join(__dirname, "..");
/** The methods of the Kernels interface, with their parameter counts, read from its source. */
function declared(): Map<string, number> {
  const source = readFileSync(join(root, "src/backend/kernels.ts"), "utf8");
  const body = source.slice(source.indexOf("export interface Kernels {"), source.indexOf("\n}\n", source.indexOf("export interface Kernels {")));
  const methods = new Map<string, number>();
  for (const [, name, params] of body.replace(/\/\*\*[\s\S]*?\*\//g, "").matchAll(/\n\s+(\w+)\(([^)]*)\):/g)) {
    methods.set(name, params.trim() === "" ? 0 : params.split(",").filter((p) => p.trim() !== "").length);
  }
  return methods;
}

describe("the kernel list", () => {
  for (const build of ["simd", "relaxed"]) {
    it(`${build}.wasm exports exactly the kernels src/backend/kernels.ts declares, each with its declared arity`, async () => {
      const bytes = readFileSync(join(root, `build/${build}.wasm`));
      const module = new WebAssembly.Module(bytes);
      const functions = WebAssembly.Module.exports(module).filter((e) => e.kind === "function").map((e) => e.name);
      const methods = declared();
      expect(methods.size).toBeGreaterThan(50);
      expect([...methods.keys()].sort()).toEqual([...functions].sort());
      if (build === "simd") {
        // Arity from the instance (a Wasm function's length is its parameter count).
        const memory = new WebAssembly.Memory({ initial: 64 });
        const instance = new WebAssembly.Instance(module, { env: { memory } });
        const wrong = [...methods].filter(([name, n]) => (instance.exports[name] as (...a: number[]) => unknown).length !== n);
        expect(wrong).toEqual([]);
      }
      expect(Object.keys(KERNELS).filter((k) => !functions.includes(k))).toEqual([]);
    });
  }
});
