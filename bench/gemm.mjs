// GEMM suite: GFLOP/s of C = op(A)·op(B) for wasmgrad (baseline and relaxed builds),
// tfjs-backend-wasm's matMul (XNNPACK), and a plain-JS loop, on the shapes a network's
// forward (NN) and backward (NT: δ·Wᵀ, TN: xᵀ·δ) passes use.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";
import { gflops, measure } from "./measure.mjs";
import { wasmgradEngines } from "./engines.mjs";

// [label, m, k, n, variants]: op(A) is m×k, op(B) is k×n.
const ALL = ["NN", "NT", "TN"];
const CASES = [
  ["128x128·128x128", 128, 128, 128, ALL],
  ["256x256·256x256", 256, 256, 256, ALL],
  ["512x512·512x512", 512, 512, 512, ALL],
  ["1024x1024·1024x1024", 1024, 1024, 1024, ALL],
  ["64x784·784x128", 64, 784, 128, ALL],
  ["64x128·128x64", 64, 128, 64, ALL],
  ["784x64·64x128", 784, 64, 128, ALL], // Aᵀ·B is ∂W = xᵀ·δ
  ["64x128·128x784", 64, 128, 784, ALL], // A·Bᵀ is δ·Wᵀ
];

export const describe = () => ({ peer: "tfjs-wasm" });

function randomFill(view, seed) {
  let s = seed >>> 0;
  for (let i = 0; i < view.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    view[i] = s / 2 ** 31 - 1;
  }
}

/** Plain JS, i-p-j order so the inner loop walks rows: the loop a careful person writes by hand. */
function jsMatMul(a, b, c, m, k, n) {
  c.fill(0);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const x = a[i * k + p];
      const row = i * n;
      const brow = p * n;
      for (let j = 0; j < n; j++) c[row + j] += x * b[brow + j];
    }
  }
}

const budget = (flops) => (flops > 1e9 ? { time: 1500, iterations: 10 } : { time: 500, iterations: 20 });

export async function* run(log) {
  const engines = await wasmgradEngines();
  await tf.setBackend("wasm");
  await tf.ready();

  for (const [label, m, k, n, variants] of CASES) {
    const flops = 2 * m * k * n;
    for (const variant of variants) {
      const transA = variant === "TN", transB = variant === "NT";
      const name = `${variant} ${label}`;
      log(`gemm ${name}`);
      for (const [impl, engine] of engines) {
        const mem = engine.memory;
        const a = mem.alloc(m * k * 4), b = mem.alloc(k * n * 4), c = mem.alloc(m * n * 4);
        randomFill(mem.f32(a, m * k), 1);
        randomFill(mem.f32(b, k * n), 2);
        const args = { transA, transB, m, n, k, a, b, c };
        const t = await measure(() => engine.gemm(args), budget(flops));
        [a, b, c].forEach((p) => mem.free(p));
        yield { suite: "gemm", case: name, impl, ...gflops(flops, t) };
      }
      {
        const a = tf.randomUniform(transA ? [k, m] : [m, k], -1, 1);
        const b = tf.randomUniform(transB ? [n, k] : [k, n], -1, 1);
        const t = await measure(() => tf.matMul(a, b, transA, transB).dispose(), budget(flops));
        a.dispose();
        b.dispose();
        yield { suite: "gemm", case: name, impl: "tfjs-wasm", ...gflops(flops, t) };
      }
      if (variant === "NN") {
        const a = new Float32Array(m * k), b = new Float32Array(k * n), c = new Float32Array(m * n);
        randomFill(a, 1);
        randomFill(b, 2);
        const t = await measure(() => jsMatMul(a, b, c, m, k, n), flops > 1e9 ? { time: 0, iterations: 2 } : budget(flops));
        yield { suite: "gemm", case: name, impl: "js-loop", ...gflops(flops, t) };
      }
    }
  }
}
