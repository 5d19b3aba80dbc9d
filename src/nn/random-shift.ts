import { shift2d } from "../autograd/ops/shift.js";
import { ArgumentError, ShapeError } from "../errors.js";
import { Random } from "../random.js";
import { type Shape, Tensor, formatShape } from "../tensor.js";
import { type BuildContext, type ForwardOptions, Layer } from "./layer.js";
import { codec } from "./codec.js";

/**
 * Data augmentation: while training, moves each image by up to `maxShift` whole pixels up or down
 * and left or right (each offset drawn uniformly), so every epoch sees the digits a little
 * elsewhere; identity otherwise. Its offsets come from a generator seeded by the model's seed.
 */
export class RandomShift extends Layer {
  readonly kind = "RandomShift";
  /** The generator's state, a buffer (so it is saved with the model and a resumed run draws the same shifts). */
  private state: Tensor | null = null;
  private readonly random = new Random(0);

  constructor(readonly maxShift: number) {
    super();
    if (!Number.isInteger(maxShift) || maxShift < 0) throw new ArgumentError(`RandomShift: maxShift must be a non-negative integer, got ${maxShift}`);
  }

  build(inputShape: Shape, { random, engine }: BuildContext): Shape {
    if (inputShape.length !== 3) {
      throw new ShapeError(`RandomShift: expects inputs of shape [height, width, channels] per sample, got ${formatShape(inputShape)}`);
    }
    this.state?.dispose();
    this.state = Tensor.persistent([4], engine); // outlives any withArena() step it is built in
    engine.memory.i32(this.state.ptr, 4).set(new Random(random.nextUint32()).state);
    return inputShape;
  }

  forward(x: Tensor, { training = false }: ForwardOptions): Tensor {
    if (!training || this.maxShift === 0) return x;
    if (!this.state) throw new ArgumentError(`${this.name || this.kind}: not built; put it in a Sequential with an inputShape`);
    const words = this.state.engine.memory.i32(this.state.ptr, 4);
    this.random.state = Array.from(words);
    const span = 2 * this.maxShift + 1;
    const shifts = new Int32Array(2 * x.shape[0]);
    for (let i = 0; i < shifts.length; i++) shifts[i] = this.random.int(span) - this.maxShift;
    this.state.engine.memory.i32(this.state.ptr, 4).set(this.random.state);
    return shift2d(x, shifts);
  }

  override config(): Record<string, unknown> {
    return { maxShift: this.maxShift };
  }

  override describe(): string {
    return `±${this.maxShift} px`;
  }
}

export const randomShiftCodec = codec<RandomShift>({
  kind: "RandomShift",
  fromConfig: (c) => new RandomShift(c.maxShift as number),
  onnx: (_, input, w) => w.node("Identity", [input])[0], // the identity at inference
});
