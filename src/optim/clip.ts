// Seeing and taming gradients: their norms per parameter (vanishing gradients show as norms that
// shrink toward the input layers, exploding ones as norms that blow up) and clipping by the
// global norm, as torch.nn.utils.clip_grad_norm_ does.
import { checkNumber, describe } from "../check.js";
import { ArgumentError } from "../errors.js";
import { Tensor } from "../tensor.js";
import { withGradients } from "./optimizer.js";

function checkParams(where: string, params: readonly Tensor[]): Tensor[] {
  if (!Array.isArray(params) || !params.every((p) => Tensor.isTensor(p))) {
    throw new ArgumentError(`${where}: expected an array of tensors (model.parameters()), got ${describe(params)}`);
  }
  return withGradients(where, params);
}

/** ‖∂L/∂p‖₂ for every parameter that has a gradient, by name. */
export function gradientNorms(params: readonly Tensor[]): { name: string; norm: number }[] {
  return checkParams("gradientNorms", params).map((p) => ({
    name: p.name ?? `param_${params.indexOf(p)}`,
    norm: Math.sqrt(p.engine.kernels.sumSquares(p.grad!.ptr, p.grad!.size)),
  }));
}

/**
 * Scales all gradients by maxNorm / ‖g‖ when their global norm ‖g‖ (over every parameter)
 * exceeds maxNorm. Returns the norm before clipping.
 */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): number {
  checkNumber("clipGradNorm", "maxNorm", maxNorm, { above: 0 });
  const ready = checkParams("clipGradNorm", params);
  let squares = 0;
  for (const p of ready) squares += p.engine.kernels.sumSquares(p.grad!.ptr, p.grad!.size);
  const norm = Math.sqrt(squares);
  if (norm > maxNorm) {
    const factor = maxNorm / (norm + 1e-6);
    for (const p of ready) p.engine.kernels.scale(p.grad!.ptr, factor, p.grad!.ptr, p.grad!.size);
  }
  return norm;
}
