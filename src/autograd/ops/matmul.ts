// Matrix product. Backward uses the transposed GEMM shapes directly, no transposed copies:
// ∂L/∂A = ∂L/∂Y · Bᵀ (NT) and ∂L/∂B = Aᵀ · ∂L/∂Y (TN).
// Batched: operands of rank ≥ 3 are stacks of matrices over leading batch axes, broadcast as
// NumPy does (a [2, 1, m, k] times b [3, k, n] gives [2, 3, m, n]); one GEMM per output matrix,
// and an operand repeated over a batch axis gets the sum of its gradients there. Threads share
// the products (attention's heads), each output's products on one thread in order.
import { ShapeError } from "../../errors.js";
import { type Shape, type Tensor, formatShape } from "../../tensor.js";
import { record } from "../graph.js";
import { broadcastShapes } from "./shape.js";
import { checkSameEngine, checkTensor, contiguousStrides, empty } from "./util.js";
import type { Engine } from "../../backend/engine.js";
import type { Call } from "../../backend/slots.js";
import { PARALLEL_MIN_MACS } from "../../backend/threads.js";

export function matmul(a: Tensor, b: Tensor): Tensor {
  checkTensor("matmul", "the left operand", a);
  checkTensor("matmul", "the right operand", b);
  if (a.rank > 2 || b.rank > 2) return batchedMatmul(a, b);
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

/** Byte offset of each output matrix's operand, for the batch shape `batch` read with `own`'s (broadcast) batch axes. */
function batchOffsets(own: Shape, batch: Shape, matrixFloats: number): number[] {
  const ownBatch = own.slice(0, -2);
  const strides = contiguousStrides(ownBatch);
  const count = batch.reduce((p, d) => p * d, 1);
  const offsets: number[] = [];
  for (let i = 0; i < count; i++) {
    let rest = i, at = 0;
    for (let d = batch.length - 1; d >= 0; d--) {
      const index = rest % batch[d];
      rest = Math.floor(rest / batch[d]);
      const k = d - (batch.length - ownBatch.length);
      if (k >= 0 && ownBatch[k] !== 1) at += index * strides[k];
    }
    offsets.push(4 * at * matrixFloats);
  }
  return offsets;
}

function batchedMatmul(a: Tensor, b: Tensor): Tensor {
  if (a.rank < 2 || b.rank < 2 || a.shape[a.rank - 1] !== b.shape[b.rank - 2]) {
    throw new ShapeError(`matmul: expected [..., m, k] and [..., k, n], got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  }
  checkSameEngine("matmul", a, b);
  const [m, k] = a.shape.slice(-2);
  const n = b.shape[b.rank - 1];
  const batch = broadcastShapes("matmul", a.shape.slice(0, -2), b.shape.slice(0, -2));
  const engine = a.engine;
  const y = empty(a, [...batch, m, n]);
  const aAt = batchOffsets(a.shape, batch, m * k);
  const bAt = batchOffsets(b.shape, batch, k * n);
  const items = aAt.map((_, i) => i);
  byTargets(engine, items.map((i) => [i]), m * n * k, (i) => [false, false, m, n, k, a.ptr + aAt[i], b.ptr + bAt[i], y.ptr + 4 * i * m * n, false]);
  return record(y, "matmul", [a, b], (gy, needs) => {
    const grads: (Tensor | null)[] = [null, null];
    // A broadcast operand's gradient block sums several products: each block's products stay
    // together, in order, on one thread.
    if (needs[0]) {
      const ga = empty(a);
      if (items.length === 0) engine.kernels.fill(ga.ptr, 0, ga.size); // no products: a zero gradient
      byTargets(engine, groupedBy(aAt), m * n * k, (i) => [false, true, m, k, n, gy.ptr + 4 * i * m * n, b.ptr + bAt[i], ga.ptr + aAt[i], true], (i) => [ga.ptr + aAt[i], m * k]);
      grads[0] = ga;
    }
    if (needs[1]) {
      const gb = empty(b);
      if (items.length === 0) engine.kernels.fill(gb.ptr, 0, gb.size);
      byTargets(engine, groupedBy(bAt), m * n * k, (i) => [true, false, k, n, m, a.ptr + aAt[i], gy.ptr + 4 * i * m * n, gb.ptr + bAt[i], true], (i) => [gb.ptr + bAt[i], k * n]);
      grads[1] = gb;
    }
    return grads;
  });
}

/** Indices of `offsets` grouped by offset (each group in ascending order), groups in order of first appearance. */
function groupedBy(offsets: number[]): number[][] {
  const groups = new Map<number, number[]>();
  offsets.forEach((offset, i) => (groups.get(offset) ?? groups.set(offset, []).get(offset)!).push(i));
  return [...groups.values()];
}

type Product = [transA: boolean, transB: boolean, m: number, n: number, k: number, a: number, b: number, c: number, accumulate: boolean];

/**
 * GEMMs of `macs` multiply-adds each, in `groups` whose products share an output (zeroed first
 * when `zero` gives its address and length): a group a thread when there are enough of them to go
 * round, else each GEMM shared by itself. Either way an output is summed in group order.
 */
function byTargets(engine: Engine, groups: number[][], macs: number, product: (i: number) => Product, zero?: (i: number) => [number, number]): void {
  const gemm = ([transA, transB, m, n, k, a, b, c, accumulate]: Product): Call =>
    ["sgemm", +transA, +transB, m, n, k, a, transA ? m : k, b, transB ? k : n, c, n, +accumulate, 0, -Infinity, Infinity];
  const calls = (group: number[]): Call[] => {
    const output = zero?.(group[0]);
    return [...(output ? [["fill", output[0], 0, output[1]] as Call] : []), ...group.map((i) => gemm(product(i)))];
  };
  if (groups.length >= engine.threads) {
    engine.share(groups.length, (from, to) => groups.slice(from, to).flatMap(calls), { unit: 1, work: macs * groups.flat().length, minWork: PARALLEL_MIN_MACS });
    return;
  }
  for (const group of groups) {
    if (zero) {
      const [at, floats] = zero(group[0]);
      engine.kernels.fill(at, 0, floats);
    }
    for (const i of group) {
      const [transA, transB, m, n, k, a, b, c, accumulate] = product(i);
      engine.gemm({ transA, transB, m, n, k, a, b, c, accumulate });
    }
  }
}
