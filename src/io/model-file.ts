// Saving and loading models, one standard safetensors file each: the weights (every parameter and
// buffer by its dotted name, so any safetensors reader opens them) and, in __metadata__, the format
// version and the architecture as JSON (and the optimiser's steps and settings when saved with
// one; its buffers are tensors named "@optimizer.<parameter>.<slot>").
//   const bytes = model.save({ optimizer });       // Uint8Array: write it, download it, store it
//   const model = await loadModel(bytes | url | path | Blob | Response);
// A Sequential loads by architecture; a subclassed Model is saved too (weights by name) and loaded
// by constructing it and calling model.loadStateDict(readWeights(bytes)).
import { type Engine, getEngine } from "../backend/engine.js";
import { nodeBuiltin } from "../backend/host.js";
import { describe } from "../check.js";
import { ArgumentError, FormatError, WasmgradError } from "../errors.js";
import type { Layer } from "../nn/layer.js";
import { withoutInitialValues } from "../nn/init.js";
import { Model } from "../nn/model.js";
import { StateDictError } from "../nn/module.js";
import { Sequential } from "../nn/sequential.js";
import { Optimizer, type OptimizerState } from "../optim/optimizer.js";
import { Tensor, tensor } from "../tensor.js";
import { layerFactory } from "./registry.js";
import { readSafetensors, writeSafetensors } from "./safetensors.js";

export const FORMAT_VERSION = 1;
const OPTIMIZER_PREFIX = "@optimizer.";

export interface SaveOptions {
  /** Also store this optimiser's state (steps, learning rate, buffers), to resume training exactly. */
  optimizer?: Optimizer;
}

/** Where a saved model comes from. In Node a string that is not a URL is a file path. */
export type ModelSource = Uint8Array | ArrayBuffer | Blob | Response | URL | string;

interface Architecture {
  class: string;
  inputShape?: number[];
  layers?: { kind: string; name: string; config: Record<string, unknown> }[];
}

declare module "../nn/model.js" {
  interface Model {
    /** The model (and, optionally, an optimiser's state) as the bytes of one safetensors file. */
    save(options?: SaveOptions): Uint8Array;
  }
}

function architectureOf(model: Model): Architecture {
  if (!(model instanceof Sequential)) return { class: model.constructor.name };
  return {
    class: "Sequential",
    inputShape: [...model.inputShape],
    layers: model.layers.map((l: Layer) => ({ kind: l.kind, name: l.name, config: l.config() })),
  };
}

function save(this: Model, options: SaveOptions = {}): Uint8Array {
  if (typeof options !== "object" || options === null) throw new ArgumentError(`save: options must be an object, got ${describe(options)}`);
  const { optimizer } = options;
  if (optimizer !== undefined && !(optimizer instanceof Optimizer)) throw new ArgumentError(`save: options.optimizer must be an Optimizer, got ${describe(optimizer)}`);
  const entries: [string, { shape: readonly number[]; data: Float32Array }][] = Object.entries(this.stateDict()).map(([name, t]) => [name, { shape: t.shape, data: t.data() }]);
  const metadata: Record<string, string> = { format: "wasmgrad", version: String(FORMAT_VERSION), architecture: JSON.stringify(architectureOf(this)) };
  if (optimizer) {
    const { state, ...rest } = optimizer.stateDict(this);
    metadata.optimizer = JSON.stringify(rest);
    for (const [param, slots] of Object.entries(state)) {
      for (const [slot, t] of Object.entries(slots)) entries.push([`${OPTIMIZER_PREFIX}${param}.${slot}`, { shape: t.shape, data: t.data() }]);
    }
  }
  return writeSafetensors(entries, metadata);
}

Object.defineProperty(Model.prototype, "save", { value: save, writable: true, configurable: true, enumerable: false });

/** The bytes behind a source: fetched (http, https), read (file: URLs and, in Node, paths) or taken as they are. */
export async function readSource(source: ModelSource): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (typeof Blob !== "undefined" && source instanceof Blob) return new Uint8Array(await source.arrayBuffer());
  if (typeof Response !== "undefined" && source instanceof Response) {
    if (!source.ok) throw new ArgumentError(`loadModel: the response is ${source.status} ${source.statusText}`);
    return new Uint8Array(await source.arrayBuffer());
  }
  const text = source instanceof URL ? source.href : source;
  if (typeof text !== "string") throw new ArgumentError(`loadModel: expected bytes, an ArrayBuffer, a Blob, a Response, a URL or a path, got ${describe(source)}`);
  if (/^https?:\/\//i.test(text)) {
    let response: Response;
    try {
      response = await fetch(text);
    } catch (e) {
      throw new ArgumentError(`loadModel: could not fetch ${text}: ${(e as Error).message}`);
    }
    return readSource(response);
  }
  // file: URLs and paths: Node's file system (imported only here, and only when needed).
  let fs: { readFile(path: string): Promise<Uint8Array> };
  let url: { fileURLToPath(u: string): string };
  try {
    fs = await nodeBuiltin("node:fs/promises");
    url = await nodeBuiltin("node:url");
  } catch {
    throw new ArgumentError(`loadModel: ${JSON.stringify(text)} is not an http(s) URL, and this host has no file system to read a path from`);
  }
  const path = /^file:/i.test(text) ? url.fileURLToPath(text) : text;
  try {
    return new Uint8Array(await fs.readFile(path));
  } catch (e) {
    throw new ArgumentError(`loadModel: could not read ${path}: ${(e as Error).message}`);
  }
}

/** The weights in a model file (or any safetensors file) as tensors by name, to loadStateDict() into a model you made. */
export function readWeights(bytes: Uint8Array, engine: Engine = getEngine()): Record<string, Tensor> {
  const file = readSafetensors(bytes);
  const out: Record<string, Tensor> = {};
  for (const [name, { shape, data }] of file.tensors) if (!name.startsWith(OPTIMIZER_PREFIX)) out[name] = tensor(data, { shape, engine });
  return out;
}

export interface Checkpoint {
  model: Model;
  /** The optimiser state saved with the model, for optimizer.loadStateDict(state, model); null when none was. */
  optimizerState: OptimizerState | null;
}

/** A model saved by model.save(), ready to predict or train. */
export async function loadModel(source: ModelSource, options: { engine?: Engine } = {}): Promise<Model> {
  const { model, optimizerState } = await loadCheckpoint(source, options);
  if (optimizerState) for (const slots of Object.values(optimizerState.state)) for (const t of Object.values(slots)) t.dispose();
  return model;
}

/** A model and the optimiser state saved with it (model.save({ optimizer })). */
export async function loadCheckpoint(source: ModelSource, options: { engine?: Engine } = {}): Promise<Checkpoint> {
  const bytes = await readSource(source);
  return fromBytes(bytes, options.engine ?? getEngine());
}

function parseJson(what: string, text: string | undefined): unknown {
  if (text === undefined) throw new FormatError(`model file: no ${what} in __metadata__`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new FormatError(`model file: __metadata__.${what} is not JSON: ${(e as Error).message}`);
  }
}

function fromBytes(bytes: Uint8Array, engine: Engine): Checkpoint {
  const file = readSafetensors(bytes);
  const { metadata } = file;
  if (metadata.format !== "wasmgrad") {
    throw new FormatError("model file: not a wasmgrad model (no format \"wasmgrad\" in __metadata__); read its weights with readWeights() and loadStateDict() them into a model you construct");
  }
  if (metadata.version !== String(FORMAT_VERSION)) {
    throw new FormatError(`model file: format version ${JSON.stringify(metadata.version)}; this wasmgrad reads version ${FORMAT_VERSION}${Number(metadata.version) > FORMAT_VERSION ? " (the file is newer: update wasmgrad)" : ""}`);
  }
  const arch = parseJson("architecture", metadata.architecture) as Architecture;
  if (typeof arch !== "object" || arch === null || typeof arch.class !== "string") throw new FormatError("model file: the architecture has no class");
  if (arch.class === "OnnxModel") {
    throw new FormatError("model file: an imported ONNX model; import its file again with fromOnnx(), then model.loadStateDict(readWeights(bytes)) (or save it with toOnnx(model), which fromOnnx reads whole)");
  }
  if (arch.class !== "Sequential") {
    throw new FormatError(`model file: a subclassed model (${arch.class}); construct it, then model.loadStateDict(readWeights(bytes))`);
  }
  if (!Array.isArray(arch.layers) || arch.layers.length === 0) throw new FormatError("model file: the architecture lists no layers");
  const layers = arch.layers.map((entry, i) => {
    const kind = entry?.kind;
    const factory = typeof kind === "string" ? layerFactory(kind) : undefined;
    if (!factory) throw new FormatError(`model file: layer ${i} is of kind ${describe(kind)}, which is not built in nor registered (registerLayer)`);
    try {
      const layer = factory(typeof entry.config === "object" && entry.config !== null ? entry.config : {});
      if (typeof entry.name === "string") layer.name = entry.name;
      return layer;
    } catch (e) {
      throw new FormatError(`model file: layer ${i} (${kind}) cannot be made from its config: ${(e as Error).message}`);
    }
  });
  let model: Sequential;
  try {
    model = withoutInitialValues(() => new Sequential(layers, { inputShape: arch.inputShape as number[], engine })); // the file's values follow
  } catch (e) {
    throw new FormatError(`model file: the architecture does not build: ${(e as Error).message}`);
  }
  const made: Tensor[] = [];
  try {
    const weights: Record<string, Tensor> = {};
    const optimizer: Record<string, Record<string, Tensor>> = {};
    for (const [name, { shape, data }] of file.tensors) {
      const t = tensor(data, { shape, engine });
      made.push(t);
      if (!name.startsWith(OPTIMIZER_PREFIX)) {
        weights[name] = t;
        continue;
      }
      const rest = name.slice(OPTIMIZER_PREFIX.length);
      const dot = rest.lastIndexOf(".");
      if (dot <= 0) throw new FormatError(`model file: optimiser tensor ${JSON.stringify(name)} names no parameter and slot`);
      (optimizer[rest.slice(0, dot)] ??= {})[rest.slice(dot + 1)] = t;
    }
    model.loadStateDict(weights);
    for (const t of Object.values(weights)) t.dispose();
    let optimizerState: OptimizerState | null = null;
    if (metadata.optimizer !== undefined) {
      const o = parseJson("optimizer", metadata.optimizer) as Omit<OptimizerState, "state">;
      if (typeof o !== "object" || o === null || typeof o.kind !== "string" || !Number.isInteger(o.steps) || typeof o.lr !== "number") {
        throw new FormatError("model file: the optimiser state lacks its kind, steps or learning rate");
      }
      optimizerState = { kind: o.kind, steps: o.steps, lr: o.lr, settings: o.settings ?? {}, state: optimizer };
    } else if (Object.keys(optimizer).length > 0) {
      throw new FormatError("model file: optimiser tensors without the optimiser's metadata");
    }
    return { model, optimizerState };
  } catch (e) {
    made.forEach((t) => t.dispose());
    model.parameters().forEach((p) => p.dispose());
    model.namedBuffers().forEach(([, b]) => b.dispose());
    if (e instanceof StateDictError) throw new FormatError(`model file: the weights do not fit the architecture: ${e.message}`);
    if (e instanceof WasmgradError) throw e;
    throw new FormatError(`model file: ${(e as Error).message}`);
  }
}

/** Node: writes model.save(options) to a file. (In a browser, model.save() gives the bytes to download or store.) */
export async function saveModel(model: Model, path: string, options?: SaveOptions): Promise<void> {
  if (!(model instanceof Model)) throw new ArgumentError(`saveModel: expected a Model, got ${describe(model)}`);
  if (typeof path !== "string") throw new ArgumentError(`saveModel: path must be a string, got ${describe(path)}`);
  const bytes = model.save(options);
  let fs: { writeFile(path: string, data: Uint8Array): Promise<void> };
  try {
    fs = await nodeBuiltin("node:fs/promises");
  } catch {
    throw new ArgumentError("saveModel: this host has no file system; use model.save() for the bytes");
  }
  await fs.writeFile(path, bytes);
}
