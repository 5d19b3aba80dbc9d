// The activations, one table: each entry is an activation's forward kernel call and its
// derivative, δ = gy ⊙ f'(·), computed from the output y = f(x) alone (for the rectifiers y > 0
// exactly where x > 0). Everything that applies an activation reads this table: the elementwise
// ops (x.sigmoid(), …), the fused dense and conv2d ops, and the layers' `activation` option.
// Adding an activation is one entry here and its kernels in assembly/activations.ts.
import type { Engine } from "../../backend/engine.js";
import type { ParallelKernel } from "../../backend/slots.js";
import { checkNumber, checkOneOf } from "../../check.js";
import type { Tensor } from "../../tensor.js";
import { record } from "../graph.js";
import { checkTensor, empty } from "./util.js";

interface ActivationRule {
  /** y = f(x) over `rows` rows of `cols` (x and y may be one address: in place). */
  forward(e: Engine, x: number, y: number, rows: number, cols: number, slope: number): void;
  /** gx = gy ⊙ f'(x), from y = f(x) (from x itself when `input` is set). */
  backward(e: Engine, y: number, gy: number, gx: number, rows: number, cols: number, slope: number): void;
  /** Works on whole rows (the last axis), not element by element. */
  rows?: true;
  /** f' does not follow from the output (gelu, silu): backward takes the input. */
  input?: true;
}

/** The activations' names, each an entry of the table below (the compiler holds the two to each other). */
export type Activation =
  | "linear" | "sigmoid" | "tanh" | "relu" | "leakyRelu" | "softmax" | "logSoftmax"
  | "gelu" | "silu" | "swish" | "elu" | "softplus" | "hardSigmoid" | "hardSwish";

/**
 * An elementwise kernel over `n` floats, its last argument the count: `args(offset)` are its other
 * arguments for the elements from byte `offset` on. Threads may share it in ranges.
 */
const each = (e: Engine, kernel: ParallelKernel, n: number, args: (offset: number) => number[]) =>
  e.parallel(kernel, n, (from, to) => [...args(4 * from), to - from]);
/** y = f(x) by `kernel`(x, y, n). */
const map = (kernel: ParallelKernel): ActivationRule["forward"] => (e, x, y, r, c) => each(e, kernel, r * c, (o) => [x + o, y + o]);
/** gx = gy ⊙ f'(·) by `kernel`(y or x, gy, gx, n). */
const chain = (kernel: ParallelKernel): ActivationRule["backward"] => (e, y, gy, gx, r, c) => each(e, kernel, r * c, (o) => [y + o, gy + o, gx + o]);

/** y = f(x) row by row by `kernel`(x, y, rows, cols), shared between threads by ranges of rows. */
const rowsMap = (kernel: ParallelKernel): ActivationRule["forward"] => (e, x, y, r, c) =>
  e.parallel(kernel, r, (from, to) => [x + 4 * from * c, y + 4 * from * c, to - from, c], { unit: 1, work: r * c });
/** gx = gy ⊙ f'(·) row by row by `kernel`(y, gy, gx, rows, cols). */
const rowsChain = (kernel: ParallelKernel): ActivationRule["backward"] => (e, y, gy, gx, r, c) =>
  e.parallel(kernel, r, (from, to) => [y + 4 * from * c, gy + 4 * from * c, gx + 4 * from * c, to - from, c], { unit: 1, work: r * c });

const TABLE: Record<Activation, ActivationRule | null> = {
  linear: null,
  sigmoid: {
    forward: map("sigmoid"),
    backward: chain("sigmoidBackward"), // σ' = σ(1 − σ)
  },
  tanh: {
    forward: map("tanh"),
    backward: chain("tanhBackward"), // tanh' = 1 − tanh²
  },
  relu: {
    forward: (e, x, y, r, c) => each(e, "leakyRelu", r * c, (o) => [x + o, 0, y + o]),
    backward: (e, y, gy, gx, r, c) => each(e, "leakyReluBackward", r * c, (o) => [y + o, 0, gy + o, gx + o]), // 1 where x > 0, else 0
  },
  leakyRelu: {
    forward: (e, x, y, r, c, slope) => each(e, "leakyRelu", r * c, (o) => [x + o, slope, y + o]),
    backward: (e, y, gy, gx, r, c, slope) => each(e, "leakyReluBackward", r * c, (o) => [y + o, slope, gy + o, gx + o]), // 1 where x > 0, else slope
  },
  softmax: {
    rows: true,
    forward: rowsMap("softmaxRows"),
    backward: rowsChain("softmaxBackward"), // ∂yᵢ/∂xⱼ = yᵢ(δᵢⱼ − yⱼ)
  },
  logSoftmax: {
    rows: true,
    forward: rowsMap("logSoftmaxRows"),
    backward: rowsChain("logSoftmaxBackward"), // ∂yᵢ/∂xⱼ = δᵢⱼ − softmax(x)ⱼ
  },
  gelu: {
    input: true,
    forward: map("gelu"),
    backward: chain("geluBackward"), // Φ(x) + x·φ(x)
  },
  silu: {
    input: true,
    forward: map("silu"),
    backward: chain("siluBackward"), // σ(x)(1 + x(1 − σ(x)))
  },
  swish: { // silu's other name (Keras, tfjs)
    input: true,
    forward: map("silu"),
    backward: chain("siluBackward"),
  },
  elu: {
    forward: map("elu"),
    backward: chain("eluBackward"), // 1, or eˣ = y + 1
  },
  softplus: {
    forward: map("softplus"),
    backward: chain("softplusBackward"), // σ(x) = 1 − e^−y
  },
  hardSigmoid: {
    forward: map("hardSigmoid"),
    backward: chain("hardSigmoidBackward"), // 0.2 inside (0, 1)
  },
  hardSwish: {
    input: true,
    forward: map("hardSwish"),
    backward: chain("hardSwishBackward"), // 0, x/3 + ½, 1
  },
};

export const ACTIVATIONS = Object.keys(TABLE) as Activation[];

/** An activation name and its leaky-relu slope (in [0, 1): a slope ≥ 1 or NaN is no rectifier). */
export function checkActivation(where: string, activation: unknown, slope: unknown): { activation: Activation; slope: number } {
  return {
    activation: checkOneOf(where, "activation", activation, ACTIVATIONS),
    slope: checkNumber(where, "slope", slope, { min: 0, below: 1 }),
  };
}

/**
 * y ← f(y) in place, rows of `cols` (the fused ops' last step). Returns a copy of the values
 * before, when the activation's derivative needs them (gelu, silu), else null.
 */
export function activateInPlace(y: Tensor, cols: number, activation: Activation, slope: number): Tensor | null {
  const rule = TABLE[activation];
  if (!rule) return null;
  let before: Tensor | null = null;
  if ("input" in rule) {
    before = empty(y);
    y.engine.kernels.scale(y.ptr, 1, before.ptr, y.size);
  }
  applyInPlace(y, cols, activation, slope);
  return before;
}

/** y ← f(y) in place, rows of `cols`, keeping nothing for a backward pass (inference: a fused conv's activation). */
export function applyInPlace(y: Tensor, cols: number, activation: Activation, slope = 0.01): void {
  TABLE[activation]?.forward(y.engine, y.ptr, y.ptr, cols === 0 ? 0 : y.size / cols, cols, slope);
}

/** δ = gy ⊙ f'(z) from the output y = f(z) (or z itself, `before`, where needed); gy itself when linear. */
export function activationDelta(y: Tensor, before: Tensor | null, gy: Tensor, cols: number, activation: Activation, slope: number): Tensor {
  const rule = TABLE[activation];
  if (!rule) return gy;
  const delta = empty(y);
  rule.backward(y.engine, ("input" in rule ? before! : y).ptr, gy.ptr, delta.ptr, cols === 0 ? 0 : y.size / cols, cols, slope);
  return delta;
}

/** y = f(x) as an op of the graph: rows are the last axis for the row-wise activations (softmax). */
export function activate(x: Tensor, activation: Activation, slope = 0.01, op?: string): Tensor {
  // The op's name is the activation's, once it is known to be one (junk would name the error).
  checkActivation(op ?? "activate", activation, slope);
  op ??= activation;
  checkTensor(op, "x", x);
  const rule = TABLE[activation];
  const cols = rule && "rows" in rule ? x.shape[x.rank - 1] : x.size;
  const rows = cols === 0 ? 0 : x.size / cols;
  const y = empty(x);
  if (rule) rule.forward(x.engine, x.ptr, y.ptr, rows, cols, slope);
  else x.engine.kernels.scale(x.ptr, 1, y.ptr, x.size);
  return record(y, op, [x], (gy) => {
    const gx = empty(x);
    if (rule) rule.backward(x.engine, ("input" in rule ? x : y).ptr, gy.ptr, gx.ptr, rows, cols, slope);
    else x.engine.kernels.scale(gy.ptr, 1, gx.ptr, gy.size);
    return [gx];
  }, activation === "leakyRelu" ? { slope } : {});
}
