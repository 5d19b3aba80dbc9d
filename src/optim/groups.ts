// The usual split of a model's parameters for weight decay: matrices and kernels decay; biases
// and normalisation scales and shifts (every parameter of rank 1 or 0) do not, since shrinking
// them towards zero only fights what they are for.
import { checkNumber } from "../check.js";
import type { Tensor } from "../tensor.js";
import type { ParamGroup } from "./optimizer.js";

/** [decayed, not decayed] groups of a model's parameters (frozen ones included: optimisers skip them while frozen). */
export function weightDecayGroups(model: { namedParameters(): [string, Tensor][] }, weightDecay: number, lr?: number): ParamGroup[] {
  checkNumber("weightDecayGroups", "weightDecay", weightDecay, { min: 0 });
  const params = model.namedParameters().map(([, t]) => t);
  const rate = lr === undefined ? {} : { lr: checkNumber("weightDecayGroups", "lr", lr, { min: 0 }) };
  return [
    { params: params.filter((t) => t.rank >= 2), weightDecay, ...rate },
    { params: params.filter((t) => t.rank < 2), weightDecay: 0, ...rate },
  ].filter((g) => g.params.length > 0);
}
