// The activation step shared by the fused layer ops (dense, conv2d): applied in place on the
// rows×cols output, and its derivative δ = gy ⊙ f'(·) computed from that output.
import { checkNumber, checkOneOf } from "../../check.js";
import type { Tensor } from "../../tensor.js";
import { empty } from "./util.js";

export type Activation = "linear" | "sigmoid" | "tanh" | "relu" | "leakyRelu" | "softmax";
export const ACTIVATIONS: readonly Activation[] = ["linear", "sigmoid", "tanh", "relu", "leakyRelu", "softmax"];

/** An activation name and its leaky-relu slope (in [0, 1): a slope ≥ 1 or NaN is no rectifier). */
export function checkActivation(where: string, activation: unknown, slope: unknown): { activation: Activation; slope: number } {
  return {
    activation: checkOneOf(where, "activation", activation, ACTIVATIONS),
    slope: checkNumber(where, "slope", slope, { min: 0, below: 1 }),
  };
}

/** y ← f(y) in place; softmax normalises each row of `cols`. */
export function activateInPlace(y: Tensor, cols: number, activation: Activation, slope: number): void {
  const k = y.engine.kernels;
  if (activation === "sigmoid") k.sigmoid(y.ptr, y.ptr, y.size);
  else if (activation === "tanh") k.tanh(y.ptr, y.ptr, y.size);
  else if (activation === "relu") k.leakyRelu(y.ptr, 0, y.ptr, y.size);
  else if (activation === "leakyRelu") k.leakyRelu(y.ptr, slope, y.ptr, y.size);
  else if (activation === "softmax") k.softmaxRows(y.ptr, y.ptr, cols === 0 ? 0 : y.size / cols, cols);
}

/** δ = gy ⊙ f'(z) from the output y = f(z) (for relu, y > 0 exactly where z > 0); gy itself when linear. */
export function activationDelta(y: Tensor, gy: Tensor, cols: number, activation: Activation, slope: number): Tensor {
  if (activation === "linear") return gy;
  const k = y.engine.kernels;
  const delta = empty(y);
  if (activation === "sigmoid") k.sigmoidBackward(y.ptr, gy.ptr, delta.ptr, y.size);
  else if (activation === "tanh") k.tanhBackward(y.ptr, gy.ptr, delta.ptr, y.size);
  else if (activation === "softmax") k.softmaxBackward(y.ptr, gy.ptr, delta.ptr, y.size / cols, cols);
  else k.leakyReluBackward(y.ptr, activation === "relu" ? 0 : slope, gy.ptr, delta.ptr, y.size);
  return delta;
}
