// Weights laid out once: a conv's [m, c, kh, kw] weights in the NHWC kernel's [kh, kw, c, m]
// order are made the first time the node runs without a gradient to W (inference, or a frozen
// backbone in training) and kept until W changes (its version: set, copyFrom, an optimiser's
// step), so a forward pass does not permute every weight again. The model frees them with itself.
import { isGradEnabled, noGrad } from "../../autograd/graph.js";
import { type Tensor, outsideScopes, ownedBy } from "../../tensor.js";

export class LaidOut {
  #source: Tensor | null = null;
  #version = -1;
  #value: Tensor | null = null;

  constructor(private readonly make: (w: Tensor) => Tensor) {}

  /** make(w): as an op of the graph when W takes a gradient, else the copy kept for w's current values. */
  of(w: Tensor): Tensor {
    if (isGradEnabled() && w.requiresGrad) return this.make(w);
    if (this.#value && this.#source === w && this.#version === w.version && !this.#value.isDisposed) return this.#value;
    this.dispose();
    // Outside the caller's scopes and arena: it outlives this forward pass; make's own intermediates do not.
    const value = outsideScopes(() => ownedBy(() => noGrad(() => this.make(w)), (v) => [v]));
    this.#source = w;
    this.#version = w.version;
    this.#value = value;
    return value;
  }

  dispose(): void {
    this.#value?.dispose();
    this.#value = null;
    this.#source = null;
  }
}
