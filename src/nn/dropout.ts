import { dropout } from "../autograd/ops/dropout.js";
import { checkNumber } from "../check.js";
import { ArgumentError } from "../errors.js";
import { type Shape, Tensor } from "../tensor.js";
import { type BuildContext, type ForwardOptions, Layer } from "./layer.js";
import { codec } from "./codec.js";

/** Zeroes a fraction `rate` of its inputs while training (scaling the rest up); identity otherwise. */
export class Dropout extends Layer {
  readonly kind = "Dropout";
  /** 16 bytes of xorshift128 state in Wasm memory, held as a tensor so that it goes with the layer. */
  private state: Tensor | null = null;

  constructor(readonly rate: number) {
    super();
    checkNumber("Dropout", "rate", rate, { min: 0, below: 1 });
  }

  build(inputShape: Shape, { random, engine }: BuildContext): Shape {
    this.state?.dispose();
    this.state = Tensor.persistent([4], engine); // outlives any withArena() step it is built in
    const seed = engine.memory.i32(this.state.ptr, 4);
    for (let i = 0; i < 4; i++) seed[i] = random.nextUint32() | (i === 0 ? 1 : 0); // never all zero
    return inputShape;
  }

  forward(x: Tensor, { training = false }: ForwardOptions): Tensor {
    if (!training || this.rate === 0) return x;
    if (!this.state) throw new ArgumentError(`${this.name || this.kind}: not built; put it in a Sequential with an inputShape`);
    return dropout(x, this.rate, this.state.ptr);
  }

  override config(): Record<string, unknown> {
    return { rate: this.rate };
  }

  override describe(): string {
    return `rate ${this.rate}`;
  }
}

export const dropoutCodec = codec<Dropout>({
  kind: "Dropout",
  fromConfig: (c) => new Dropout(c.rate as number),
  tfjs: {
    classNames: ["Dropout"],
    read: (_, c) => new Dropout(c.rate as number),
    write: (l, base) => ({ class_name: "Dropout", config: { ...base, rate: l.rate } }),
  },
  onnx: (_, input, w) => w.node("Identity", [input])[0], // the identity at inference
  torch: () => ({}),
});
