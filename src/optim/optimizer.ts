// An optimiser updates parameters in place from their gradients, one Wasm kernel call per
// parameter. zeroGrad() fills the gradients with zeros rather than freeing them, so a training
// loop reuses the same buffers every step.
import { ArgumentError } from "../errors.js";
import { Tensor } from "../tensor.js";

export interface OptimizerOptions {
  /** Learning rate η; may be changed between steps through `optimizer.lr`. */
  lr: number;
  /** L2 penalty (coupled; AdamW decouples it). Default 0. */
  weightDecay?: number;
}

export function checkNonNegative(where: string, name: string, value: number): number {
  if (typeof value !== "number" || !(value >= 0) || !Number.isFinite(value)) {
    throw new ArgumentError(`${where}: ${name} must be a finite number ≥ 0, got ${value}`);
  }
  return value;
}

export abstract class Optimizer {
  readonly params: readonly Tensor[];
  private rate: number;
  readonly weightDecay: number;
  /** Steps taken. */
  steps = 0;
  /** Per-parameter state buffers (momentum, moments), created on the first step. */
  protected readonly state = new Map<Tensor, Tensor[]>();

  constructor(params: readonly Tensor[], options: OptimizerOptions, private readonly stateSlots: number) {
    const where = this.constructor.name;
    if (!Array.isArray(params) || params.length === 0 || !params.every((p) => p instanceof Tensor && p.requiresGrad)) {
      throw new ArgumentError(`${where}: expected a non-empty array of tensors with requiresGrad (model.parameters())`);
    }
    this.params = params;
    this.rate = checkNonNegative(where, "lr", options.lr);
    this.weightDecay = checkNonNegative(where, "weightDecay", options.weightDecay ?? 0);
  }

  get lr(): number {
    return this.rate;
  }

  set lr(value: number) {
    this.rate = checkNonNegative(this.constructor.name, "lr", value);
  }

  /** One update of every parameter that has a gradient. */
  step(): void {
    this.steps++;
    for (const p of this.params) {
      if (!p.grad) continue;
      this.update(p, p.grad, this.buffers(p));
    }
  }

  /** Sets every gradient to zero, keeping its memory for the next step. */
  zeroGrad(): void {
    for (const p of this.params) if (p.grad) p.engine.kernels.fill(p.grad.ptr, 0, p.size);
  }

  protected abstract update(p: Tensor, grad: Tensor, state: readonly Tensor[]): void;

  private buffers(p: Tensor): Tensor[] {
    let buffers = this.state.get(p);
    if (!buffers) {
      buffers = Array.from({ length: this.stateSlots }, () => {
        const t = Tensor.persistent(p.shape, p.engine);
        p.engine.kernels.fill(t.ptr, 0, t.size);
        return t;
      });
      this.state.set(p, buffers);
    }
    return buffers;
  }
}
