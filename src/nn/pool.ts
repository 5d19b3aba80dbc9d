import { avgPool2d, convOutput, maxPool2d } from "../autograd/ops/conv.js";
import { checkCount } from "../check.js";
import { ShapeError } from "../errors.js";
import { type Shape, type Tensor, formatShape } from "../tensor.js";
import { type ForwardOptions, Layer } from "./layer.js";

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
