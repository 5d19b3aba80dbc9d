// A layer turns a batch into a batch. build() creates its parameters once the input shape is
// known; forward() composes ops, so backward() needs nothing more from it.
import type { Engine } from "../backend/engine.js";
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
