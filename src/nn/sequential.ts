// A stack of layers, each feeding the next. Built at construction from the input shape and a
// seed, so the same seed always gives the same initial weights.
import { nodeOf } from "../autograd/graph.js";
import { type Engine, MAX_DIMS } from "../backend/engine.js";
import { checkBoolean, checkOptions, describe } from "../check.js";
import { ArgumentError, ShapeError } from "../errors.js";
import { type Shape, Tensor, checkShape, formatShape } from "../tensor.js";
import { type ForwardOptions, Layer } from "./layer.js";
import { Model } from "./model.js";
import { ModelLayer } from "./model-layer.js";
import type { Module } from "./module.js";

export interface SequentialOptions {
  /** Shape of one sample, without the batch axis: [784] for flattened MNIST digits. */
  inputShape: Shape;
  /** Seeds the initial weights and dropout masks. Default 0. */
  seed?: number;
  /** The engine that holds the parameters; default: the one init() made last. */
  engine?: Engine;
}

export class Sequential extends Model {
  readonly layers: readonly Layer[];
  readonly inputShape: Shape;
  readonly outputShape: Shape;
  private readonly shapes: Shape[] = [];

  /** Layers, or models used as layers (an imported backbone: its parameters keep their own names). */
  constructor(given: readonly (Layer | Model)[], options: SequentialOptions) {
    if (!Array.isArray(given) || given.length === 0 || !given.every((l) => l instanceof Layer || l instanceof Model)) {
      throw new ArgumentError(`Sequential: expected a non-empty array of layers (or models), got ${describe(given)}`);
    }
    const layers = given.map((l) => (l instanceof Layer ? l : new ModelLayer(l)));
    if (new Set(given).size !== given.length) throw new ArgumentError("Sequential: a layer appears twice; make two layers (sharing needs a Model)");
    if (typeof options !== "object" || options === null || options.inputShape === undefined) {
      throw new ArgumentError("Sequential: options.inputShape (one sample's shape) is required");
    }
    super({ seed: options.seed, engine: options.engine });
    const engine = this.engine;
    this.layers = [...layers];
    this.inputShape = checkShape(options.inputShape, "Sequential inputShape");
    if (this.inputShape.length + 1 > MAX_DIMS) throw new ShapeError(`Sequential: inputShape has too many axes for a batch (at most ${MAX_DIMS - 1})`);
    const context = { random: this.random, engine };
    const counts = new Map<string, number>();
    let shape = this.inputShape;
    try {
      for (const layer of layers) {
        const n = (counts.get(layer.kind) ?? 0) + 1;
        counts.set(layer.kind, n);
        if (!layer.name && !(layer instanceof ModelLayer)) layer.name = `${layer.kind.toLowerCase()}_${n}`;
        shape = layer.buildOnce(shape, context);
        this.shapes.push(shape);
      }
    } catch (e) {
      // Nothing built is kept: the parameters made so far go back at once, not when collected.
      for (const layer of layers) layer.parameters().forEach((p) => p.dispose());
      throw e;
    }
    this.outputShape = shape;
    const names = [...this.namedParameters(), ...this.namedBuffers()].map(([n]) => n);
    const twice = names.filter((n, i) => names.indexOf(n) !== i);
    if (twice.length > 0) {
      for (const layer of layers) if (!(layer instanceof ModelLayer)) layer.parameters().forEach((p) => p.dispose());
      throw new ArgumentError(`Sequential: ${twice.join(", ")} named twice (a model used as a layer keeps its own names); give the model layers names`);
    }
  }

  /** The layers, named by their names (dense_1, …), so parameters are dense_1.weight, dense_1.bias, … */
  override namedChildren(): [string, Module][] {
    return this.layers.map((l) => [l.name, l]);
  }

  /** The output for a batch x of shape [batch, ...inputShape]; options.training overrides the model's mode. */
  forward(x: Tensor, options?: ForwardOptions): Tensor {
    if (!Tensor.isTensor(x)) throw new ArgumentError(`Sequential: the input must be a Tensor, got ${describe(x)}`);
    x.assertLive();
    const { training = this.training } = checkOptions("Sequential.forward", options);
    checkBoolean("Sequential.forward", "options.training", training);
    if (!this.accepts(x)) {
      throw new ShapeError(`Sequential: expected a batch of shape [batch, ${this.inputShape.join(", ")}], got ${formatShape(x.shape)}`);
    }
    let h = x;
    for (const layer of this.layers) {
      const next = layer.forward(h, { training });
      // A layer output made without a graph (no grad, or data that needs none) is the model's own:
      // freed now when the next layer built no graph either (a synchronous inference loop never
      // reaches a GC), else handed to that graph, which saved it, to go with its intermediates.
      const saver = nodeOf(next);
      if (h !== x && next !== h && nodeOf(h) === null) {
        if (saver === null) h.dispose();
        else saver.adopted.push(h);
      }
      h = next;
    }
    return h;
  }

  /** A table of the layers: name, type, output shape, parameter count. */
  summary(): string {
    const rows = [["layer", "type", "output shape", "params"]];
    let total = 0;
    this.layers.forEach((layer, i) => {
      const count = layer.parameters().reduce((n, p) => n + p.size, 0);
      total += count;
      const kind = [layer.kind, layer.describe()].filter(Boolean).join(" ");
      rows.push([layer.name, kind, `[batch, ${this.shapes[i].join(", ")}]`, String(count)]);
    });
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    const line = (r: string[]) => r.map((cell, c) => (c === 3 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join("  ");
    return [line(rows[0]), ...rows.slice(1).map(line), `total parameters: ${total} (${(total * 4) / 1024 | 0} KiB)`].join("\n");
  }

  /** Each layer's output shape (per sample), in order. */
  get layerOutputShapes(): readonly Shape[] {
    return this.shapes;
  }

  /** x is a batch of this model's inputs: [samples, ...inputShape]. */
  accepts(x: Tensor): boolean {
    return Tensor.isTensor(x) && x.rank === this.inputShape.length + 1 && this.inputShape.every((d, i) => x.shape[i + 1] === d);
  }
}
