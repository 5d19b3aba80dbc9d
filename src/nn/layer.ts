// A layer turns a batch into a batch. build() creates its parameters once the input shape is
// known (on first use, or when a Sequential is made); forward() composes ops, so backward()
// needs nothing more from it. A layer is a Module: its weight and bias fields are its named state.
import { type Activation, checkActivation } from "../autograd/ops/activate.js";
import { checkOptions } from "../check.js";
import { type BuildContext, currentBuildContext } from "./context.js";
import { Module } from "./module.js";
import { ArgumentError } from "../errors.js";
import { isGradEnabled } from "../autograd/graph.js";
import { type Shape, Tensor, formatShape, outsideScopes, ownedBy } from "../tensor.js";

export interface ForwardOptions {
  /** Training mode: dropout drops. Default false. */
  training?: boolean;
}

export type { BuildContext };

export abstract class Layer extends Module {
  /** Set by the model: "dense_1", "dropout_2", … in a Sequential, the field's path in a Model, unless given. */
  name = "";
  abstract readonly kind: string;
  #built: Shape | null = null;

  /** Creates the parameters for inputs of `inputShape` (per sample, no batch axis); returns the output shape. */
  abstract build(inputShape: Shape, context: BuildContext): Shape;

  abstract forward(x: Tensor, options: ForwardOptions): Tensor;

  /** The input shape (per sample) the layer was built for, or null before its first use. */
  get builtFor(): Shape | null {
    return this.#built;
  }

  /** @internal Builds the layer for inputs of `inputShape` once; returns the output shape. */
  buildOnce(inputShape: Shape, context: BuildContext): Shape {
    if (this.#built) throw new ArgumentError(`${this.name || this.kind}: already built for inputs ${formatShape(this.#built)}; use a new layer`);
    const out = outsideScopes(() => this.build(inputShape, context)); // parameters outlive an inference's scope
    this.#built = inputShape;
    return out;
  }

  /** Runs the layer on a batch in the current mode (training or not), building it on first use. */
  call(x: Tensor, options: ForwardOptions = {}): Tensor {
    if (!Tensor.isTensor(x)) throw new ArgumentError(`${this.name || this.kind}: the input must be a Tensor`);
    if (!this.#built) this.buildOnce(x.shape.slice(1), currentBuildContext());
    const run = () => this.forward(x, { training: options.training ?? this.training });
    // Without a graph nothing owns the tensors the layer's ops make along the way: free them now.
    return isGradEnabled() ? run() : ownedBy(run, (y) => [y]);
  }

  /** A few words for the model summary, e.g. the activation. */
  describe(): string {
    return "";
  }

  /** The constructor's arguments as JSON, enough to make the layer again (saved with a model). */
  config(): Record<string, unknown> {
    return {};
  }
}

/** A layer with a weight, an optional bias and an activation (Dense, Conv2D). */
export abstract class WeightedLayer extends Layer {
  readonly activation: Activation;
  weight: Tensor | null = null;
  bias: Tensor | null = null;

  readonly slope: number;

  constructor(kind: string, options: { activation?: Activation; slope?: number } | undefined) {
    super();
    const { activation = "linear", slope = 0.01 } = checkOptions(kind, options);
    ({ activation: this.activation, slope: this.slope } = checkActivation(kind, activation, slope));
  }

  /** The weight, or an error saying the layer was never built. */
  protected built(): Tensor {
    if (!this.weight) throw new ArgumentError(`${this.name || this.kind}: not built; call it (layer.call(x)) or put it in a model`);
    return this.weight;
  }
}
