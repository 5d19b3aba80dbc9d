import { gather } from "../autograd/ops/select.js";
import { checkCount, checkOptions } from "../check.js";
import type { Shape, Tensor } from "../tensor.js";
import { type Initializer, type InitializerName, resolveInitializer, stateTensor } from "./init.js";
import { type BuildContext, type ForwardOptions, Layer } from "./layer.js";
import { codec } from "./codec.js";

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

export const embeddingCodec = codec<Embedding>({
  kind: "Embedding",
  fromConfig: (c) => new Embedding(c.inputDim as number, c.outputDim as number),
  tfjs: {
    classNames: ["Embedding"],
    read: (_, c, h) => (c.mask_zero ? h.fail("mask_zero is not supported") : new Embedding(c.input_dim as number, c.output_dim as number)),
    write: (l, base) => ({ class_name: "Embedding", config: { ...base, input_dim: l.inputDim, output_dim: l.outputDim, mask_zero: false } }),
  },
  // Gather wants integer indices; the graph's input is float, like every wasmgrad tensor.
  onnx(l, input, w) {
    const table = l.embeddings!;
    const [ids] = w.node("Cast", [input], [{ name: "to", i: 7 }]); // INT64
    return w.node("Gather", [w.weight("embeddings", [...table.shape], table.data()), ids], [{ name: "axis", i: 0 }])[0];
  },
  torch: (l) => ({ weight: { shape: [...l.embeddings!.shape], data: l.embeddings!.data() } }),
});
