import { avgPool2d, convOutput, maxPool2d } from "../autograd/ops/conv.js";
import { checkCount } from "../check.js";
import { ShapeError } from "../errors.js";
import { type Shape, type Tensor, formatShape } from "../tensor.js";
import { type ForwardOptions, Layer } from "./layer.js";
import { type LayerCodec, codec } from "./codec.js";

/** Pooling over size × size windows of NHWC inputs, `stride` apart (default: size), no padding. */
abstract class Pool2D extends Layer {
  constructor(
    readonly size: number,
    readonly stride: number = size,
  ) {
    super();
    checkCount(new.target.name, "size", size);
    checkCount(new.target.name, "stride", stride);
  }

  build(inputShape: Shape): Shape {
    if (inputShape.length !== 3) {
      throw new ShapeError(`${this.kind}: expects inputs of shape [height, width, channels] per sample, got ${formatShape(inputShape)}`);
    }
    const [h, w, c] = inputShape;
    return [convOutput(this.name, h, this.size, this.stride, "valid").out, convOutput(this.name, w, this.size, this.stride, "valid").out, c];
  }

  override config(): Record<string, unknown> {
    return { size: this.size, stride: this.stride };
  }

  override describe(): string {
    return `${this.size}×${this.size}${this.stride !== this.size ? `/${this.stride}` : ""}`;
  }
}

/** The largest value of each window. */
export class MaxPool2D extends Pool2D {
  readonly kind = "MaxPool2D";
  forward(x: Tensor, _options: ForwardOptions): Tensor {
    return maxPool2d(x, { size: this.size, stride: this.stride });
  }
}

/** The mean of each window. */
export class AvgPool2D extends Pool2D {
  readonly kind = "AvgPool2D";
  forward(x: Tensor, _options: ForwardOptions): Tensor {
    return avgPool2d(x, { size: this.size, stride: this.stride });
  }
}

/** A pool's codec: tfjs's MaxPooling2D/AveragePooling2D (valid padding only), ONNX's MaxPool/AveragePool between Transposes. */
function poolCodec(kind: string, make: new (size: number, stride: number) => Pool2D, tfjsName: string, onnxName: string): LayerCodec {
  return codec<Pool2D>({
    kind,
    fromConfig: (c) => new make(c.size as number, c.stride as number),
    tfjs: {
      classNames: [tfjsName],
      read(_, c, h) {
        h.channelsLast(c);
        if (c.padding !== undefined && c.padding !== "valid") h.fail(`padding ${JSON.stringify(c.padding)}; wasmgrad pools without padding`);
        const size = h.square("pool_size", c.pool_size ?? 2);
        return new make(size, c.strides === null || c.strides === undefined ? size : h.square("strides", c.strides));
      },
      write: (l, base) => ({
        class_name: tfjsName,
        config: { ...base, pool_size: [l.size, l.size], strides: [l.stride, l.stride], padding: "valid", data_format: "channels_last" },
      }),
    },
    onnx(l, input, w) {
      const [nchw] = w.node("Transpose", [input], [{ name: "perm", ints: [0, 3, 1, 2] }]);
      const [pooled] = w.node(onnxName, [nchw], [{ name: "kernel_shape", ints: [l.size, l.size] }, { name: "strides", ints: [l.stride, l.stride] }]);
      return w.node("Transpose", [pooled], [{ name: "perm", ints: [0, 2, 3, 1] }])[0];
    },
    torch: () => ({}),
  });
}

export const maxPool2dCodec = poolCodec("MaxPool2D", MaxPool2D, "MaxPooling2D", "MaxPool");
export const avgPool2dCodec = poolCodec("AvgPool2D", AvgPool2D, "AveragePooling2D", "AveragePool");
