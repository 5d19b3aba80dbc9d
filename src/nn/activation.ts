import { type Activation as Name, activate, checkActivation } from "../autograd/ops/activate.js";
import type { Shape, Tensor } from "../tensor.js";
import { type ForwardOptions, Layer } from "./layer.js";
import { codec } from "./codec.js";

/** An activation as a layer of its own (after a normalisation, say), read from the one table. */
export class Activation extends Layer {
  readonly kind = "Activation";
  readonly activation: Name;
  readonly slope: number;

  constructor(activation: Name, options: { slope?: number } = {}) {
    super();
    ({ activation: this.activation, slope: this.slope } = checkActivation("Activation", activation, options.slope ?? 0.01));
  }

  build(inputShape: Shape): Shape {
    return inputShape;
  }

  forward(x: Tensor, _options: ForwardOptions): Tensor {
    return activate(x, this.activation, this.slope);
  }

  override describe(): string {
    return this.activation;
  }

  override config(): Record<string, unknown> {
    return { activation: this.activation, slope: this.slope };
  }
}

export const activationCodec = codec<Activation>({
  kind: "Activation",
  fromConfig: (c) => new Activation(c.activation as never, { slope: c.slope as number }),
  tfjs: {
    classNames: ["Activation"],
    read: (_, c, h) => new Activation(h.activation(c.activation)),
    write: (l, base, h) => ({ class_name: "Activation", config: { ...base, activation: h.tfjsActivation(l.activation) } }),
  },
  onnx: (l, input, w) => {
    const y = w.activation(l.activation, l.slope, input);
    return y === input ? w.node("Identity", [input])[0] : y;
  },
  torch: () => ({}),
});
