import { reshape } from "../autograd/ops/shape.js";
import type { Shape, Tensor } from "../tensor.js";
import { sizeOf } from "../tensor.js";
import { type ForwardOptions, Layer } from "./layer.js";
import { codec } from "./codec.js";

/** [batch, d1, d2, …] → [batch, d1·d2·…]: a view, no copy. */
export class Flatten extends Layer {
  readonly kind = "Flatten";
  build(inputShape: Shape): Shape {
    return [sizeOf(inputShape)];
  }
  forward(x: Tensor, _options: ForwardOptions): Tensor {
    return reshape(x, [x.shape[0], sizeOf(x.shape.slice(1))]); // not -1: an empty batch keeps its width
  }
}

export const flattenCodec = codec<Flatten>({
  kind: "Flatten",
  fromConfig: () => new Flatten(),
  tfjs: {
    classNames: ["Flatten"],
    read: (_, c, h) => (h.channelsLast(c), new Flatten()),
    write: (_, base) => ({ class_name: "Flatten", config: base }),
  },
  onnx: (_, input, w) => w.node("Flatten", [input], [{ name: "axis", i: 1 }])[0], // NHWC, as ours
  torch: () => ({}),
});
