import { ACTIVATIONS, type Activation } from "../autograd/ops/activate.js";
import { dense } from "../autograd/ops/dense.js";
import { ArgumentError, ShapeError } from "../errors.js";
import { type Shape, type Tensor, formatShape } from "../tensor.js";
import { type WeightOptions, initialWeights } from "./init.js";
import { type BuildContext, type ForwardOptions, Layer } from "./layer.js";

export interface DenseOptions extends WeightOptions {
  /** Default "linear". */
  activation?: Activation;
  /** Slope for x < 0 with "leakyRelu". Default 0.01. */
  slope?: number;
}

/** A fully connected layer: y = f(x·W + b), W of shape [in, units]. */
export class Dense extends Layer {
  readonly kind = "Dense";
  readonly activation: Activation;
  weight: Tensor | null = null;
  bias: Tensor | null = null;

  constructor(
    readonly units: number,
    private readonly options: DenseOptions = {},
  ) {
    super();
    if (!Number.isInteger(units) || units < 1) throw new ArgumentError(`Dense: units must be a positive integer, got ${units}`);
    this.activation = options.activation ?? "linear";
    if (!ACTIVATIONS.includes(this.activation)) {
      throw new ArgumentError(`Dense: unknown activation ${JSON.stringify(this.activation)}; one of ${ACTIVATIONS.join(", ")}`);
    }
  }

  build(inputShape: Shape, context: BuildContext): Shape {
    if (inputShape.length !== 1) {
      throw new ShapeError(`Dense: expects inputs of shape [features] per sample, got ${formatShape(inputShape)} (add a Flatten layer first)`);
    }
    const [fanIn] = inputShape;
    ({ weight: this.weight, bias: this.bias } = initialWeights(
      this.name, [fanIn, this.units], fanIn, this.units, this.activation, this.options, context,
    ));
    return [this.units];
  }

  forward(x: Tensor, _options: ForwardOptions): Tensor {
    if (!this.weight) throw new ArgumentError(`${this.name || "Dense"}: not built; put it in a Sequential with an inputShape`);
    return dense(x, this.weight, this.bias, this.activation, this.options.slope);
  }

  override parameters(): Tensor[] {
    return [this.weight, this.bias].filter((t): t is Tensor => t !== null);
  }

  override describe(): string {
    return this.activation;
  }
}
