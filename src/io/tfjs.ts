// TensorFlow.js layers models, both ways: the artifacts tf.io hands a save handler (and that
// tf.io.fromMemory takes), or the model.json + weights.bin pair it writes to files. Keras's JSON
// topology of a Sequential model, and weights named "<layer>/kernel", "<layer>/bias" in one
// little-endian float32 buffer. The layouts are the same on both sides (Keras's, which wasmgrad
// follows: dense [in, out], conv [kh, kw, cin, cout], NHWC), so weights move as they are.
// What one side has and the other has not (a layer type, an activation, channels_first, a
// non-square kernel, quantised weights) is a FormatError naming the layer and the reason.
import { type Engine, getEngine } from "../backend/engine.js";
import { describe } from "../check.js";
import { ArgumentError, FormatError } from "../errors.js";
import { Conv2D } from "../nn/conv.js";
import { Dense } from "../nn/dense.js";
import { Dropout } from "../nn/dropout.js";
import { Flatten } from "../nn/flatten.js";
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

type Config = Record<string, unknown>;

function square(where: string, name: string, v: unknown): number {
  const pair = typeof v === "number" ? [v, v] : v;
  if (!Array.isArray(pair) || pair.length !== 2 || pair[0] !== pair[1] || !Number.isInteger(pair[0])) {
    throw new FormatError(`${where}: ${name} ${JSON.stringify(v)}; wasmgrad has square ones only`);
  }
  return pair[0];
}

function activation(where: string, v: unknown): Shared {
  const a = v === null || v === undefined ? "linear" : ACTIVATIONS[String(v)];
  if (!a) throw new FormatError(`${where}: activation ${JSON.stringify(v)} has no wasmgrad equivalent here (${Object.keys(ACTIVATIONS).join(", ")})`);
  return a;
}

function channelsLast(where: string, c: Config): void {
  if (c.data_format !== undefined && c.data_format !== "channels_last") throw new FormatError(`${where}: data_format ${JSON.stringify(c.data_format)}; wasmgrad is NHWC (channels_last)`);
}

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
    default:
      throw new FormatError(`${where}: layer type ${JSON.stringify(kind)} has no wasmgrad equivalent here (Dense, Conv2D, MaxPooling2D, AveragePooling2D, Flatten, Dropout)`);
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
  // Weights: "<layer>/kernel" → <layer>.weight, "<layer>/bias" → <layer>.bias, in the buffer's order.
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
      const match = /^(.*)\/(kernel|bias)(?:_\d+)?$/.exec(spec.name);
      if (!match) throw new FormatError(`tfjs: weight ${JSON.stringify(spec.name)} is not a layer's kernel or bias`);
      const t = tensor(data, { shape: spec.shape, engine });
      made.push(t);
      dict[`${match[1]}.${match[2] === "kernel" ? "weight" : "bias"}`] = t;
    }
    if (at !== bytes.length) throw new FormatError(`tfjs: the weight specs cover ${at} of ${bytes.length} bytes of weight data`);
    // Buffers (a dropout layer's generator) are wasmgrad's own: keep the ones the model made.
    for (const [name, t] of model.namedBuffers()) dict[name] = t;
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
  for (const [name, t] of model.namedParameters()) {
    const dot = name.lastIndexOf(".");
    weightSpecs.push({ name: `${name.slice(0, dot)}/${name.slice(dot + 1) === "weight" ? "kernel" : "bias"}`, shape: [...t.shape], dtype: "float32" });
    parts.push(t.data());
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
