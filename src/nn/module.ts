// A Module holds named state: parameters (trained) and buffers (kept but not trained: running
// statistics, a generator's state), and child modules. As in PyTorch, nothing is registered by
// hand: a module's own enumerable fields are read in declaration order — a Module (or an array of
// them) is a child, a Tensor that requires grad is a parameter, any other Tensor a buffer — and
// the names are the dotted paths of those fields (encoder.dense_1.weight). `#private` fields are
// not state. stateDict() is the one contract that saving, loading, exchange formats and
// optimiser state go through.
import { describe } from "../check.js";
import { ArgumentError, WasmgradError } from "../errors.js";
import { Tensor, formatShape, isNumericArray } from "../tensor.js";

export interface LoadStateDictOptions {
  /** Every name must match both ways (no missing, no unexpected entries). Default true. */
  strict?: boolean;
}

/** loadStateDict() or setWeights() found names, shapes or counts that do not match; nothing was changed. */
export class StateDictError extends WasmgradError {
  override name = "StateDictError";
  constructor(
    message: string,
    readonly missing: readonly string[],
    readonly unexpected: readonly string[],
    readonly mismatched: readonly string[],
  ) {
    super(message);
  }
}

export abstract class Module {
  /** Training mode (dropout drops, augmentation moves); set by train() and eval(). Default false. */
  training = false;

  /** The child modules, named. By default the Module-valued fields (arrays as field.0, field.1, …). */
  namedChildren(): [string, Module][] {
    const children: [string, Module][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Module) children.push([key, value]);
      else if (Array.isArray(value)) value.forEach((v, i) => v instanceof Module && children.push([`${key}.${i}`, v]));
    }
    return children;
  }

  /** This module's own tensors (not its children's), named: [name, tensor, isParameter]. A frozen parameter is still one. */
  protected ownTensors(): [string, Tensor, boolean][] {
    const own: [string, Tensor, boolean][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (Tensor.isTensor(value) && !value.isDisposed) own.push([key, value, value.requiresGrad || value.frozen]);
    }
    return own;
  }

  /** Every module below and including this one, with its dotted path ("" for this one); a shared module once. */
  namedModules(prefix = "", seen = new Set<Module>()): [string, Module][] {
    if (seen.has(this)) return [];
    seen.add(this);
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.namedChildren()) out.push(...child.namedModules(joinPath(prefix, name), seen));
    return out;
  }

  /** Parameters and buffers by dotted name, in a fixed order: each module's own, then its children's. A shared tensor once. */
  private namedTensors(): { name: string; tensor: Tensor; parameter: boolean }[] {
    const seen = new Set<Tensor>();
    const out: { name: string; tensor: Tensor; parameter: boolean }[] = [];
    for (const [path, module] of this.namedModules()) {
      for (const [name, tensor, parameter] of module.ownTensors()) {
        if (seen.has(tensor)) continue;
        seen.add(tensor);
        out.push({ name: joinPath(path, name), tensor, parameter });
      }
    }
    return out;
  }

  namedParameters(): [string, Tensor][] {
    return this.namedTensors().filter((t) => t.parameter).map((t) => [t.name, t.tensor]);
  }

  namedBuffers(): [string, Tensor][] {
    return this.namedTensors().filter((t) => !t.parameter).map((t) => [t.name, t.tensor]);
  }

  /** The trained tensors, in the stateDict's order (what an optimiser takes). */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Every parameter and buffer by dotted name, in a fixed order. The tensors themselves, not copies. */
  stateDict(): Record<string, Tensor> {
    return Object.fromEntries(this.namedTensors().map((t) => [t.name, t.tensor]));
  }

  /**
   * Copies values into this module's parameters and buffers by name. Every name, shape and value
   * is checked first; on any mismatch a StateDictError lists all of them and nothing changes.
   * With { strict: false }, names present on one side only are skipped.
   */
  loadStateDict(dict: Record<string, Tensor>, options: LoadStateDictOptions = {}): void {
    if (typeof dict !== "object" || dict === null || Array.isArray(dict)) {
      throw new ArgumentError(`loadStateDict: expected an object of tensors by name, got ${describe(dict)}`);
    }
    const { strict = true } = options;
    const own = this.stateDict();
    const missing = Object.keys(own).filter((k) => !Object.hasOwn(dict, k));
    const unexpected = Object.keys(dict).filter((k) => !Object.hasOwn(own, k));
    const mismatched: string[] = [];
    const problems: string[] = [];
    for (const [name, target] of Object.entries(own)) {
      if (!Object.hasOwn(dict, name)) continue;
      const source = dict[name];
      if (!Tensor.isTensor(source) || source.isDisposed) {
        mismatched.push(name);
        problems.push(`${name}: expected a live Tensor, got ${describe(source)}`);
      } else if (formatShape(source.shape) !== formatShape(target.shape)) {
        mismatched.push(name);
        problems.push(`${name}: shape ${formatShape(source.shape)} in the dict, ${formatShape(target.shape)} in the model`);
      }
    }
    if (strict) {
      if (missing.length > 0) problems.push(`missing: ${missing.join(", ")}`);
      if (unexpected.length > 0) problems.push(`unexpected: ${unexpected.join(", ")}`);
    }
    if (problems.length > 0) {
      throw new StateDictError(`loadStateDict: nothing loaded; ${problems.join("; ")}`, missing, unexpected, mismatched);
    }
    for (const [name, target] of Object.entries(own)) {
      if (Object.hasOwn(dict, name) && dict[name] !== target) target.copyFrom(dict[name]);
    }
  }

  /** Copies of every parameter's and buffer's values, in the stateDict's order (Keras's get_weights). */
  getWeights(): Float32Array[] {
    return Object.values(this.stateDict()).map((t) => t.data());
  }

  /** Sets every parameter and buffer from values in the stateDict's order; all are checked before any is written. */
  setWeights(weights: readonly ArrayLike<number>[]): void {
    const targets = Object.entries(this.stateDict());
    if (!Array.isArray(weights) || weights.length !== targets.length) {
      throw new StateDictError(`setWeights: expected ${targets.length} arrays (${targets.map(([n]) => n).join(", ")}), got ${describe(weights)}`, [], [], []);
    }
    const bad = targets.filter(([, t], i) => !(Array.isArray(weights[i]) || isNumericArray(weights[i])) || weights[i].length !== t.size);
    if (bad.length > 0) {
      const what = bad.map(([n, t]) => `${n} needs ${t.size} values, got ${describe(weights[targets.findIndex(([m]) => m === n)])}`);
      throw new StateDictError(`setWeights: nothing set; ${what.join("; ")}`, [], [], bad.map(([n]) => n));
    }
    targets.forEach(([, t], i) => t.set(weights[i]));
  }

  /** The parameters that train now: parameters() without the frozen ones (what a new head's optimiser takes). */
  trainableParameters(): Tensor[] {
    return this.parameters().filter((t) => !t.frozen);
  }

  /**
   * Stops training the parameters whose names match `pattern` (globs: `*` any run of characters,
   * `?` one; a list matches any of them; default every parameter): they take no gradient, their
   * gradient buffers are freed, optimisers skip them, and a BatchNorm whose scale and shift are
   * frozen keeps its running statistics in training mode too. The frozen names, in order; a
   * pattern that matches no parameter is an ArgumentError, and nothing changes.
   */
  freeze(pattern?: string | readonly string[]): string[] {
    const matched = this.matching("freeze", pattern);
    for (const [, t] of matched) {
      t.frozen = true;
      t.requiresGrad = false;
      const g = t.grad;
      t.grad = null;
      g?.dispose();
    }
    return matched.map(([n]) => n);
  }

  /** Trains the frozen parameters matching `pattern` again (as freeze() matches them); the names matched. */
  unfreeze(pattern?: string | readonly string[]): string[] {
    const matched = this.matching("unfreeze", pattern);
    for (const [, t] of matched) {
      t.frozen = false;
      t.requiresGrad = true;
    }
    return matched.map(([n]) => n);
  }

  /** Every parameter trains (a frozen one makes this false); setting it freezes or unfreezes them all. */
  get trainable(): boolean {
    return this.parameters().every((t) => !t.frozen);
  }

  set trainable(value: boolean) {
    if (typeof value !== "boolean") throw new ArgumentError(`trainable must be true or false, got ${describe(value)}`);
    if (this.parameters().length === 0) return;
    if (value) this.unfreeze();
    else this.freeze();
  }

  private matching(where: string, pattern: string | readonly string[] | undefined): [string, Tensor][] {
    const patterns = pattern === undefined ? ["*"] : typeof pattern === "string" ? [pattern] : pattern;
    if (!Array.isArray(patterns) || patterns.length === 0 || !patterns.every((p) => typeof p === "string" && p !== "")) {
      throw new ArgumentError(`${where}: pattern must be a glob or a list of globs over parameter names, got ${describe(pattern)}`);
    }
    const globs = patterns.map((p) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`));
    const all = this.namedParameters();
    // Every glob must match something: a typo in one of a list would otherwise leave its layers training unseen.
    const unmatched = patterns.filter((_, i) => !all.some(([n]) => globs[i].test(n)));
    if (unmatched.length > 0) {
      const some = all.slice(0, 6).map(([n]) => n).join(", ");
      throw new ArgumentError(`${where}: ${unmatched.map((p) => JSON.stringify(p)).join(", ")} matches no parameter, so nothing changed (${all.length === 0 ? "the module has none" : `they are ${some}${all.length > 6 ? ", …" : ""}`})`);
    }
    return all.filter(([n]) => globs.some((g) => g.test(n)));
  }

  /** Training mode for this module and every module below it. */
  train(mode = true): this {
    if (typeof mode !== "boolean") throw new ArgumentError(`train: mode must be true or false, got ${describe(mode)}`);
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /** Inference mode: train(false). */
  eval(): this {
    return this.train(false);
  }
}

/** A dotted path; an empty name (a model used as a layer, ModelLayer) adds nothing to it. */
export const joinPath = (prefix: string, name: string) => (!prefix ? name : !name ? prefix : `${prefix}.${name}`);

