// The fused dense op: y = f(x·W + b) in one GEMM and one pass over y, and its backward:
// δ = gy ⊙ f'(·) from the saved output, ∂W = xᵀ·δ (TN GEMM), ∂b = column sums of δ, ∂x = δ·Wᵀ
// (NT GEMM) — the seeds' layer equations, with W stored [in, out] because rows are samples.
// Gradients of parameters are accumulated straight into their .grad.
import { ShapeError } from "../../errors.js";
import { type Tensor, formatShape } from "../../tensor.js";
import { record } from "../graph.js";
import { type Activation, activateInPlace, activationDelta, checkActivation } from "./activate.js";
import { checkSameEngine, checkTensor, empty } from "./util.js";

export type { Activation };

export function dense(x: Tensor, w: Tensor, b: Tensor | null, activation: Activation = "linear", slope = 0.01): Tensor {
  checkTensor("dense", "x", x);
  checkTensor("dense", "W", w);
  if (b !== null) checkTensor("dense", "b (or null)", b);
  checkActivation("dense", activation, slope);
  if (x.rank !== 2 || w.rank !== 2 || x.shape[1] !== w.shape[0] || (b && (b.rank !== 1 || b.shape[0] !== w.shape[1]))) {
    throw new ShapeError(
      `dense: expected x [batch, in], W [in, out], b [out], got ${formatShape(x.shape)}, ${formatShape(w.shape)}` +
        (b ? `, ${formatShape(b.shape)}` : ""),
    );
  }
  checkSameEngine("dense", x, w);
  if (b) checkSameEngine("dense", x, b);
  const engine = x.engine;
  const k = engine.kernels;
  const [m, inputs] = x.shape;
  const n = w.shape[1];

  const y = empty(x, [m, n]);
  engine.gemm({ m, n, k: inputs, a: x.ptr, b: w.ptr, c: y.ptr });
  if (b) k.addBias(y.ptr, b.ptr, y.ptr, m, n);
  const before = activateInPlace(y, n, activation, slope);

  const inputsOf = b ? [x, w, b] : [x, w];
  return record(y, "dense", inputsOf, (gy, needs, into) => {
    const delta = activationDelta(y, before, gy, n, activation, slope); // δ = ∂L/∂z = gy ⊙ f'(z)
    const grads: (Tensor | null)[] = [null, null, null];
    if (needs[1]) {
      const target = into(1);
      grads[1] = target ? null : empty(w);
      engine.gemm({ transA: true, m: inputs, n, k: m, a: x.ptr, b: delta.ptr, c: (target ?? grads[1]!).ptr, accumulate: !!target });
    }
    if (b && needs[2]) {
      const target = into(2);
      grads[2] = target ? null : empty(b);
      k.colSums(delta.ptr, m, n, (target ?? grads[2]!).ptr, !!target);
    }
    if (needs[0]) {
      grads[0] = empty(x);
      engine.gemm({ transB: true, m, n: inputs, k: n, a: delta.ptr, b: w.ptr, c: grads[0].ptr });
    }
    if (delta !== gy) delta.dispose();
    return b ? grads : grads.slice(0, 2);
  }, activation === "linear" ? {} : { activation }, before ? [before] : []);
}
