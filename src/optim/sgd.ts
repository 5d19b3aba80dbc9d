import type { Tensor } from "../tensor.js";
import { Optimizer, type OptimizerOptions, checkNonNegative } from "./optimizer.js";

export interface SGDOptions extends OptimizerOptions {
  /** μ. Default 0 (plain gradient descent, w ← w − η·∂L/∂w). */
  momentum?: number;
  /** Nesterov momentum. Default false. */
  nesterov?: boolean;
}

/** Stochastic gradient descent, with optional (Nesterov) momentum and weight decay. */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly nesterov: boolean;

  constructor(params: readonly Tensor[], options: SGDOptions) {
    super(params, options, 1);
    this.momentum = checkNonNegative("SGD", "momentum", options.momentum ?? 0);
    this.nesterov = options.nesterov ?? false;
  }

  protected update(p: Tensor, grad: Tensor, [velocity]: readonly Tensor[]): void {
    p.engine.kernels.sgdStep(p.ptr, grad.ptr, velocity.ptr, p.size, this.lr, this.momentum, this.nesterov, this.weightDecay);
  }
}
