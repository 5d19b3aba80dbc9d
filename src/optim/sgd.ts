import { checkBoolean, checkNumber, describe } from "../check.js";
import { ArgumentError } from "../errors.js";
import type { Tensor } from "../tensor.js";
import { Optimizer, type OptimizerOptions, type Parameters } from "./optimizer.js";

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

  constructor(params: Parameters, options: SGDOptions) {
    if (typeof options !== "object" || options === null) {
      throw new ArgumentError(`SGD: options with a learning rate are required (new SGD(params, { lr: 0.1 })), got ${describe(options)}`);
    }
    super(params, options, 1);
    this.momentum = checkNumber("SGD", "momentum", options.momentum ?? 0, { min: 0 });
    this.nesterov = checkBoolean("SGD", "nesterov", options.nesterov ?? false);
    if (this.nesterov && this.momentum === 0) throw new ArgumentError("SGD: nesterov needs momentum > 0");
  }

  protected readonly slots = ["velocity"];

  protected settings(): Record<string, number | boolean> {
    return { momentum: this.momentum, nesterov: this.nesterov, weightDecay: this.weightDecay };
  }

  protected update(p: Tensor, grad: Tensor, [velocity]: readonly Tensor[]): void {
    p.engine.parallel("sgdStep", p.size, (from, to) => [
      p.ptr + 4 * from, grad.ptr + 4 * from, velocity.ptr + 4 * from, to - from, this.rateOf(p), this.momentum, this.nesterov ? 1 : 0, this.decayOf(p),
    ]);
  }
}
