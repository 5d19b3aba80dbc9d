// Test-only helpers: a seeded PRNG independent of the library's, and float64 references.
import { type Build, detectFeatures } from "../src/index.js";

/** mulberry32: small, seeded, good enough to make test data. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform values in [-1, 1), rounded to float32. */
export function randomArray(n: number, random: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = random() * 2 - 1;
  return out;
}

/** Builds the host can run: both where relaxed SIMD is on (vitest passes the flag), else one. */
export const BUILDS: Build[] = detectFeatures().relaxedSimd ? ["simd", "relaxed"] : ["simd"];

/** Unit round-off of float32. */
export const F32_EPS = 2 ** -24;

/** A full GC, then time for the finalisation callbacks that free tensors' memory (needs --expose-gc). */
export async function collectGarbage(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run node with --expose-gc (vitest.config.ts does)");
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 0));
  }
}
