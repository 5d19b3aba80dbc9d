// Matrix product. Backward uses the transposed GEMM shapes directly, no transposed copies:
// ∂L/∂A = ∂L/∂Y · Bᵀ (NT) and ∂L/∂B = Aᵀ · ∂L/∂Y (TN).
import { ShapeError } from "../../errors.js";
import { type Tensor, formatShape } from "../../tensor.js";
import { record } from "../graph.js";
import { checkSameEngine, checkTensor, empty } from "./util.js";

export function matmul(a: Tensor, b: Tensor): Tensor {
  checkTensor("matmul", "the left operand", a);
  checkTensor("matmul", "the right operand", b);
  if (a.rank !== 2 || b.rank !== 2 || a.shape[1] !== b.shape[0]) {
    throw new ShapeError(`matmul: expected [m, k] and [k, n], got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  }
  checkSameEngine("matmul", a, b);
  const [m, k] = a.shape;
  const n = b.shape[1];
  const engine = a.engine;
  const y = empty(a, [m, n]);
  engine.gemm({ m, n, k, a: a.ptr, b: b.ptr, c: y.ptr });
  // Where an input is a leaf, its gradient is accumulated straight into its .grad by the GEMM.
  return record(y, "matmul", [a, b], (gy, needs, into) => {
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (needs[0]) {
      const target = into(0);
      ga = target ? null : empty(a);
      engine.gemm({ transB: true, m, n: k, k: n, a: gy.ptr, b: b.ptr, c: (target ?? ga!).ptr, accumulate: !!target });
    }
    if (needs[1]) {
      const target = into(1);
      gb = target ? null : empty(b);
      engine.gemm({ transA: true, m: k, n, k: m, a: a.ptr, b: gy.ptr, c: (target ?? gb!).ptr, accumulate: !!target });
    }
    return [ga, gb];
  });
}
