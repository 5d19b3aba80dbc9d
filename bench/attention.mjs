// Attention suite: a transformer block (LayerNorm → 4-head causal self-attention → residual →
// LayerNorm → gelu MLP ×4 → residual) at batch 8, sequence 128, model width 128, forward and
// forward+backward, in GFLOP/s (matrix products counted, 2 flops per multiply-add; backward twice
// the forward), beside a plain GEMM of the block's commonest shape, [1024, 128]·[128, 128],
// measured in the same run; and the attention layer alone. Peer: tfjs-layers' multiHeadAttention
// does not exist in 4.x, so the peer here is the run's own GEMM, as the issue asks.
import { Dense, LayerNorm, Model, MultiHeadAttention, noGrad, ones, tensor } from "../dist/index.js";
import { gflops, measure } from "./measure.mjs";
import { wasmgradEngines } from "./engines.mjs";

export const describe = () => ({ peer: null });
const B = 8, S = 128, D = 128, HEADS = 4, KEY = 32, HIDDEN = 4 * D;

class Block extends Model {
  norm1 = new LayerNorm();
  attention = new MultiHeadAttention(HEADS, KEY, { causal: true });
  norm2 = new LayerNorm();
  up = new Dense(HIDDEN, { activation: "gelu" });
  down = new Dense(D);
  forward(x) {
    const h = x.add(this.attention.call(this.norm1.call(x)));
    return h.add(this.down.call(this.up.call(this.norm2.call(h))));
  }
}

class Attention extends Model {
  attention = new MultiHeadAttention(HEADS, KEY, { causal: true });
  forward(x) {
    return this.attention.call(x);
  }
}

// Products per sample: Q, K, V, output projections (4·S·D·D), scores and weighted values (2·S·S·D);
// the block adds the MLP (2·S·D·HIDDEN).
const attentionFlops = 2 * B * (4 * S * D * D + 2 * S * S * D);
const blockFlops = attentionFlops + 2 * B * 2 * S * D * HIDDEN;

export async function* run(log) {
  for (const [impl, engine] of await wasmgradEngines()) {
    log(`attention: ${impl}`);
    const a = ones([B * S, D], { engine }), w = ones([D, D], { engine }), c = ones([B * S, D], { engine });
    const t = await measure(() => engine.gemm({ m: B * S, n: D, k: D, a: a.ptr, b: w.ptr, c: c.ptr }), { time: 1000, iterations: 50 });
    const gemm = gflops(2 * B * S * D * D, t);
    yield { suite: "attention", case: "GEMM [1024,128]·[128,128]", impl, ...gemm };
    const xs = Float32Array.from({ length: B * S * D }, (_, i) => Math.sin(i));
    for (const [name, M, flops] of [["transformer block", Block, blockFlops], ["attention layer", Attention, attentionFlops]]) {
      const model = new M({ seed: 1, engine }).build([S, D]);
      const x = tensor(xs, { shape: [B, S, D], engine, requiresGrad: true });
      const forward = () => noGrad(() => model.call(x).data());
      const both = () => {
        x.grad = null;
        for (const p of model.parameters()) p.grad = null;
        model.call(x).sum().backward();
      };
      model.eval();
      yield { suite: "attention", case: `${name} forward`, impl, ...gflops(flops, await measure(forward, { time: 1500, iterations: 10 })) };
      model.train();
      both();
      const row = gflops(3 * flops, await measure(both, { time: 2000, iterations: 10 }));
      yield { suite: "attention", case: `${name} forward+backward`, impl, ...row };
      yield { suite: "attention", case: `${name} forward+backward ÷ GEMM`, impl, metric: "ratio", median: row.median / gemm.median, min: null, max: null };
    }
  }
}
