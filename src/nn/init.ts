// Initialisers: how a layer's weights start. He for ReLU-like activations (keeps the variance of
// activations through a layer, He et al. 2015), Xavier/Glorot for sigmoid and tanh (Glorot &
// Bengio 2010). Every one draws from the Random it is given, so a seed fixes the weights.
import type { Activation } from "../autograd/ops/activate.js";
import type { Engine } from "../backend/engine.js";
import { checkBoolean, describe } from "../check.js";
import { ArgumentError } from "../errors.js";
import { type Shape, Tensor } from "../tensor.js";
import type { BuildContext } from "./layer.js";
import type { Random } from "../random.js";

export type InitializerName =
  | "heNormal" | "heUniform" | "xavierNormal" | "xavierUniform" | "normal" | "uniform" | "zeros";

/** Fills `out` for a weight with the given fan-in and fan-out. */
export type Initializer = (out: Float32Array, fanIn: number, fanOut: number, random: Random) => void;

const normal = (std: number): Initializer => (out, _i, _o, random) => {
  for (let i = 0; i < out.length; i++) out[i] = std * random.normal();
};
const uniform = (limit: number): Initializer => (out, _i, _o, random) => random.fillSymmetric(out, limit);

export const initializers: Record<InitializerName, Initializer> = {
  heNormal: (out, fanIn, fanOut, random) => normal(Math.sqrt(2 / fanIn))(out, fanIn, fanOut, random),
  heUniform: (out, fanIn, fanOut, random) => uniform(Math.sqrt(6 / fanIn))(out, fanIn, fanOut, random),
  xavierNormal: (out, fanIn, fanOut, random) => normal(Math.sqrt(2 / (fanIn + fanOut)))(out, fanIn, fanOut, random),
  xavierUniform: (out, fanIn, fanOut, random) => uniform(Math.sqrt(6 / (fanIn + fanOut)))(out, fanIn, fanOut, random),
  normal: normal(0.05),
  uniform: uniform(0.05),
  zeros: (out) => out.fill(0),
};

export function resolveInitializer(init: InitializerName | Initializer, where: string): Initializer {
  if (typeof init === "function") return init;
  const found = typeof init === "string" && Object.hasOwn(initializers, init) ? initializers[init] : undefined;
  if (!found) {
    throw new ArgumentError(`${where}: unknown initializer ${describe(init)}; one of ${Object.keys(initializers).join(", ")}, or a function`);
  }
  return found;
}

/** The weight options of a layer, checked when the layer is made (not later, when it is built). */
export function checkWeightOptions(where: string, options: WeightOptions): void {
  if (options.kernelInitializer !== undefined) resolveInitializer(options.kernelInitializer, `${where}: kernelInitializer`);
  if (options.biasInitializer !== undefined) resolveInitializer(options.biasInitializer, `${where}: biasInitializer`);
  if (options.useBias !== undefined) checkBoolean(where, "useBias", options.useBias);
}

export interface WeightOptions {
  /** Default: "heNormal" for relu and leakyRelu, "xavierUniform" otherwise. */
  kernelInitializer?: InitializerName | Initializer;
  /** Default "zeros". */
  biasInitializer?: InitializerName | Initializer;
  /** Default true. */
  useBias?: boolean;
}

/** A layer's weight (of `shape`, last axis the outputs) and bias, initialised for its activation. */
export function initialWeights(
  name: string, shape: Shape, fanIn: number, fanOut: number, activation: Activation,
  options: WeightOptions, { random, engine }: BuildContext,
): { weight: Tensor; bias: Tensor | null } {
  const relu = activation === "relu" || activation === "leakyRelu";
  const units = shape[shape.length - 1];
  const kernelInit = resolveInitializer(options.kernelInitializer ?? (relu ? "heNormal" : "xavierUniform"), `${name}.kernelInitializer`);
  const biasInit = resolveInitializer(options.biasInitializer ?? "zeros", `${name}.biasInitializer`);
  // Allocated in Wasm memory first and filled in place: a size past the memory is an
  // OutOfMemoryError before any JS array of that size is made.
  const weight = initialised(shape, kernelInit, fanIn, fanOut, random, engine, `${name}.weight`);
  if (!(options.useBias ?? true)) return { weight, bias: null };
  try {
    return { weight, bias: initialised([units], biasInit, fanIn, fanOut, random, engine, `${name}.bias`) };
  } catch (e) {
    weight.dispose();
    throw e;
  }
}

/**
 * A layer's own tensor: persistent (even when the layer is first built inside withArena(), it
 * outlives any step), zeroed, then filled by `fill` (which may not allocate Wasm memory, so the view
 * stays valid) and checked finite. Parameters require grad; buffers (`requiresGrad` false) do not.
 */
export function stateTensor(engine: Engine, shape: Shape, name: string, fill: (values: Float32Array) => void, requiresGrad = true): Tensor {
  const t = Tensor.persistent(shape, engine);
  t.requiresGrad = requiresGrad;
  t.name = name;
  engine.kernels.fill(t.ptr, 0, t.size); // a fill that skips elements leaves zeros, not old memory
  if (valuesComeLater) return t;
  try {
    fill(engine.memory.f32(t.ptr, t.size));
    const bad = engine.kernels.firstNonFinite(t.ptr, t.size);
    if (bad >= 0) throw new ArgumentError(`${name}: the initializer gave a non-finite value at element ${bad}`);
  } catch (e) {
    t.dispose();
    throw e;
  }
  return t;
}

let valuesComeLater = false;

/**
 * Runs fn with every layer built inside it left at zeros, for a model whose weights are loaded
 * right after (loadModel): no random numbers drawn only to be overwritten — in a page or a cold
 * start, drawing them was most of the cost of loading a model.
 */
export function withoutInitialValues<T>(fn: () => T): T {
  const before = valuesComeLater;
  valuesComeLater = true;
  try {
    return fn();
  } finally {
    valuesComeLater = before;
  }
}

function initialised(shape: Shape, init: Initializer, fanIn: number, fanOut: number, random: Random, engine: Engine, name: string): Tensor {
  return stateTensor(engine, shape, name, (values) => init(values, fanIn, fanOut, random));
}
