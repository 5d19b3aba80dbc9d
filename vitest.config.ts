import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    // Node 20 runs relaxed SIMD only behind this flag; with it the tests cover both builds.
    execArgv: ["--experimental-wasm-relaxed-simd"],
    testTimeout: 60_000,
  },
});
