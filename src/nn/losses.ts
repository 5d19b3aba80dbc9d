// The losses by name, for compile({ loss: "crossEntropy" }); the loss ops themselves live with
// the other ops in autograd/ops/losses.ts.
import { binaryCrossEntropy, crossEntropy, mse } from "../autograd/ops/losses.js";
import type { Tensor } from "../tensor.js";

export type LossName = "crossEntropy" | "crossEntropyFromProbabilities" | "binaryCrossEntropy" | "mse";
export type LossFn = (output: Tensor, targets: Tensor) => Tensor;

export const losses: Record<LossName, LossFn> = {
  crossEntropy: (o, t) => crossEntropy(o, t),
  crossEntropyFromProbabilities: (o, t) => crossEntropy(o, t, { fromLogits: false }),
  binaryCrossEntropy,
  mse,
};
