import { readFile } from "node:fs/promises";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  ArgumentError, UnsupportedHostError, detectFeatures, getEngine, init,
} from "../src/index.js";

describe("init", () => {
  afterEach(() => vi.restoreAllMocks());

  it("picks relaxed SIMD where the host has it, baseline SIMD otherwise", async () => {
    const engine = await init();
    expect(engine.build).toBe(detectFeatures().relaxedSimd ? "relaxed" : "simd");
    expect(getEngine()).toBe(engine);
  });

  it("can be forced to the baseline build", async () => {
    expect((await init({ build: "simd" })).build).toBe("simd");
  });

  it("accepts the module as bytes or as a compiled WebAssembly.Module, and reads which build it is", async () => {
    const bytes = await readFile(new URL("../build/simd.wasm", import.meta.url));
    expect((await init({ wasm: bytes })).build).toBe("simd");
    const module = await WebAssembly.compile(bytes);
    const engine = await init({ wasm: module });
    expect(engine.build).toBe("simd");
    // The instance works: a 1×1 product.
    const p = engine.memory.alloc(12);
    engine.memory.f32(p, 2).set([3, 4]);
    engine.gemm({ m: 1, n: 1, k: 1, a: p, b: p + 4, c: p + 8 });
    expect(engine.memory.f32(p + 8, 1)[0]).toBe(12);
  });

  it("says clearly when the host has no Wasm SIMD", async () => {
    vi.spyOn(WebAssembly, "validate").mockReturnValue(false);
    await expect(init()).rejects.toThrow(UnsupportedHostError);
    await expect(init()).rejects.toThrow(/no SIMD/);
  });

  it("says clearly when relaxed SIMD is forced on a host without it", async () => {
    const real = WebAssembly.validate;
    // Pretend the relaxed probe fails (the baseline probe still passes).
    vi.spyOn(WebAssembly, "validate").mockImplementation((b) => real(b) && (b as Uint8Array).length < 34);
    await expect(init({ build: "relaxed" })).rejects.toThrow(/no relaxed SIMD.*--experimental-wasm-relaxed-simd/);
    expect((await init()).build).toBe("simd");
  });

  it("wraps bytes that do not compile in UnsupportedHostError", async () => {
    await expect(init({ wasm: new Uint8Array([0, 97, 115, 109, 9, 9, 9, 9]) })).rejects.toThrow(UnsupportedHostError);
  });

  it("rejects bad options", async () => {
    await expect(init({ build: "avx" as never })).rejects.toThrow(ArgumentError);
    await expect(init({ initialBytes: 1 << 20, maxBytes: 1 << 10 })).rejects.toThrow(/initialBytes ≤ maxBytes/);
  });
});

describe("before init", () => {
  it("getEngine throws NotInitializedError", async () => {
    vi.resetModules();
    const fresh = await import("../src/index.js");
    expect(() => fresh.getEngine()).toThrow(fresh.NotInitializedError);
    expect(() => fresh.getEngine()).toThrow(/await init\(\) first/);
  });
});
