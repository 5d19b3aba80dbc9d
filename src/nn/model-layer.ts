// A model used as a layer: an imported backbone (fromOnnx) or a Model of your own, inside a
// Sequential with a new head on it, as Keras takes a model for a layer and PyTorch a module.
// Its parameters keep the model's own names (conv1.weight, not model_1.conv1.weight) unless the
// layer is given a name, so what is trained here goes back to the framework it came from by name.
import { noGrad } from "../autograd/graph.js";
import { ArgumentError, ShapeError } from "../errors.js";
import { type Shape, type Tensor, formatShape, zeros } from "../tensor.js";
import { codec } from "./codec.js";
import { type BuildContext, type ForwardOptions, Layer } from "./layer.js";
import type { Model } from "./model.js";
import type { Module } from "./module.js";

export class ModelLayer extends Layer {
  readonly kind = "ModelLayer";

  constructor(readonly model: Model) {
    super();
  }

  /** The model's own children and tensors, at this layer's path: its names as they are. */
  override namedChildren(): [string, Module][] {
    return [["", this.model]];
  }

  /** The output shape, from one sample of zeros (a batch of none would not pass a Reshape's −1). */
  build(inputShape: Shape, { engine }: BuildContext): Shape {
    if (this.model.engine !== engine) throw new ArgumentError(`${this.name || this.kind}: the model lives in another engine than the Sequential`);
    const probe = zeros([1, ...inputShape], { engine });
    try {
      const y = noGrad(() => this.call1(probe, false));
      const out = y.shape.slice(1);
      y.dispose();
      return out;
    } catch (e) {
      throw new ShapeError(`${this.name || this.kind}: the model does not take samples of shape ${formatShape(inputShape)}: ${(e as Error).message}`);
    } finally {
      probe.dispose();
    }
  }

  forward(x: Tensor, { training = false }: ForwardOptions): Tensor {
    return this.call1(x, training);
  }

  /** The model on x in the given mode, its modules' own modes restored after. */
  private call1(x: Tensor, training: boolean): Tensor {
    const modes = this.model.namedModules().map(([, m]): [Module, boolean] => [m, m.training]);
    this.model.train(training);
    try {
      return this.model.call(x);
    } finally {
      for (const [m, mode] of modes) m.training = mode;
    }
  }

  override describe(): string {
    return this.model.constructor.name;
  }
}

export const modelLayerCodec = codec<ModelLayer>({
  kind: "ModelLayer",
  fromConfig: () => {
    throw new ArgumentError("ModelLayer: a model inside a Sequential is saved by its weights; make the Sequential again and loadStateDict()");
  },
  onnx: (l, input, w) => w.model(l.model, input),
  // The model's own state by its own names (an imported PyTorch model's are PyTorch's).
  torch: (l) => Object.fromEntries(Object.entries(l.model.stateDict()).map(([n, t]) => [n, { shape: [...t.shape], data: t.data() }])),
});
