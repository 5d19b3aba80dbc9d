// TensorFlow.js layers models, both ways: the artifacts tf.io hands a save handler (and that
// tf.io.fromMemory takes), or the model.json + weights.bin pair it writes to files. Keras's JSON
// topology of a Sequential model, and weights named "<layer>/<weight>" (kernel, bias,
// recurrent_kernel, embeddings, gamma, beta, moving_mean, moving_variance) in one little-endian
// float32 buffer. The layouts are the same on both sides (Keras's, which wasmgrad
// follows: dense [in, out], conv [kh, kw, cin, cout], NHWC), so weights move as they are.
// What one side has and the other has not (a layer type, an activation, channels_first, a
// non-square kernel, quantised weights) is a FormatError naming the layer and the reason.
import type { Activation } from "../autograd/ops/activate.js";
import { type Engine, getEngine } from "../backend/engine.js";
import { describe } from "../check.js";
import { ArgumentError, FormatError } from "../errors.js";
import type { Config, LayerCodec, TfjsHelpers } from "../nn/codec.js";
import { LAYER_CODECS, codecOf } from "../nn/codecs.js";
import type { Layer } from "../nn/layer.js";
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

/** tfjs's weight names → the wasmgrad field each fills (a codec names the ones its layer spells otherwise). */
const WEIGHT_FIELDS: Record<string, string> = {
  kernel: "weight", bias: "bias", recurrent_kernel: "recurrentKernel", embeddings: "embeddings",
  gamma: "gamma", beta: "beta", moving_mean: "movingMean", moving_variance: "movingVariance",
};

/** The codec reading each tfjs class name. */
const BY_CLASS = new Map(LAYER_CODECS.flatMap((c) => (c.tfjs?.classNames ?? []).map((name): [string, LayerCodec] => [name, c])));

/** Normalisation layers' axes as tfjs wrote them (from the batch axis), to check against the built shapes. */
const normAxes = new WeakMap<Layer, [number, string]>();

/** The translations a codec reads and writes tfjs JSON with, its errors naming `where`. */
function helpers(where: string): TfjsHelpers {
  const fail = (why: string): never => {
    throw new FormatError(`${where}: ${why}`);
  };
  return {
    where,
    fail,
    activation(v) {
      const a = v === null || v === undefined ? "linear" : ACTIVATIONS[KERAS_SPELLINGS[String(v)] ?? String(v)];
      return a ?? fail(`activation ${JSON.stringify(v)} has no wasmgrad equivalent here (${Object.keys(ACTIVATIONS).join(", ")})`);
    },
    tfjsActivation(a: Activation) {
      if (a === "silu") return "swish";
      return Object.hasOwn(ACTIVATIONS, a) ? a : fail(`activation ${JSON.stringify(a)} has no tfjs equivalent`);
    },
    square(name, v) {
      const pair = typeof v === "number" ? [v, v] : v;
      if (!Array.isArray(pair) || pair.length !== 2 || pair[0] !== pair[1] || !Number.isInteger(pair[0])) fail(`${name} ${JSON.stringify(v)}; wasmgrad has square ones only`);
      return (pair as number[])[0];
    },
    channelsLast(c) {
      if (c.data_format !== undefined && c.data_format !== "channels_last") fail(`data_format ${JSON.stringify(c.data_format)}; wasmgrad is NHWC (channels_last)`);
    },
    axisWhenBuilt: (layer, axis) => void normAxes.set(layer, [axis, where]),
  };
}

/** A wasmgrad layer for one tfjs layer, or null for an InputLayer. */
function layerFrom(kind: string, c: Config, where: string): Layer | null {
  if (kind === "InputLayer") return null;
  const codec = BY_CLASS.get(kind);
  if (!codec) throw new FormatError(`${where}: layer type ${JSON.stringify(kind)} has no wasmgrad equivalent here (${[...BY_CLASS.keys()].join(", ")})`);
  return codec.tfjs!.read(kind, c, helpers(where));
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
      dict[`${match[1]}.${codecOf(kinds.get(match[1]) ?? "")?.tfjs?.fields?.[match[2]] ?? field}`] = t;
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
  const codec = codecOf(layer.kind)?.tfjs;
  if (!codec) throw new FormatError(`${where}: no tfjs layers equivalent`);
  const base: Config = { name: layer.name, trainable: true, ...(first ? { batch_input_shape: [null, ...inputShape], dtype: "float32" } : {}) };
  return codec.write(layer, base, helpers(where));
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
