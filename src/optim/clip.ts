// Seeing and taming gradients: their norms per parameter (vanishing gradients show as norms that
// shrink toward the input layers, exploding ones as norms that blow up) and clipping by the
// global norm, as torch.nn.utils.clip_grad_norm_ does.
import { ArgumentError } from "../errors.js";
import type { Tensor } from "../tensor.js";

/** ‖∂L/∂p‖₂ for every parameter that has a gradient, by name. */
export function gradientNorms(params: readonly Tensor[]): { name: string; norm: number }[] {
  return params
    .filter((p) => p.grad)
    .map((p, i) => ({ name: p.name ?? `param_${i}`, norm: Math.sqrt(p.engine.kernels.sumSquares(p.grad!.ptr, p.size)) }));
}

/**
 * Scales all gradients by maxNorm / ‖g‖ when their global norm ‖g‖ (over every parameter)
 * exceeds maxNorm. Returns the norm before clipping.
 */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): number {
  if (!(maxNorm > 0)) throw new ArgumentError(`clipGradNorm: maxNorm must be > 0, got ${maxNorm}`);
  let squares = 0;
  for (const p of params) if (p.grad) squares += p.engine.kernels.sumSquares(p.grad.ptr, p.size);
  const norm = Math.sqrt(squares);
  if (norm > maxNorm) {
    const factor = maxNorm / (norm + 1e-6);
    for (const p of params) if (p.grad) p.engine.kernels.scale(p.grad.ptr, factor, p.grad.ptr, p.size);
  }
  return norm;
}
