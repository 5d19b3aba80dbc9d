// The activations as elementwise ops (x.sigmoid(), …): each reads its rule from the one table in
// activate.ts; softmax and logSoftmax normalise the last axis.
import { ArgumentError, ShapeError } from "../../errors.js";
import { type Tensor, formatShape } from "../../tensor.js";
import { activate } from "./activate.js";
import { checkTensor, normaliseAxis } from "./util.js";

export const sigmoid = (x: Tensor): Tensor => activate(x, "sigmoid");
export const tanh = (x: Tensor): Tensor => activate(x, "tanh");
export const relu = (x: Tensor): Tensor => activate(x, "relu");
export const leakyRelu = (x: Tensor, slope = 0.01): Tensor => activate(x, "leakyRelu", slope);

/** The kernels work on rows: the last axis is the one normalised. */
function checkLastAxis(op: string, x: Tensor, axis: number): void {
  checkTensor(op, "x", x);
  if (x.rank === 0) throw new ShapeError(`${op}: needs at least one axis, got a scalar`);
  if (normaliseAxis(op, axis, x.rank) !== x.rank - 1) {
    throw new ArgumentError(`${op}: only the last axis is supported (got axis ${axis} of shape ${formatShape(x.shape)}); transpose first`);
  }
}

export function softmax(x: Tensor, axis = -1): Tensor {
  checkLastAxis("softmax", x, axis);
  return activate(x, "softmax");
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  checkLastAxis("logSoftmax", x, axis);
  return activate(x, "logSoftmax");
}
