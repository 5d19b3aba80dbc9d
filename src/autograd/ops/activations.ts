// Activations. Each backward is one fused kernel computing gy ⊙ f'(·) from what forward saved.
import { checkNumber } from "../../check.js";
import { ArgumentError, ShapeError } from "../../errors.js";
import { type Tensor, formatShape } from "../../tensor.js";
import { record } from "../graph.js";
import { checkTensor, empty, normaliseAxis } from "./util.js";

export function sigmoid(x: Tensor): Tensor {
  checkTensor("sigmoid", "x", x);
  const y = empty(x);
  x.engine.kernels.sigmoid(x.ptr, y.ptr, x.size);
  return record(y, "sigmoid", [x], (gy) => {
    const gx = empty(x); // σ' = σ(1 − σ)
    x.engine.kernels.sigmoidBackward(y.ptr, gy.ptr, gx.ptr, x.size);
    return [gx];
  });
}

export function tanh(x: Tensor): Tensor {
  checkTensor("tanh", "x", x);
  const y = empty(x);
  x.engine.kernels.tanh(x.ptr, y.ptr, x.size);
  return record(y, "tanh", [x], (gy) => {
    const gx = empty(x); // tanh' = 1 − tanh²
    x.engine.kernels.tanhBackward(y.ptr, gy.ptr, gx.ptr, x.size);
    return [gx];
  });
}

export function relu(x: Tensor): Tensor {
  checkTensor("relu", "x", x);
  return rectifier(x, 0, "relu");
}

export function leakyRelu(x: Tensor, slope = 0.01): Tensor {
  checkTensor("leakyRelu", "x", x);
  checkNumber("leakyRelu", "slope", slope, { min: 0, below: 1 });
  return rectifier(x, slope, "leakyRelu");
}

function rectifier(x: Tensor, slope: number, op: string): Tensor {
  const y = empty(x);
  x.engine.kernels.leakyRelu(x.ptr, slope, y.ptr, x.size);
  return record(y, op, [x], (gy) => {
    const gx = empty(x); // 1 where x > 0, slope elsewhere
    x.engine.kernels.leakyReluBackward(x.ptr, slope, gy.ptr, gx.ptr, x.size);
    return [gx];
  }, slope ? { slope } : {});
}

/** The kernels work on rows: the last axis is the one normalised. */
function lastAxisRows(op: string, x: Tensor, axis: number): [number, number] {
  checkTensor(op, "x", x);
  if (x.rank === 0) throw new ShapeError(`${op}: needs at least one axis, got a scalar`);
  if (normaliseAxis(op, axis, x.rank) !== x.rank - 1) {
    throw new ArgumentError(`${op}: only the last axis is supported (got axis ${axis} of shape ${formatShape(x.shape)}); transpose first`);
  }
  const cols = x.shape[x.rank - 1];
  return [cols === 0 ? 0 : x.size / cols, cols];
}

export function softmax(x: Tensor, axis = -1): Tensor {
  const [rows, cols] = lastAxisRows("softmax", x, axis);
  const y = empty(x);
  x.engine.kernels.softmaxRows(x.ptr, y.ptr, rows, cols);
  return record(y, "softmax", [x], (gy) => {
    const gx = empty(x); // ∂yᵢ/∂xⱼ = yᵢ(δᵢⱼ − yⱼ)
    x.engine.kernels.softmaxBackward(y.ptr, gy.ptr, gx.ptr, rows, cols);
    return [gx];
  });
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const [rows, cols] = lastAxisRows("logSoftmax", x, axis);
  const y = empty(x);
  x.engine.kernels.logSoftmaxRows(x.ptr, y.ptr, rows, cols);
  return record(y, "logSoftmax", [x], (gy) => {
    const gx = empty(x); // ∂yᵢ/∂xⱼ = δᵢⱼ − softmax(x)ⱼ
    x.engine.kernels.logSoftmaxBackward(y.ptr, gy.ptr, gx.ptr, rows, cols);
    return [gx];
  });
}
