// A layer turns a batch into a batch. build() creates its parameters once the input shape is
// known; forward() composes ops, so backward() needs nothing more from it.
import { type Activation, checkActivation } from "../autograd/ops/activate.js";
import { checkOptions } from "../check.js";
import type { Engine } from "../backend/engine.js";
import { ArgumentError } from "../errors.js";
import type { Random } from "../random.js";
import type { Shape, Tensor } from "../tensor.js";

export interface ForwardOptions {
  /** Training mode: dropout drops. Default false. */
  training?: boolean;
}

/** What build() needs: the generator for initial values and the engine that will hold them. */
export interface BuildContext {
  random: Random;
  engine: Engine;
}

export abstract class Layer {
  /** Set by the model: "dense_1", "dropout_2", … unless given. */
  name = "";
  abstract readonly kind: string;

  /** Creates the parameters for inputs of `inputShape` (per sample, no batch axis); returns the output shape. */
  abstract build(inputShape: Shape, context: BuildContext): Shape;

  abstract forward(x: Tensor, options: ForwardOptions): Tensor;

  /** Trainable tensors, in a fixed order. */
  parameters(): Tensor[] {
    return [];
  }

  /** A few words for the model summary, e.g. the activation. */
  describe(): string {
    return "";
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

  override parameters(): Tensor[] {
    return [this.weight, this.bias].filter((t): t is Tensor => t !== null);
  }

  /** The weight, or an error saying the layer was never built. */
  protected built(): Tensor {
    if (!this.weight) throw new ArgumentError(`${this.name || this.kind}: not built; put it in a Sequential with an inputShape`);
    return this.weight;
  }
}
