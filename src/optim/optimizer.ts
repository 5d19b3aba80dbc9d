// An optimiser updates parameters in place from their gradients, one Wasm kernel call per
// parameter. zeroGrad() fills the gradients with zeros rather than freeing them, so a training
// loop reuses the same buffers every step.
import { checkOptions, describe } from "../check.js";
import { ArgumentError, ShapeError } from "../errors.js";
import { DisposedError, Tensor, formatShape } from "../tensor.js";

export interface OptimizerOptions {
  /** Learning rate η; may be changed between steps through `optimizer.lr`. */
  lr: number;
  /** L2 penalty (coupled; AdamW decouples it). Default 0. */
  weightDecay?: number;
}

export function checkNonNegative(where: string, name: string, value: number): number {
  if (typeof value !== "number" || !(value >= 0) || !Number.isFinite(value)) {
    throw new ArgumentError(`${where}: ${name} must be a finite number ≥ 0, got ${describe(value)}`);
  }
  return value;
}

/**
 * The parameters that have a gradient, each checked (alive, a gradient of its shape in its
 * engine) before any is touched: an update or a clip is all or nothing.
 */
export function withGradients(where: string, params: readonly Tensor[]): Tensor[] {
  const ready: Tensor[] = [];
  params.forEach((p, i) => {
    const what = `parameter ${i}${p.name ? ` (${p.name})` : ""}`;
    if (p.isDisposed) throw new DisposedError(`${where}: ${what} was disposed`);
    const g = p.grad;
    if (!g) return;
    if (g.isDisposed) throw new DisposedError(`${where}: the gradient of ${what} was disposed; set it to null or call zeroGrad()`);
    if (g.size !== p.size || g.rank !== p.rank || g.shape.some((d, k) => d !== p.shape[k])) {
      throw new ShapeError(`${where}: the gradient of ${what} has shape ${formatShape(g.shape)}, the parameter ${formatShape(p.shape)}`);
    }
    if (g.engine !== p.engine) throw new ArgumentError(`${where}: the gradient of ${what} lives in another engine's memory`);
    ready.push(p);
  });
  return ready;
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
    if (!Array.isArray(params) || params.length === 0 || !params.every((p) => Tensor.isTensor(p) && !p.isDisposed && p.requiresGrad)) {
      throw new ArgumentError(`${where}: expected a non-empty array of live tensors with requiresGrad (model.parameters()), got ${describe(params)}`);
    }
    if (new Set(params).size !== params.length) throw new ArgumentError(`${where}: a parameter appears twice in the list; it would be updated twice`);
    checkOptions(where, options);
    this.params = [...params];
    this.rate = checkNonNegative(where, "lr", options.lr);
    this.weightDecay = checkNonNegative(where, "weightDecay", options.weightDecay ?? 0);
  }

  get lr(): number {
    return this.rate;
  }

  set lr(value: number) {
    this.rate = checkNonNegative(this.constructor.name, "lr", value);
  }

  /** One update of every parameter that has a gradient; all are checked before any changes. */
  step(): void {
    const ready = withGradients(`${this.constructor.name}.step`, this.params);
    const buffers = ready.map((p) => this.buffers(p)); // allocates before the first update: no half step on OutOfMemoryError
    this.steps++;
    ready.forEach((p, i) => this.update(p, p.grad!, buffers[i]));
  }

  /** Sets every gradient to zero, keeping its memory for the next step. */
  zeroGrad(): void {
    for (const p of withGradients(`${this.constructor.name}.zeroGrad`, this.params)) p.engine.kernels.fill(p.grad!.ptr, 0, p.size);
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
