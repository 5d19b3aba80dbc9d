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

/** What an optimiser carries between steps, by parameter name (PyTorch's optimizer.state_dict()). */
export interface OptimizerState {
  /** The optimiser's class: "SGD", "Adam", "AdamW". */
  kind: string;
  steps: number;
  lr: number;
  /** Its settings (momentum, betas, …): must match the optimiser the state is loaded into. */
  settings: Record<string, number | boolean>;
  /** Per parameter name, its buffers by slot name (velocity; m and v). The tensors themselves. */
  state: Record<string, Record<string, Tensor>>;
}

/**
 * Parameters with their own learning rate and weight decay: a pretrained backbone slower than a
 * new head, no decay on norms and biases (weightDecayGroups()). A group's lr moves with the
 * optimiser's: a schedule (or optimizer.lr = …) scales every group's rate by the same factor.
 */
export interface ParamGroup {
  params: readonly Tensor[];
  /** This group's learning rate at the optimiser's initial lr. Default: the optimiser's. */
  lr?: number;
  /** Default: the optimiser's. */
  weightDecay?: number;
}

/** What an optimiser takes: parameters, or groups of them. */
export type Parameters = readonly Tensor[] | readonly ParamGroup[];

const isGroup = (g: unknown): g is ParamGroup => typeof g === "object" && g !== null && !Tensor.isTensor(g) && Array.isArray((g as ParamGroup).params);

/** Where parameter names come from: a model's namedParameters(), else each tensor's name. */
type Named = { namedParameters(): [string, Tensor][] };

export abstract class Optimizer {
  readonly params: readonly Tensor[];
  private rate: number;
  readonly weightDecay: number;
  /** Steps taken. */
  steps = 0;
  /** Per-parameter state buffers (momentum, moments), created on the first step. */
  protected readonly state = new Map<Tensor, Tensor[]>();

  /** Each grouped parameter's own settings. */
  readonly #groups = new Map<Tensor, { lr?: number; weightDecay?: number }>();
  readonly #initialLr: number;

  constructor(given: Parameters, options: OptimizerOptions, private readonly stateSlots: number) {
    const where = this.constructor.name;
    let params = given as readonly Tensor[];
    if (Array.isArray(given) && given.length > 0 && given.every(isGroup)) {
      (given as readonly ParamGroup[]).forEach((g, i) => {
        checkOptions(`${where}: group ${i}`, g);
        if (g.lr !== undefined) checkNonNegative(`${where}: group ${i}`, "lr", g.lr);
        if (g.weightDecay !== undefined) checkNonNegative(`${where}: group ${i}`, "weightDecay", g.weightDecay);
        if (!Array.isArray(g.params) || g.params.length === 0) throw new ArgumentError(`${where}: group ${i} has no parameters`);
      });
      params = (given as readonly ParamGroup[]).flatMap((g) => g.params);
    } else if (Array.isArray(given) && given.some(isGroup)) {
      throw new ArgumentError(`${where}: expected parameters or groups of them ({ params, lr?, weightDecay? }), not a mix`);
    }
    // A frozen parameter is taken and skipped while it is frozen (it has no gradient), as PyTorch's optimisers do.
    if (!Array.isArray(params) || params.length === 0 || !params.every((p) => Tensor.isTensor(p) && !p.isDisposed && (p.requiresGrad || p.frozen))) {
      throw new ArgumentError(`${where}: expected a non-empty array of live tensors with requiresGrad (model.parameters()), got ${describe(params)}`);
    }
    if (new Set(params).size !== params.length) throw new ArgumentError(`${where}: a parameter appears twice in the list; it would be updated twice`);
    checkOptions(where, options);
    this.params = [...params];
    this.rate = checkNonNegative(where, "lr", options.lr);
    this.#initialLr = this.rate;
    this.weightDecay = checkNonNegative(where, "weightDecay", options.weightDecay ?? 0);
    if (params !== given) for (const g of given as readonly ParamGroup[]) for (const p of g.params) this.#groups.set(p, { lr: g.lr, weightDecay: g.weightDecay });
  }

  /** p's learning rate now: its group's, scaled as the optimiser's lr has moved since it was made. */
  protected rateOf(p: Tensor): number {
    const own = this.#groups.get(p)?.lr;
    if (own === undefined) return this.rate;
    return this.#initialLr === 0 ? own : own * (this.rate / this.#initialLr);
  }

  /** p's weight decay: its group's, else the optimiser's. */
  protected decayOf(p: Tensor): number {
    return this.#groups.get(p)?.weightDecay ?? this.weightDecay;
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
    ready.forEach((p, i) => {
      this.update(p, p.grad!, buffers[i]);
      p.touched();
    });
  }

  /** Sets every gradient to zero, keeping its memory for the next step. */
  zeroGrad(): void {
    // By ranges, as the step and the ∂W GEMMs cut it: each thread zeroes the rows it then sums into.
    for (const p of withGradients(`${this.constructor.name}.zeroGrad`, this.params)) {
      const at = p.grad!.ptr;
      p.engine.parallel("fill", p.size, (from, to) => [at + 4 * from, 0, to - from]);
    }
  }

  protected abstract update(p: Tensor, grad: Tensor, state: readonly Tensor[]): void;

  /** The names of the per-parameter buffers, in the order update() takes them. */
  protected abstract readonly slots: readonly string[];

  /** The settings a state must match to be loaded (momentum, betas, …). */
  protected abstract settings(): Record<string, number | boolean>;

  /** Parameter → name: from `names` (a model) where given, else the tensor's name, else param_i. */
  private names(names?: Named): Map<Tensor, string> {
    const byTensor = new Map<Tensor, string>();
    if (names !== undefined) {
      if (typeof names?.namedParameters !== "function") throw new ArgumentError(`${this.constructor.name}: names must come from a model (namedParameters()), got ${describe(names)}`);
      for (const [n, t] of names.namedParameters()) byTensor.set(t, n);
    }
    this.params.forEach((p, i) => byTensor.has(p) || byTensor.set(p, p.name ?? `param_${i}`));
    return byTensor;
  }

  /** Steps, learning rate, settings and every parameter's buffers by parameter name (the live tensors). */
  stateDict(names?: Named): OptimizerState {
    const byTensor = this.names(names);
    const state: Record<string, Record<string, Tensor>> = {};
    for (const [p, buffers] of this.state) {
      if (!this.params.includes(p)) continue;
      state[byTensor.get(p)!] = Object.fromEntries(this.slots.map((slot, i) => [slot, buffers[i]]));
    }
    return { kind: this.constructor.name, steps: this.steps, lr: this.lr, settings: this.settings(), state };
  }

  /**
   * Restores a state saved by stateDict() (matched by parameter name): buffers copied into this
   * optimiser's own, steps and learning rate set. Everything is checked first; nothing changes on error.
   */
  loadStateDict(saved: OptimizerState, names?: Named): void {
    const where = `${this.constructor.name}.loadStateDict`;
    if (typeof saved !== "object" || saved === null || typeof saved.state !== "object" || saved.state === null) {
      throw new ArgumentError(`${where}: expected a state from optimizer.stateDict(), got ${describe(saved)}`);
    }
    if (saved.kind !== this.constructor.name) throw new ArgumentError(`${where}: the state is a ${describe(saved.kind)} optimiser's, this is ${this.constructor.name}`);
    checkNonNegative(where, "steps", saved.steps);
    if (!Number.isInteger(saved.steps)) throw new ArgumentError(`${where}: steps must be an integer, got ${describe(saved.steps)}`);
    checkNonNegative(where, "lr", saved.lr);
    const mine = this.settings();
    const differ = Object.keys(mine).filter((k) => saved.settings?.[k] !== mine[k]);
    if (differ.length > 0) throw new ArgumentError(`${where}: settings differ: ${differ.map((k) => `${k} ${describe(saved.settings?.[k])} saved, ${mine[k]} here`).join("; ")}`);
    const byName = new Map([...this.names(names)].map(([t, n]) => [n, t]));
    const problems: string[] = [];
    for (const [name, buffers] of Object.entries(saved.state)) {
      const p = byName.get(name);
      if (!p) {
        problems.push(`no parameter named ${name}`);
        continue;
      }
      for (const slot of this.slots) {
        const t = buffers?.[slot];
        if (!Tensor.isTensor(t) || t.isDisposed || formatShape(t.shape) !== formatShape(p.shape)) problems.push(`${name}.${slot}: expected a tensor of shape ${formatShape(p.shape)}`);
      }
    }
    if (problems.length > 0) throw new ArgumentError(`${where}: nothing loaded; ${problems.join("; ")}`);
    for (const [name, buffers] of Object.entries(saved.state)) {
      const p = byName.get(name)!;
      const own = this.buffers(p);
      this.slots.forEach((slot, i) => own[i] !== buffers[slot] && own[i].copyFrom(buffers[slot]));
    }
    this.steps = saved.steps;
    this.lr = saved.lr;
  }

  protected buffers(p: Tensor): Tensor[] {
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
