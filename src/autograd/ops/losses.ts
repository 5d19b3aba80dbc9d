// Losses, each one fused op: a forward kernel that returns the summed loss and a backward kernel
// that writes ∂L/∂input directly. All are means over the batch (MSE: over every element).
// Targets are class indices (a [batch] tensor or array of integers) or a [batch, classes] tensor
// (one-hot or any distribution), or, for MSE and binary cross-entropy, values of the input's shape.
import type { Kernels } from "../../backend/kernels.js";
import { checkBoolean, checkNumber, checkOptions, describe } from "../../check.js";
import { ArgumentError, ShapeError } from "../../errors.js";
import { Tensor, formatShape, isNumericArray, tensor } from "../../tensor.js";
import { record } from "../graph.js";
import { gather } from "./select.js";
import { reshape } from "./shape.js";
import { checkTensor, empty, sameShape } from "./util.js";

export type Targets = Tensor | ArrayLike<number>;

/** The targets as a tensor on the input's engine; `made` when the loss made it (and so frees it). */
function asTensor(op: string, input: Tensor, t: Targets): { t: Tensor; made: Tensor[] } {
  checkTensor(op, "the input", input);
  if (Tensor.isTensor(t)) {
    checkTensor(op, "the targets", t);
    if (t.engine !== input.engine) throw new ArgumentError(`${op}: the targets live in another engine's memory than the input`);
    return { t, made: [] };
  }
  if (!Array.isArray(t) && !isNumericArray(t)) {
    throw new ArgumentError(`${op}: targets must be a Tensor, an array or a typed array, got ${describe(t)}`);
  }
  const made = tensor(t as number[], { engine: input.engine });
  return { t: made, made: [made] };
}

/** One number as a one-element tensor of shape []. */
function scalar(like: Tensor, value: number): Tensor {
  const out = empty(like, []);
  like.engine.memory.f32(out.ptr, 1)[0] = value;
  return out;
}

/** Class indices ([batch]) or a distribution per row ([batch, classes]) for a [batch, classes] input. */
function classTargets(op: string, input: Tensor, targets: Tensor): "labels" | "dense" {
  if (input.rank !== 2) throw new ShapeError(`${op}: expected inputs of shape [batch, classes], got ${formatShape(input.shape)}`);
  if (input.shape[0] === 0 || input.shape[1] === 0) {
    throw new ShapeError(`${op}: needs at least one sample and one class, got shape ${formatShape(input.shape)}; a mean over no samples is undefined`);
  }
  if (targets.rank === 1 && targets.shape[0] === input.shape[0]) return "labels";
  if (sameShape(targets.shape, input.shape)) return "dense";
  throw new ShapeError(
    `${op}: targets must be class indices of shape [${input.shape[0]}] or one-hot rows of shape ${formatShape(input.shape)}, got ${formatShape(targets.shape)}`,
  );
}

/** The loss kernels return NaN for a label that is not a class index; say which one. */
function checkLoss(op: string, total: number, targets: Tensor, classes: number): number {
  if (!Number.isNaN(total)) return total;
  const labels = targets.data();
  const row = labels.findIndex((v) => !(Number.isInteger(v) && v >= 0 && v < classes));
  if (row >= 0) throw new ArgumentError(`${op}: label ${labels[row]} at row ${row} is not a class index in [0, ${classes})`);
  return total;
}

export interface CrossEntropyOptions {
  /** The input is logits (softmax applied inside, fused: ∂L/∂logits = (ŷ − y)/batch). Default true. */
  fromLogits?: boolean;
  /** With class indices: tokens with this label (padding) are left out; the mean is over the others. */
  ignoreIndex?: number;
}

/** Categorical cross-entropy, averaged over the batch. */
export function crossEntropy(input: Tensor, targets: Targets, options?: CrossEntropyOptions): Tensor {
  const { fromLogits = true, ignoreIndex } = checkOptions("crossEntropy", options);
  checkBoolean("crossEntropy", "options.fromLogits", fromLogits);
  if (ignoreIndex !== undefined) checkNumber("crossEntropy", "options.ignoreIndex", ignoreIndex, { integer: true });
  checkTensor("crossEntropy", "the input", input);
  if (input.rank > 2 || ignoreIndex !== undefined) return sequenceCrossEntropy(input, targets, fromLogits, ignoreIndex);
  const { t, made } = asTensor("crossEntropy", input, targets);
  let kind: "labels" | "dense";
  try {
    kind = classTargets("crossEntropy", input, t);
  } catch (e) {
    made.forEach((m) => m.dispose());
    throw e;
  }
  const [rows, cols] = input.shape;
  const k = input.engine.kernels;
  const per = 1 / rows;
  if (fromLogits) {
    const probs = empty(input);
    let total: number;
    try {
      total =
        kind === "labels"
          ? checkLoss("crossEntropy", k.softmaxCrossEntropy(input.ptr, t.ptr, probs.ptr, rows, cols), t, cols)
          : k.softmaxCrossEntropyDense(input.ptr, t.ptr, probs.ptr, rows, cols);
    } catch (e) {
      probs.dispose();
      made.forEach((m) => m.dispose());
      throw e;
    }
    return record(scalar(input, total * per), "softmaxCrossEntropy", [input, t], (gy) => {
      const g = empty(input); // (ŷ − y) · gy / batch
      const scale = gy.item() * per;
      if (kind === "labels") k.softmaxCrossEntropyBackward(probs.ptr, t.ptr, g.ptr, rows, cols, scale);
      else k.softmaxCrossEntropyDenseBackward(probs.ptr, t.ptr, g.ptr, rows, cols, scale);
      return [g];
    }, {}, [probs, ...made]);
  }
  let total: number;
  try {
    total =
      kind === "labels"
        ? checkLoss("crossEntropy", k.crossEntropy(input.ptr, t.ptr, rows, cols), t, cols)
        : k.crossEntropyDense(input.ptr, t.ptr, input.size);
  } catch (e) {
    made.forEach((m) => m.dispose());
    throw e;
  }
  return record(scalar(input, total * per), "crossEntropy", [input, t], (gy) => {
    const g = empty(input); // −y/ŷ · gy / batch
    const scale = gy.item() * per;
    if (kind === "labels") k.crossEntropyBackward(input.ptr, t.ptr, g.ptr, rows, cols, scale);
    else k.crossEntropyDenseBackward(input.ptr, t.ptr, g.ptr, input.size, scale);
    return [g];
  }, {}, made);
}

function sameShapeTargets(op: string, input: Tensor, targets: Targets): { t: Tensor; made: Tensor[] } {
  const { t, made } = asTensor(op, input, targets);
  if (!sameShape(t.shape, input.shape) && !(t.rank === 1 && t.size === input.size)) {
    made.forEach((m) => m.dispose());
    throw new ShapeError(`${op}: targets must have the input's shape ${formatShape(input.shape)}, got ${formatShape(t.shape)}`);
  }
  return { t, made };
}

/** A loss that is a mean over every element: `total` sums it, `backward` writes its gradient times a scale. */
function elementwiseLoss(
  op: string, input: Tensor, targets: Targets,
  total: (k: Kernels, input: number, targets: number, n: number) => number,
  backward: (k: Kernels, input: number, targets: number, g: number, n: number, scale: number) => void,
): Tensor {
  const { t, made } = sameShapeTargets(op, input, targets);
  if (input.size === 0) {
    made.forEach((m) => m.dispose());
    throw new ShapeError(`${op}: the input is empty (shape ${formatShape(input.shape)}); a mean over no elements is undefined`);
  }
  const k = input.engine.kernels;
  const per = 1 / input.size;
  return record(scalar(input, total(k, input.ptr, t.ptr, input.size) * per), op, [input, t], (gy) => { // the targets are an input too: no gradient, but the graph holds them
    const g = empty(input);
    backward(k, input.ptr, t.ptr, g.ptr, input.size, gy.item() * per);
    return [g];
  }, {}, made);
}

/** Binary cross-entropy from logits (sigmoid fused, numerically stable), averaged over every element: ∂/∂z = (σ(z) − t)/n. */
export function binaryCrossEntropy(logits: Tensor, targets: Targets): Tensor {
  return elementwiseLoss("binaryCrossEntropy", logits, targets, (k, z, t, n) => k.bceWithLogits(z, t, n),
    (k, z, t, g, n, scale) => k.bceWithLogitsBackward(z, t, g, n, scale));
}

/** Mean squared error over every element: ∂/∂y = 2(y − t)/n. */
export function mse(input: Tensor, targets: Targets): Tensor {
  return elementwiseLoss("mse", input, targets, (k, y, t, n) => k.squaredError(y, t, n),
    (k, y, t, g, n, scale) => k.squaredErrorBackward(y, t, g, n, scale));
}

/**
 * Cross-entropy over the last axis of [batch, …, classes] outputs (a sequence's tokens): the
 * mean over every position, or, with ignoreIndex, over the positions whose label is not it.
 * Rows are gathered (a differentiable op), so ignored positions get a zero gradient.
 */
function sequenceCrossEntropy(input: Tensor, targets: Targets, fromLogits: boolean, ignoreIndex: number | undefined): Tensor {
  const classes = input.shape[input.rank - 1];
  const rows = reshape(input, [-1, classes]);
  const labels = Tensor.isTensor(targets) ? checkTensor("crossEntropy", "the targets", targets).data() : Array.isArray(targets) || ArrayBuffer.isView(targets) ? Array.from(targets as ArrayLike<number>) : null;
  if (labels === null) throw new ArgumentError(`crossEntropy: targets must be a Tensor, an array or a typed array, got ${describe(targets)}`);
  if (labels.length !== rows.shape[0]) {
    if (ignoreIndex === undefined && labels.length === input.size) {
      return crossEntropy(rows, Tensor.isTensor(targets) ? reshape(targets, [-1, classes]) : tensor(Array.from(labels), { shape: [rows.shape[0], classes], engine: input.engine }), { fromLogits });
    }
    throw new ShapeError(`crossEntropy: ${labels.length} targets for ${rows.shape[0]} positions of ${formatShape(input.shape)} (class indices, one per position)`);
  }
  const kept: number[] = [];
  const keptLabels: number[] = [];
  labels.forEach((l, i) => {
    if (l !== ignoreIndex) {
      kept.push(i);
      keptLabels.push(l);
    }
  });
  if (kept.length === 0) throw new ShapeError("crossEntropy: every position is ignored; a mean over no tokens is undefined");
  const chosen = kept.length === rows.shape[0] ? rows : gather(rows, kept);
  return crossEntropy(chosen, keptLabels, { fromLogits });
}
