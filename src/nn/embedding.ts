import { gather } from "../autograd/ops/select.js";
import { checkCount, checkOptions } from "../check.js";
import type { Shape, Tensor } from "../tensor.js";
import { type Initializer, type InitializerName, resolveInitializer, stateTensor } from "./init.js";
import { type BuildContext, type ForwardOptions, Layer } from "./layer.js";

export interface EmbeddingOptions {
  /** Default "uniform" (±0.05, as Keras). */
  embeddingsInitializer?: InitializerName | Initializer;
}

/**
 * Row i of a learned table for each index i: [batch, …] indices → [batch, …, outputDim]. Forward
 * gathers rows; backward adds each row's gradient back into its row of the table (a scatter-add,
 * never a one-hot matrix product), readable in `.grad` like any parameter's.
 */
export class Embedding extends Layer {
  readonly kind = "Embedding";
  embeddings: Tensor | null = null;
  private readonly init: Initializer;

  constructor(
    readonly inputDim: number,
    readonly outputDim: number,
    options?: EmbeddingOptions,
  ) {
    super();
    checkCount("Embedding", "inputDim", inputDim);
    checkCount("Embedding", "outputDim", outputDim);
    this.init = resolveInitializer(checkOptions("Embedding", options).embeddingsInitializer ?? "uniform", "Embedding: embeddingsInitializer");
  }

  build(inputShape: Shape, { random, engine }: BuildContext): Shape {
    this.embeddings = stateTensor(engine, [this.inputDim, this.outputDim], `${this.name}.embeddings`, (v) => this.init(v, this.inputDim, this.outputDim, random));
    return [...inputShape, this.outputDim];
  }

  forward(x: Tensor, _options: ForwardOptions): Tensor {
    return gather(this.embeddings!, x);
  }

  override config(): Record<string, unknown> {
    return { inputDim: this.inputDim, outputDim: this.outputDim };
  }
}
