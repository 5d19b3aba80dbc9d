import { checkNumber, checkOptions } from "../check.js";
import type { Tensor } from "../tensor.js";
import { Optimizer, type OptimizerOptions, type Parameters } from "./optimizer.js";

export interface AdamOptions extends Partial<OptimizerOptions> {
  /** Default 0.001. */
  lr?: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8. */
  eps?: number;
}

/** Adam (Kingma & Ba 2015); weight decay, if any, is added to the gradient (L2). */
export class Adam extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  protected readonly decoupled: boolean = false;

  constructor(params: Parameters, options: AdamOptions = {}) {
    const where = new.target.name;
    checkOptions(where, options);
    super(params, { lr: options.lr ?? 0.001, weightDecay: options.weightDecay }, 2);
    const { beta1 = 0.9, beta2 = 0.999, eps = 1e-8 } = options;
    checkNumber(where, "beta1", beta1, { min: 0, below: 1 });
    checkNumber(where, "beta2", beta2, { min: 0, below: 1 });
    checkNumber(where, "eps", eps, { above: 0 });
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
  }

  protected readonly slots = ["m", "v"];

  protected settings(): Record<string, number | boolean> {
    return { beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay };
  }

  protected update(p: Tensor, grad: Tensor, [m, v]: readonly Tensor[]): void {
    const t = this.steps;
    const [c1, c2] = [1 - this.beta1 ** t, 1 - this.beta2 ** t];
    // Element by element, so the engine may share ranges of it between threads.
    p.engine.parallel("adamStep", p.size, (from, to) => [
      p.ptr + 4 * from, grad.ptr + 4 * from, m.ptr + 4 * from, v.ptr + 4 * from, to - from,
      this.rateOf(p), this.beta1, this.beta2, this.eps, this.decayOf(p), this.decoupled ? 1 : 0, c1, c2,
    ]);
  }
}

/** AdamW (Loshchilov & Hutter 2019): weight decay shrinks the weights directly. Default decay 0.01. */
export class AdamW extends Adam {
  protected override readonly decoupled: boolean = true;
  constructor(params: Parameters, options: AdamOptions = {}) {
    super(params, { ...checkOptions("AdamW", options), weightDecay: options.weightDecay ?? 0.01 });
  }
}
