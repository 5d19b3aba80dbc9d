// Arithmetic, each op's forward kernel call beside its backward rule (the local derivative times
// the gradient that arrives, ∂L/∂x = ∂L/∂y · ∂y/∂x). Tensor operands of different shapes are
// broadcast first (broadcastTo is itself an op, so its backward sums the gradient back).
import { describe } from "../../check.js";
import { ArgumentError } from "../../errors.js";
import { Tensor } from "../../tensor.js";
import { nodeOf, record } from "../graph.js";
import { broadcastPair } from "./shape.js";
import { checkSameEngine, checkScalar, checkTensor, empty } from "./util.js";

type Operand = Tensor | number;

/** The second operand: a number or a live tensor; anything else is named in the error. */
function checkOperand(op: string, a: Tensor, b: unknown): Operand {
  checkTensor(op, "the tensor", a);
  if (typeof b === "number" || Tensor.isTensor(b)) return b;
  throw new ArgumentError(`${op}: the other operand must be a Tensor or a number, got ${describe(b)}`);
}

// Elementwise kernels are shared between threads in ranges of elements (each element computed
// alike on any thread: the same bits); small tensors stay on the calling thread.

/** y = a ⊙ s, or a + s, for a number s (a fresh tensor: gradients must not alias one another). */
function withScalar(a: Tensor, s: number, kernel: "scale" | "addScalar"): Tensor {
  const y = empty(a);
  a.engine.parallel(kernel, a.size, (from, to) => [a.ptr + 4 * from, s, y.ptr + 4 * from, to - from]);
  return y;
}
const scaled = (a: Tensor, s: number) => withScalar(a, s, "scale");

/** y = f(a, b) elementwise, with a kernel of the form (a, b, out, n). */
function elementwise(a: Tensor, b: Tensor, kernel: "add" | "sub" | "mul" | "div"): Tensor {
  const y = empty(a);
  a.engine.parallel(kernel, a.size, (from, to) => [a.ptr + 4 * from, b.ptr + 4 * from, y.ptr + 4 * from, to - from]);
  return y;
}

/** Both operands as tensors of one shape; a number becomes a constant one-element tensor. */
function operands(op: string, a: Tensor, b: Tensor): [Tensor, Tensor] {
  checkSameEngine(op, a, b);
  return broadcastPair(op, a, b);
}

/**
 * y, with the broadcast copies of a and b taken care of: without a graph they are freed at once;
 * with one, a copy of an operand that needs no gradient (a constant, a mask) is no intermediate of
 * the graph, so the graph adopts it and frees it with its intermediates.
 */
function withoutCopies(y: Tensor, [a, b]: [Tensor, Tensor], [x, z]: [Tensor, Tensor]): Tensor {
  const node = nodeOf(y);
  for (const [original, copy] of [[a, x], [b, z]] as const) {
    if (copy === original) continue;
    if (!node) copy.dispose();
    else if (!nodeOf(copy)) node.adopted.push(copy);
  }
  return y;
}

/**
 * b is a vector along a's last axis (its other axes of size 1): broadcast over a's rows by a kernel
 * that reads it row by row (BatchNorm's scale and shift over NHWC), with no broadcast copy.
 */
function isRowVector(a: Tensor, b: Tensor): boolean {
  const cols = a.shape[a.rank - 1];
  return a.rank >= 2 && b.rank >= 1 && b.rank <= a.rank && b.shape[b.rank - 1] === cols && b.size === cols && a.size > cols;
}

/** out = kernel(x, v) row by row, threads sharing the rows. */
function byRows(kernel: "addBias" | "mulRows", x: Tensor, v: Tensor): Tensor {
  const out = empty(x), cols = x.shape[x.rank - 1];
  x.engine.share(x.size / cols, (from, to) => [[kernel, x.ptr + 4 * from * cols, v.ptr, out.ptr + 4 * from * cols, to - from, cols]], { unit: 1, work: x.size });
  return out;
}

/** ∂L/∂v for a row vector v broadcast over g's rows: g's column sums, in v's shape. */
function columnSums(g: Tensor, v: Tensor): Tensor {
  const out = empty(v), cols = v.size;
  g.engine.kernels.colSums(g.ptr, g.size / cols, cols, out.ptr, false);
  return out;
}

export function add(a: Tensor, b: Operand): Tensor {
  checkOperand("add", a, b);
  if (typeof b === "number") {
    checkScalar("add", b);
    return record(withScalar(a, b, "addScalar"), "add", [a], (gy) => [gy], { scalar: b }); // ∂(a + s)/∂a = 1
  }
  if (Tensor.isTensor(b) && isRowVector(a, b)) {
    checkSameEngine("add", a, b);
    return record(byRows("addBias", a, b), "add", [a, b], (gy, needs) => [gy, needs[1] ? columnSums(gy, b) : null]);
  }
  const [x, z] = operands("add", a, b);
  // ∂(x + z)/∂x = ∂(x + z)/∂z = 1
  return withoutCopies(record(elementwise(x, z, "add"), "add", [x, z], (gy) => [gy, gy]), [a, b], [x, z]);
}

/**
 * x·scale + shift for vectors scale and shift along x's last axis (BatchNorm with running
 * statistics over NHWC, frozen or not): one output where mul then add would make two, which a
 * training step keeps to its end. ∂x = g·scale, ∂scale = Σ g·x, ∂shift = Σ g over x's rows.
 */
export function affineRows(x: Tensor, scale: Tensor, shift: Tensor): Tensor {
  checkTensor("affineRows", "x", x);
  checkTensor("affineRows", "scale", scale);
  checkTensor("affineRows", "shift", shift);
  checkSameEngine("affineRows", x, scale);
  checkSameEngine("affineRows", x, shift);
  const along = x.rank >= 1 ? x.shape[x.rank - 1] : -1;
  if (scale.rank !== 1 || shift.rank !== 1 || scale.size !== along || shift.size !== along) {
    throw new ArgumentError(`affineRows: scale and shift must be vectors along x's last axis (${x.shape[x.rank - 1]}), got ${describe(scale.shape)} and ${describe(shift.shape)} for x ${describe(x.shape)}`);
  }
  const y = byRows("mulRows", x, scale);
  const cols = along;
  if (y.size > 0) x.engine.share(y.size / cols, (from, to) => [["addBias", y.ptr + 4 * from * cols, shift.ptr, y.ptr + 4 * from * cols, to - from, cols]], { unit: 1, work: y.size });
  return record(y, "affineRows", [x, scale, shift], (gy, needs) => {
    let gScale: Tensor | null = null;
    if (needs[1]) {
      const products = elementwise(gy, x, "mul");
      gScale = columnSums(products, scale);
      products.dispose();
    }
    return [needs[0] ? byRows("mulRows", gy, scale) : null, gScale, needs[2] ? columnSums(gy, shift) : null];
  });
}

export function sub(a: Tensor, b: Operand): Tensor {
  checkOperand("sub", a, b);
  if (typeof b === "number") {
    checkScalar("sub", b);
    return record(withScalar(a, -b, "addScalar"), "sub", [a], (gy) => [gy], { scalar: b });
  }
  const [x, z] = operands("sub", a, b);
  return withoutCopies(record(elementwise(x, z, "sub"), "sub", [x, z], (gy, needs) => [gy, needs[1] ? scaled(gy, -1) : null]), [a, b], [x, z]);
}

export function mul(a: Tensor, b: Operand): Tensor {
  checkOperand("mul", a, b);
  if (typeof b === "number") {
    checkScalar("mul", b);
    return record(scaled(a, b), "mul", [a], (gy) => [scaled(gy, b)], { scalar: b }); // ∂(s·a)/∂a = s
  }
  if (Tensor.isTensor(b) && isRowVector(a, b)) {
    checkSameEngine("mul", a, b);
    return record(byRows("mulRows", a, b), "mul", [a, b], (gy, needs) => {
      let gb: Tensor | null = null;
      if (needs[1]) {
        const products = elementwise(gy, a, "mul");
        gb = columnSums(products, b);
        products.dispose();
      }
      return [needs[0] ? byRows("mulRows", gy, b) : null, gb];
    });
  }
  const [x, z] = operands("mul", a, b);
  // ∂(x·z)/∂x = z, ∂(x·z)/∂z = x
  return withoutCopies(record(elementwise(x, z, "mul"), "mul", [x, z], (gy, needs) => [
    needs[0] ? elementwise(gy, z, "mul") : null,
    needs[1] ? elementwise(gy, x, "mul") : null,
  ]), [a, b], [x, z]);
}

export function div(a: Tensor, b: Operand): Tensor {
  checkOperand("div", a, b);
  if (typeof b === "number") {
    checkScalar("div", b);
    const y = empty(a);
    a.engine.kernels.fill(y.ptr, b, a.size);
    a.engine.kernels.div(a.ptr, y.ptr, y.ptr, a.size); // a / s exactly, not a · (1/s)
    return record(y, "div", [a], (gy) => [divideBy(gy, b)], { scalar: b });
  }
  const [x, z] = operands("div", a, b);
  const y = elementwise(x, z, "div");
  // ∂(x/z)/∂x = 1/z, ∂(x/z)/∂z = −x/z² = −y/z
  return withoutCopies(record(y, "div", [x, z], (gy, needs) => {
    const gx = elementwise(gy, z, "div");
    let gz: Tensor | null = null;
    if (needs[1]) {
      gz = elementwise(gx, y, "mul");
      gz.engine.kernels.scale(gz.ptr, -1, gz.ptr, gz.size);
    }
    if (!needs[0]) gx.dispose();
    return [needs[0] ? gx : null, gz];
  }), [a, b], [x, z]);
}

function divideBy(g: Tensor, s: number): Tensor {
  const out = empty(g);
  g.engine.kernels.fill(out.ptr, s, g.size);
  g.engine.kernels.div(g.ptr, out.ptr, out.ptr, g.size);
  return out;
}

export function neg(a: Tensor): Tensor {
  checkTensor("neg", "the tensor", a);
  return record(scaled(a, -1), "neg", [a], (gy) => [scaled(gy, -1)]);
}

/** a² — its own op (one exact multiply) rather than pow(a, 2). */
export function square(a: Tensor): Tensor {
  checkTensor("square", "the tensor", a);
  const y = elementwise(a, a, "mul");
  return record(y, "square", [a], (gy) => {
    const g = elementwise(gy, a, "mul"); // ∂a²/∂a = 2a
    g.engine.kernels.scale(g.ptr, 2, g.ptr, g.size);
    return [g];
  });
}

export function pow(a: Tensor, p: number): Tensor {
  checkTensor("pow", "the tensor", a);
  checkScalar("pow", p);
  const y = empty(a);
  a.engine.kernels.powScalar(a.ptr, p, y.ptr, a.size);
  return record(y, "pow", [a], (gy) => {
    const g = empty(a); // ∂aᵖ/∂a = p·aᵖ⁻¹
    a.engine.kernels.powScalar(a.ptr, p - 1, g.ptr, a.size);
    a.engine.kernels.mul(g.ptr, gy.ptr, g.ptr, g.size);
    a.engine.kernels.scale(g.ptr, p, g.ptr, g.size);
    return [g];
  }, { scalar: p });
}

export function exp(a: Tensor): Tensor {
  checkTensor("exp", "the tensor", a);
  const y = empty(a);
  a.engine.kernels.exp(a.ptr, y.ptr, a.size);
  return record(y, "exp", [a], (gy) => [elementwise(gy, y, "mul")]); // ∂eᵃ/∂a = eᵃ = y
}

export function log(a: Tensor): Tensor {
  checkTensor("log", "the tensor", a);
  const y = empty(a);
  a.engine.kernels.log(a.ptr, y.ptr, a.size);
  return record(y, "log", [a], (gy) => [elementwise(gy, a, "div")]); // ∂ln a/∂a = 1/a
}

export function sqrt(a: Tensor): Tensor {
  checkTensor("sqrt", "the tensor", a);
  const y = empty(a);
  a.engine.kernels.sqrt(a.ptr, y.ptr, a.size);
  return record(y, "sqrt", [a], (gy) => {
    const g = elementwise(gy, y, "div"); // ∂√a/∂a = 1/(2√a) = 1/(2y)
    g.engine.kernels.scale(g.ptr, 0.5, g.ptr, g.size);
    return [g];
  });
}

/** The error function; ∂erf(a)/∂a = 2/√π · e^(−a²). */
export function erf(a: Tensor): Tensor {
  checkTensor("erf", "the tensor", a);
  const y = empty(a);
  a.engine.kernels.erf(a.ptr, y.ptr, a.size);
  return record(y, "erf", [a], (gy) => {
    const g = empty(a);
    a.engine.kernels.erfBackward(a.ptr, gy.ptr, g.ptr, a.size);
    return [g];
  });
}
