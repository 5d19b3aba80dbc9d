// The layer classes a saved architecture can name: the built-in ones, and any a user registers
// (registerLayer) so that their models load by architecture too.
import { describe } from "../check.js";
import { ArgumentError } from "../errors.js";
import { Activation } from "../nn/activation.js";
import { MultiHeadAttention } from "../nn/attention.js";
import { Conv2D } from "../nn/conv.js";
import { Dense } from "../nn/dense.js";
import { Dropout } from "../nn/dropout.js";
import { Flatten } from "../nn/flatten.js";
import { Embedding } from "../nn/embedding.js";
import { Layer } from "../nn/layer.js";
import { BatchNorm, LayerNorm } from "../nn/norm.js";
import { GRU, LSTM, SimpleRNN } from "../nn/recurrent.js";
import { GlobalAveragePooling, Permute, Reshape } from "../nn/shape-layers.js";
import { AvgPool2D, MaxPool2D } from "../nn/pool.js";
import { RandomShift } from "../nn/random-shift.js";

/** Makes a layer again from what its config() returned. */
export type LayerFactory = (config: Record<string, unknown>) => Layer;

// Each built-in layer's constructor checks the values (a file that lies gets its typed error).
const factories = new Map<string, LayerFactory>([
  ["Dense", (c) => new Dense(c.units as number, { activation: c.activation as never, slope: c.slope as number, useBias: c.useBias as boolean })],
  ["Conv2D", (c) => new Conv2D(c.filters as number, c.kernelSize as number, {
    stride: c.stride as number, padding: c.padding as never, activation: c.activation as never, slope: c.slope as number, useBias: c.useBias as boolean,
  })],
  ["MaxPool2D", (c) => new MaxPool2D(c.size as number, c.stride as number)],
  ["AvgPool2D", (c) => new AvgPool2D(c.size as number, c.stride as number)],
  ["Flatten", () => new Flatten()],
  ["Dropout", (c) => new Dropout(c.rate as number)],
  ["RandomShift", (c) => new RandomShift(c.maxShift as number)],
  ["LayerNorm", (c) => new LayerNorm({ epsilon: c.epsilon as number, center: c.center as boolean, scale: c.scale as boolean })],
  ["BatchNorm", (c) => new BatchNorm({ epsilon: c.epsilon as number, center: c.center as boolean, scale: c.scale as boolean, momentum: c.momentum as number })],
  ["Activation", (c) => new Activation(c.activation as never, { slope: c.slope as number })],
  ["SimpleRNN", (c) => new SimpleRNN(c.units as number, c as never)],
  ["LSTM", (c) => new LSTM(c.units as number, c as never)],
  ["GRU", (c) => new GRU(c.units as number, c as never)],
  ["Reshape", (c) => new Reshape(c.targetShape as number[])],
  ["Permute", (c) => new Permute(c.dims as number[])],
  ["GlobalAveragePooling", () => new GlobalAveragePooling()],
  ["MultiHeadAttention", (c) => new MultiHeadAttention(c.numHeads as number, c.keyDim as number, { causal: c.causal as boolean, useBias: c.useBias as boolean })],
  ["Embedding", (c) => new Embedding(c.inputDim as number, c.outputDim as number)],
]);

/** Lets saved architectures name a layer class of your own (its kind), made again by `factory`. */
export function registerLayer(kind: string, factory: LayerFactory): void {
  if (typeof kind !== "string" || kind === "") throw new ArgumentError(`registerLayer: kind must be a non-empty string, got ${describe(kind)}`);
  if (typeof factory !== "function") throw new ArgumentError(`registerLayer: factory must be a function, got ${describe(factory)}`);
  if (factories.has(kind)) throw new ArgumentError(`registerLayer: a layer kind ${JSON.stringify(kind)} is registered already`);
  factories.set(kind, factory);
}

/** The factory for `kind`, or undefined. */
export const layerFactory = (kind: string): LayerFactory | undefined => factories.get(kind);
