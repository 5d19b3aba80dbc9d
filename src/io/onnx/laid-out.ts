// Weights laid out once: a conv's [m, c, kh, kw] weights in the NHWC kernel's [kh, kw, c, m]
// order (or, at inference, with a BatchNorm folded in: fusion.ts) are made the first time the node
// runs without a gradient to them (inference, or a frozen backbone in training) and kept until a
// source changes (its version: set, copyFrom, an optimiser's step), so a forward pass does not
// permute every weight again. The model frees them with itself.
import { isGradEnabled, noGrad } from "../../autograd/graph.js";
import { type Tensor, outsideScopes, ownedBy } from "../../tensor.js";

export class LaidOut {
  #sources: readonly Tensor[] = [];
  #versions: number[] = [];
  #value: Tensor[] | null = null;

  constructor(private readonly make: (sources: readonly Tensor[]) => Tensor[]) {}

  /** make(sources): as ops of the graph when a source takes a gradient, else the copies kept for the sources' current values. */
  of(...sources: Tensor[]): Tensor[] {
    if (isGradEnabled() && sources.some((s) => s.requiresGrad)) return this.make(sources);
    if (this.#value && this.#fresh(sources)) return this.#value;
    this.dispose();
    // Outside the caller's scopes and arena: they outlive this forward pass; make's own intermediates do not.
    const value = outsideScopes(() => ownedBy(() => noGrad(() => this.make(sources)), (v) => v));
    this.#sources = sources;
    this.#versions = sources.map((s) => s.version);
    this.#value = value;
    return value;
  }

  /** The kept copies were made from these very tensors at their current versions, and are alive. */
  #fresh(sources: readonly Tensor[]): boolean {
    return sources.length === this.#sources.length && sources.every((s, i) => s === this.#sources[i] && s.version === this.#versions[i]) &&
      this.#value!.every((t) => !t.isDisposed);
  }

  dispose(): void {
    for (const t of this.#value ?? []) t.dispose();
    this.#value = null;
    this.#sources = [];
  }
}
