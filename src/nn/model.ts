// A Model is a Module with a forward() of your own, in PyTorch's spirit: declare layers and
// sub-models as fields, compose them with ops in forward() — residual connections, several
// inputs, a layer used twice — and call the model with call(). Layers are built on the first call,
// from the model's seed, so the same seed always gives the same initial weights.
//   class Residual extends Model {
//     inner = new Dense(8, { activation: "tanh" });
//     out = new Dense(2);
//     forward(x: Tensor) { return this.out.call(x.add(this.inner.call(x))); }
//   }
import { isGradEnabled, noGrad, nodeOf } from "../autograd/graph.js";
import { Engine, getEngine } from "../backend/engine.js";
import { checkNumber, checkOptions, describe } from "../check.js";
import { ArgumentError } from "../errors.js";
import { Random } from "../random.js";
import { type Shape, Tensor, checkShape, ownedBy, settledBy, zeros } from "../tensor.js";
import { withBuildContext } from "./context.js";
import { Layer } from "./layer.js";
import { Module } from "./module.js";

export interface ModelOptions {
  /** Seeds the initial weights (and dropout masks, shifts). Default 0. */
  seed?: number;
  /** The engine that holds the parameters; default: the one init() made last. */
  engine?: Engine;
}

export abstract class Model extends Module {
  readonly engine: Engine;
  readonly #random: Random;
  #named = false;

  constructor(options?: ModelOptions) {
    super();
    const { seed = 0, engine = getEngine() } = checkOptions(new.target.name, options);
    checkNumber(new.target.name, "seed", seed, { integer: true });
    if (!(engine instanceof Engine)) throw new ArgumentError(`${new.target.name}: options.engine must be an Engine, got ${describe(engine)}`);
    this.engine = engine;
    this.#random = new Random(seed);
  }

  /**
   * The model's computation, from its inputs (each a batch) to its output. Run it through call().
   * Typed loosely so that subclasses may take options after their tensors (Sequential does).
   */
  // biome-ignore lint/suspicious/noExplicitAny: subclasses narrow it
  abstract forward(...inputs: any[]): Tensor;

  /** Runs forward() on the inputs in the current mode, building layers on first use from the model's seed. */
  call(...inputs: Tensor[]): Tensor {
    inputs.forEach((x, i) => {
      if (!Tensor.isTensor(x)) throw new ArgumentError(`${this.constructor.name}: input ${i} must be a Tensor, got ${describe(x)}`);
      x.assertLive();
    });
    if (!this.#named) this.nameLayers();
    const run = () => withBuildContext({ random: this.#random, engine: this.engine }, () => this.forward(...inputs));
    // Without a graph nothing owns the tensors forward()'s ops make along the way: free them now.
    if (!isGradEnabled()) return ownedBy(run, (y) => [y]);
    // With one, tensors forward() made outside it (from data that needs no gradient: a slice of a
    // constant, a mask) go with the output's graph, freed with its intermediates; a loop that never
    // yields would otherwise leave them to a garbage collector it never reaches.
    return settledBy(run, (y, made) => {
      const graph = nodeOf(y);
      for (const t of made) {
        if (t === y || t.isDisposed || nodeOf(t) !== null) continue; // the output; what the graph holds already
        if (graph) graph.adopted.push(t);
        else t.dispose();
      }
      return [y];
    });
  }

  /** Builds every layer for inputs of these shapes (per sample), by calling the model on empty batches. */
  build(...inputShapes: Shape[]): this {
    const empties = inputShapes.map((s) => zeros([0, ...checkShape(s, `${this.constructor.name}.build`)], { engine: this.engine }));
    try {
      noGrad(() => this.call(...empties)).dispose();
    } finally {
      empties.forEach((t) => t.dispose());
    }
    return this;
  }

  /** @internal The random generator layers are built from. */
  protected get random(): Random {
    return this.#random;
  }

  /** Unnamed layers take their path in the model as their name (the names in errors and summaries). */
  private nameLayers(): void {
    for (const [path, m] of this.namedModules()) if (m instanceof Layer && !m.name) m.name = path;
    this.#named = true;
  }
}
