// TensorFlow.js layers models, both ways: the artifacts tf.io hands a save handler (and that
// tf.io.fromMemory takes), or the model.json + weights.bin pair it writes to files. Keras's JSON
// topology of a Sequential model, and weights named "<layer>/<weight>" (kernel, bias,
// recurrent_kernel, embeddings, gamma, beta, moving_mean, moving_variance) in one little-endian
// float32 buffer. The layouts are the same on both sides (Keras's, which wasmgrad
// follows: dense [in, out], conv [kh, kw, cin, cout], NHWC), so weights move as they are.
// What one side has and the other has not (a layer type, an activation, channels_first, a
// non-square kernel, quantised weights) is a FormatError naming the layer and the reason.
import { type Engine, getEngine } from "../backend/engine.js";
import { describe } from "../check.js";
import { ArgumentError, FormatError } from "../errors.js";
import { Conv2D } from "../nn/conv.js";
import { Dense } from "../nn/dense.js";
import { Dropout } from "../nn/dropout.js";
import { Embedding } from "../nn/embedding.js";
import { Flatten } from "../nn/flatten.js";
import { BatchNorm, LayerNorm } from "../nn/norm.js";
import { GRU, LSTM, SimpleRNN } from "../nn/recurrent.js";
import type { Layer } from "../nn/layer.js";
import { AvgPool2D, MaxPool2D } from "../nn/pool.js";
import { Sequential } from "../nn/sequential.js";
import { type Tensor, tensor } from "../tensor.js";

export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}

/** What tf.io gives a save handler and tf.io.fromMemory takes (format "layers-model"). */
export interface TfjsArtifacts {
  modelTopology: unknown;
  weightSpecs: TfjsWeightSpec[];
  weightData: ArrayBuffer | ArrayBuffer[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
}

/** The files tf.io writes: model.json (topology and a weights manifest) and the weight files it names. */
export interface TfjsFiles {
  modelJson: string;
  weights: Record<string, Uint8Array>;
}

type Shared = "linear" | "relu" | "sigmoid" | "tanh" | "softmax" | "elu" | "softplus" | "hardSigmoid" | "swish" | "gelu";
/** Activation names on both sides (tfjs's → wasmgrad's, which are the same words). */
const ACTIVATIONS: Record<string, Shared> = {
  linear: "linear", relu: "relu", sigmoid: "sigmoid", tanh: "tanh", softmax: "softmax",
  elu: "elu", softplus: "softplus", hardSigmoid: "hardSigmoid", swish: "swish", gelu: "gelu",
};
/** Keras (Python) spells some activations its own way in saved JSON. */
const KERAS_SPELLINGS: Record<string, string> = { hard_sigmoid: "hardSigmoid", silu: "swish" };

/** tfjs's weight names → the wasmgrad field each fills (any layer kind; the file names which it has). */
const WEIGHT_FIELDS: Record<string, string> = {
  kernel: "weight", bias: "bias", recurrent_kernel: "recurrentKernel", embeddings: "embeddings",
  gamma: "gamma", beta: "beta", moving_mean: "movingMean", moving_variance: "movingVariance",
};
/** Layers whose kernel field is called `kernel` (recurrent layers), not `weight`. */
const KERNEL_NAMED_KERNEL = new Set(["LSTM", "GRU", "SimpleRNN"]);

type Config = Record<string, unknown>;

function square(where: string, name: string, v: unknown): number {
  const pair = typeof v === "number" ? [v, v] : v;
  if (!Array.isArray(pair) || pair.length !== 2 || pair[0] !== pair[1] || !Number.isInteger(pair[0])) {
    throw new FormatError(`${where}: ${name} ${JSON.stringify(v)}; wasmgrad has square ones only`);
  }
  return pair[0];
}

function activation(where: string, v: unknown): Shared {
  const a = v === null || v === undefined ? "linear" : ACTIVATIONS[KERAS_SPELLINGS[String(v)] ?? String(v)];
  if (!a) throw new FormatError(`${where}: activation ${JSON.stringify(v)} has no wasmgrad equivalent here (${Object.keys(ACTIVATIONS).join(", ")})`);
  return a;
}

function channelsLast(where: string, c: Config): void {
  if (c.data_format !== undefined && c.data_format !== "channels_last") throw new FormatError(`${where}: data_format ${JSON.stringify(c.data_format)}; wasmgrad is NHWC (channels_last)`);
}

/** Normalisation layers' axes as tfjs wrote them (from the batch axis), to check against the built shapes. */
const normAxes = new WeakMap<Layer, [number, string]>();

/** A wasmgrad layer for one tfjs layer, or null for an InputLayer. */
function layerFrom(kind: string, c: Config, where: string): Layer | null {
  switch (kind) {
    case "InputLayer":
      return null;
    case "Dense":
      return new Dense(c.units as number, { activation: activation(where, c.activation), useBias: c.use_bias !== false });
    case "Conv2D": {
      channelsLast(where, c);
      if (c.dilation_rate !== undefined && square(where, "dilation_rate", c.dilation_rate) !== 1) throw new FormatError(`${where}: dilated convolutions are not supported`);
      return new Conv2D(c.filters as number, square(where, "kernel_size", c.kernel_size), {
        stride: square(where, "strides", c.strides ?? 1), padding: c.padding as never, activation: activation(where, c.activation), useBias: c.use_bias !== false,
      });
    }
    case "MaxPooling2D":
    case "AveragePooling2D": {
      channelsLast(where, c);
      if (c.padding !== undefined && c.padding !== "valid") throw new FormatError(`${where}: padding ${JSON.stringify(c.padding)}; wasmgrad pools without padding`);
      const size = square(where, "pool_size", c.pool_size ?? 2);
      const stride = c.strides === null || c.strides === undefined ? size : square(where, "strides", c.strides);
      return kind === "MaxPooling2D" ? new MaxPool2D(size, stride) : new AvgPool2D(size, stride);
    }
    case "Flatten":
      channelsLast(where, c);
      return new Flatten();
    case "Dropout":
      return new Dropout(c.rate as number);
    case "LSTM":
    case "GRU":
    case "SimpleRNN": {
      for (const flag of ["return_state", "go_backwards", "stateful", "unroll"] as const) if (c[flag]) throw new FormatError(`${where}: ${flag} is not supported`);
      for (const rate of ["dropout", "recurrent_dropout"] as const) if (Number(c[rate] ?? 0) > 0) throw new FormatError(`${where}: ${rate} > 0 is not supported`);
      const common = { returnSequences: c.return_sequences === true, activation: activation(where, c.activation ?? "tanh"), useBias: c.use_bias !== false };
      const gates = { ...common, recurrentActivation: activation(where, c.recurrent_activation ?? "hardSigmoid") };
      if (kind === "SimpleRNN") return new SimpleRNN(c.units as number, common);
      if (kind === "LSTM") return new LSTM(c.units as number, gates);
      return new GRU(c.units as number, { ...gates, resetAfter: c.reset_after === true }); // tfjs writes none: its GRU resets before
    }
    case "Embedding":
      if (c.mask_zero) throw new FormatError(`${where}: mask_zero is not supported`);
      return new Embedding(c.input_dim as number, c.output_dim as number);
    case "BatchNormalization":
    case "LayerNormalization": {
      // tfjs writes the axis counted from the batch axis ([2] for [batch, time, features]): checked once built.
      const axis = Array.isArray(c.axis) ? (c.axis.length === 1 ? c.axis[0] : null) : c.axis ?? -1;
      if (!Number.isInteger(axis) || (axis < 1 && axis !== -1)) throw new FormatError(`${where}: axis ${JSON.stringify(c.axis)}; wasmgrad normalises over the last axis`);
      const options = { epsilon: (c.epsilon as number) ?? 1e-3, center: c.center !== false, scale: c.scale !== false };
      const layer = kind === "LayerNormalization" ? new LayerNorm(options) : new BatchNorm({ ...options, momentum: (c.momentum as number) ?? 0.99 });
      if (axis !== -1) normAxes.set(layer, [axis as number, where]);
      return layer;
    }
    default:
      throw new FormatError(`${where}: layer type ${JSON.stringify(kind)} has no wasmgrad equivalent here (Dense, Conv2D, MaxPooling2D, AveragePooling2D, Flatten, Dropout, LSTM, GRU, SimpleRNN, Embedding, BatchNormalization, LayerNormalization)`);
  }
}

/** The Keras topology's layers: { class_name: "Sequential", config: { layers } } or config: [layers]. */
function topologyLayers(topology: unknown): { class_name: string; config: Config }[] {
  const t = (topology as { model_config?: unknown })?.model_config ?? topology; // Keras model.json nests it once more
  const top = t as { class_name?: unknown; config?: unknown };
  if (typeof top !== "object" || top === null) throw new FormatError("tfjs: modelTopology is not an object");
  if (top.class_name !== "Sequential") throw new FormatError(`tfjs: a ${describe(top.class_name)} model; wasmgrad imports Sequential layers models`);
  const layers = Array.isArray(top.config) ? top.config : (top.config as { layers?: unknown })?.layers;
  if (!Array.isArray(layers) || layers.length === 0) throw new FormatError("tfjs: the Sequential topology lists no layers");
  return layers as { class_name: string; config: Config }[];
}

function concat(data: ArrayBuffer | ArrayBuffer[]): Uint8Array {
  const parts = Array.isArray(data) ? data : [data];
  if (!parts.every((p) => p instanceof ArrayBuffer)) throw new FormatError("tfjs: weightData is not an ArrayBuffer (or a list of them)");
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), at);
    at += p.byteLength;
  }
  return out;
}

/** A wasmgrad Sequential from a tfjs layers model's artifacts: same layers, same names, same weights. */
export function fromTfjs(artifacts: TfjsArtifacts, options: { engine?: Engine } = {}): Sequential {
  if (typeof artifacts !== "object" || artifacts === null) throw new ArgumentError(`fromTfjs: expected tf.io model artifacts, got ${describe(artifacts)}`);
  const engine = options.engine ?? getEngine();
  const entries = topologyLayers(artifacts.modelTopology);
  let inputShape: number[] | null = null;
  const layers: Layer[] = [];
  entries.forEach((entry, i) => {
    const c = (entry?.config ?? {}) as Config;
    const where = `tfjs: layer ${i} (${typeof c.name === "string" ? c.name : entry?.class_name})`;
    const shape = (c.batch_input_shape ?? c.batchInputShape) as unknown;
    if (Array.isArray(shape) && inputShape === null) inputShape = shape.slice(1) as number[];
    let layer: Layer | null;
    try {
      layer = layerFrom(String(entry?.class_name), c, where);
    } catch (e) {
      if (e instanceof FormatError) throw e;
      throw new FormatError(`${where}: ${(e as Error).message}`);
    }
    if (layer) {
      if (typeof c.name === "string") layer.name = c.name;
      layers.push(layer);
    }
  });
  if (inputShape === null || !(inputShape as number[]).every((d) => Number.isInteger(d) && d > 0)) {
    throw new FormatError(`tfjs: the first layer gives no input shape (batch_input_shape ${JSON.stringify(inputShape)})`);
  }
  let model: Sequential;
  try {
    model = new Sequential(layers, { inputShape: inputShape as number[], engine });
  } catch (e) {
    throw new FormatError(`tfjs: the layers do not build: ${(e as Error).message}`);
  }
  for (const layer of model.layers) {
    const [axis, where] = normAxes.get(layer) ?? [];
    if (axis !== undefined && axis !== layer.builtFor!.length) {
      Object.values(model.stateDict()).forEach((t) => t.dispose());
      throw new FormatError(`${where}: axis ${axis}; wasmgrad normalises over the last axis (${layer.builtFor!.length} here)`);
    }
  }
  // Weights: "<layer>/<name>" → <layer>.<field> (WEIGHT_FIELDS), in the buffer's order.
  const kinds = new Map(model.layers.map((l) => [l.name, l.kind]));
  const made: Tensor[] = [];
  try {
    const specs = artifacts.weightSpecs;
    if (!Array.isArray(specs)) throw new FormatError("tfjs: weightSpecs is not a list");
    const bytes = concat(artifacts.weightData);
    const view = new DataView(bytes.buffer);
    const dict: Record<string, Tensor> = {};
    let at = 0;
    for (const spec of specs) {
      if (spec?.dtype !== "float32") throw new FormatError(`tfjs: weight ${describe(spec?.name)} is ${describe(spec?.dtype)}; wasmgrad reads float32`);
      if (spec.quantization) throw new FormatError(`tfjs: weight ${spec.name} is quantised; export it unquantised`);
      if (!Array.isArray(spec.shape) || !spec.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new FormatError(`tfjs: weight ${spec.name} has shape ${JSON.stringify(spec.shape)}`);
      const size = spec.shape.reduce((a, d) => a * d, 1);
      if (at + 4 * size > bytes.length) throw new FormatError(`tfjs: weight ${spec.name} runs past the ${bytes.length} bytes of weight data`);
      const data = new Float32Array(size);
      for (let i = 0; i < size; i++) data[i] = view.getFloat32(at + 4 * i, true);
      at += 4 * size;
      const match = /^(.*?)(?:\/[^/]*_cell)?\/([a-z_]+?)(?:_\d+)?$/.exec(spec.name);
      const field = match && Object.hasOwn(WEIGHT_FIELDS, match[2]) ? WEIGHT_FIELDS[match[2]] : undefined;
      if (!match || !field) throw new FormatError(`tfjs: weight ${JSON.stringify(spec.name)} is none of a layer's ${Object.keys(WEIGHT_FIELDS).join(", ")}`);
      const t = tensor(data, { shape: spec.shape, engine });
      made.push(t);
      dict[`${match[1]}.${field === "weight" && KERNEL_NAMED_KERNEL.has(kinds.get(match[1]) ?? "") ? "kernel" : field}`] = t;
    }
    if (at !== bytes.length) throw new FormatError(`tfjs: the weight specs cover ${at} of ${bytes.length} bytes of weight data`);
    // Buffers the file does not carry (a dropout layer's generator) are wasmgrad's own: keep the model's.
    for (const [name, t] of model.namedBuffers()) dict[name] ??= t;
    model.loadStateDict(dict);
    made.forEach((t) => t.dispose());
    return model;
  } catch (e) {
    made.forEach((t) => t.dispose());
    Object.values(model.stateDict()).forEach((t) => t.dispose());
    if (e instanceof FormatError) throw e;
    throw new FormatError(`tfjs: the weights do not fit the layers: ${(e as Error).message}`);
  }
}

/** The tfjs layer for one wasmgrad layer (Keras's JSON config). */
function tfjsLayer(layer: Layer, first: boolean, inputShape: readonly number[]): { class_name: string; config: Config } {
  const where = `toTfjs: layer ${layer.name} (${layer.kind})`;
  const c = layer.config();
  const base: Config = { name: layer.name, trainable: true, ...(first ? { batch_input_shape: [null, ...inputShape], dtype: "float32" } : {}) };
  const act = (a: unknown) => {
    if (a === "silu") return "swish";
    if (typeof a === "string" && Object.hasOwn(ACTIVATIONS, a)) return a;
    throw new FormatError(`${where}: activation ${JSON.stringify(a)} has no tfjs Dense/Conv2D equivalent`);
  };
  switch (layer.kind) {
    case "Dense":
      return { class_name: "Dense", config: { ...base, units: c.units, activation: act(c.activation), use_bias: c.useBias } };
    case "Conv2D":
      return {
        class_name: "Conv2D",
        config: {
          ...base, filters: c.filters, kernel_size: [c.kernelSize, c.kernelSize], strides: [c.stride, c.stride], padding: c.padding,
          data_format: "channels_last", dilation_rate: [1, 1], activation: act(c.activation), use_bias: c.useBias,
        },
      };
    case "MaxPool2D":
    case "AvgPool2D":
      return {
        class_name: layer.kind === "MaxPool2D" ? "MaxPooling2D" : "AveragePooling2D",
        config: { ...base, pool_size: [c.size, c.size], strides: [c.stride, c.stride], padding: "valid", data_format: "channels_last" },
      };
    case "Flatten":
      return { class_name: "Flatten", config: base };
    case "Dropout":
      return { class_name: "Dropout", config: { ...base, rate: c.rate } };
    case "LSTM":
    case "GRU":
    case "SimpleRNN": {
      if (layer.kind === "GRU" && c.resetAfter) throw new FormatError(`${where}: tfjs's GRU resets before the recurrent product only; make the GRU with resetAfter: false`);
      const gates = layer.kind === "SimpleRNN" ? {} : { recurrent_activation: act(c.recurrentActivation) };
      return {
        class_name: layer.kind,
        config: { ...base, units: c.units, activation: act(c.activation), ...gates, use_bias: c.useBias, return_sequences: c.returnSequences, return_state: false, go_backwards: false, stateful: false, unroll: false, dropout: 0, recurrent_dropout: 0 },
      };
    }
    case "Embedding":
      return { class_name: "Embedding", config: { ...base, input_dim: c.inputDim, output_dim: c.outputDim, mask_zero: false } };
    case "BatchNorm":
      return { class_name: "BatchNormalization", config: { ...base, axis: -1, momentum: c.momentum, epsilon: c.epsilon, center: c.center, scale: c.scale } };
    case "LayerNorm":
      return { class_name: "LayerNormalization", config: { ...base, axis: -1, epsilon: c.epsilon, center: c.center, scale: c.scale } };
    default:
      throw new FormatError(`${where}: no tfjs layers equivalent`);
  }
}

/** A wasmgrad Sequential as tfjs model artifacts: load them with tf.loadLayersModel(tf.io.fromMemory(artifacts)). */
export function toTfjs(model: Sequential): TfjsArtifacts {
  if (!(model instanceof Sequential)) throw new ArgumentError(`toTfjs: expected a Sequential, got ${describe(model)}`);
  const layers = model.layers.map((l, i) => tfjsLayer(l, i === 0, model.inputShape));
  const weightSpecs: TfjsWeightSpec[] = [];
  const parts: Float32Array[] = [];
  const tfjsName = Object.fromEntries(Object.entries(WEIGHT_FIELDS).map(([k, v]) => [v, k]));
  tfjsName.kernel = "kernel";
  // Parameters, then the buffers tfjs keeps as non-trainable weights (BatchNorm's moving statistics), per layer in order.
  for (const layer of model.layers) {
    for (const [name, t] of Object.entries(layer.stateDict())) {
      const field = name.slice(name.lastIndexOf(".") + 1);
      if (!tfjsName[field]) continue; // wasmgrad's own state (a dropout layer's generator)
      weightSpecs.push({ name: `${layer.name}/${tfjsName[field]}`, shape: [...t.shape], dtype: "float32" });
      parts.push(t.data());
    }
  }
  const weightData = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  const view = new DataView(weightData.buffer);
  let at = 0;
  for (const p of parts) for (let i = 0; i < p.length; i++, at += 4) view.setFloat32(at, p[i], true);
  return {
    modelTopology: { class_name: "Sequential", config: { name: "sequential", layers }, keras_version: "tfjs-layers 4.22.0", backend: "tensor_flow.js" },
    weightSpecs,
    weightData: weightData.buffer,
    format: "layers-model",
    generatedBy: "wasmgrad",
    convertedBy: null,
  };
}

/** toTfjs() as the files tf.io writes: model.json naming one weights file. */
export function toTfjsFiles(model: Sequential, weightsPath = "weights.bin"): TfjsFiles {
  const a = toTfjs(model);
  const modelJson = JSON.stringify({
    modelTopology: a.modelTopology, format: a.format, generatedBy: a.generatedBy, convertedBy: a.convertedBy,
    weightsManifest: [{ paths: [weightsPath], weights: a.weightSpecs }],
  });
  return { modelJson, weights: { [weightsPath]: new Uint8Array(a.weightData as ArrayBuffer) } };
}

/** A model from the files tf.io writes: model.json (text or parsed) and its weight files by the paths it names. */
export function fromTfjsFiles(modelJson: string | object, weights: Record<string, Uint8Array | ArrayBuffer>, options: { engine?: Engine } = {}): Sequential {
  let json: { modelTopology?: unknown; weightsManifest?: { paths: string[]; weights: TfjsWeightSpec[] }[] };
  try {
    json = typeof modelJson === "string" ? JSON.parse(modelJson) : (modelJson as typeof json);
  } catch (e) {
    throw new FormatError(`tfjs: model.json is not JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(json?.weightsManifest)) throw new FormatError("tfjs: model.json has no weightsManifest");
  const buffers: ArrayBuffer[] = [];
  const specs: TfjsWeightSpec[] = [];
  for (const group of json.weightsManifest) {
    if (!Array.isArray(group?.paths) || !Array.isArray(group?.weights)) throw new FormatError("tfjs: a weightsManifest group lacks paths or weights");
    for (const path of group.paths) {
      const file = weights?.[path];
      if (!(file instanceof Uint8Array || file instanceof ArrayBuffer)) throw new FormatError(`tfjs: the weights file ${JSON.stringify(path)} named by model.json was not given`);
      buffers.push(file instanceof ArrayBuffer ? file : file.slice().buffer);
    }
    specs.push(...group.weights);
  }
  return fromTfjs({ modelTopology: json.modelTopology, weightSpecs: specs, weightData: buffers }, options);
}
