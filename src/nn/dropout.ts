import { dropout } from "../autograd/ops/dropout.js";
import { ArgumentError } from "../errors.js";
import type { Shape, Tensor } from "../tensor.js";
import { type BuildContext, type ForwardOptions, Layer } from "./layer.js";

/** Zeroes a fraction `rate` of its inputs while training (scaling the rest up); identity otherwise. */
export class Dropout extends Layer {
  readonly kind = "Dropout";
  private state = 0; // byte address of 16 bytes of generator state in Wasm memory

  constructor(readonly rate: number) {
    super();
    if (!(rate >= 0 && rate < 1)) throw new ArgumentError(`Dropout: rate must be in [0, 1), got ${rate}`);
  }

  build(inputShape: Shape, { random, engine }: BuildContext): Shape {
    this.state = engine.memory.alloc(16);
    const seed = new Uint32Array(engine.memory.wasm.buffer, this.state, 4);
    for (let i = 0; i < 4; i++) seed[i] = random.nextUint32() | (i === 0 ? 1 : 0); // never all zero
    return inputShape;
  }

  forward(x: Tensor, { training = false }: ForwardOptions): Tensor {
    if (!training || this.rate === 0) return x;
    return dropout(x, this.rate, this.state);
  }

  override describe(): string {
    return `rate ${this.rate}`;
  }
}
