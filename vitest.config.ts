import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    // Node 20 runs relaxed SIMD only behind a flag; with it the tests cover both builds.
    // --expose-gc lets tests check that collected tensors give their memory back.
    execArgv: ["--experimental-wasm-relaxed-simd", "--expose-gc"],
    testTimeout: 60_000,
  },
});
