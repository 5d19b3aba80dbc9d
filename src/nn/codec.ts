// Each layer kind's one codec, written beside its class: how the layer is made again from its
// config() (saved models), how it reads and writes Keras/tfjs's JSON, and how it lowers to ONNX
// nodes. The io modules (registry.ts, tfjs.ts, onnx/export.ts) look a codec up and switch on no
// kind; they hand it the format's helpers (TfjsHelpers, OnnxWriter), so nn imports nothing of io.
import type { Activation } from "../autograd/ops/activate.js";
import type { Shape } from "../tensor.js";
import type { Layer } from "./layer.js";
import type { Model } from "./model.js";

export type Config = Record<string, unknown>;

/** What a tfjs codec is given: the format's translations, and `where` for its errors. */
export interface TfjsHelpers {
  readonly where: string;
  /** A Keras/tfjs activation name as wasmgrad's (a FormatError where there is none). */
  activation(v: unknown): Activation;
  /** A wasmgrad activation as tfjs's name (a FormatError where there is none). */
  tfjsActivation(a: Activation): string;
  /** A size given as n or [n, n] (a FormatError where the two differ). */
  square(name: string, v: unknown): number;
  /** A FormatError unless the layer is channels_last (NHWC). */
  channelsLast(c: Config): void;
  fail(why: string): never;
  /** A normalisation axis as tfjs counts it (from the batch axis), checked once the model is built. */
  axisWhenBuilt(layer: Layer, axis: number): void;
}

export interface TfjsCodec<L extends Layer> {
  /** The tfjs class names read as this kind. */
  classNames: string[];
  read(className: string, config: Config, h: TfjsHelpers): L;
  /** The layer as a tfjs layer; `base` holds its name (and the first layer's input shape). */
  write(layer: L, base: Config, h: TfjsHelpers): { class_name: string; config: Config };
  /** tfjs weight names whose field differs from the common one (a recurrent layer's `kernel`). */
  fields?: Record<string, string>;
}

/** An ONNX attribute, typed by which field it has: i INT, f FLOAT, s STRING, ints, floats, strings. */
export type OnnxAttribute = { name: string; i?: number; f?: number; s?: string; ints?: number[]; floats?: number[]; strings?: string[] };

/** What an ONNX lowering is given: the graph being written, and the layer's input shape per sample. */
export interface OnnxWriter {
  readonly opset: number;
  /** The layer's input shape per sample (no batch axis). */
  readonly shape: Shape;
  /** Appends a node; returns its outputs' names (`outputs` of them, default 1). */
  node(op: string, inputs: string[], attributes?: OnnxAttribute[], outputs?: number): string[];
  /** A float initialiser named `<layer>.<suffix>`. */
  weight(suffix: string, dims: number[], data: Float32Array): string;
  /** An int64 initialiser (shapes, axes). */
  int64s(suffix: string, values: number[]): string;
  /** A whole model's graph on `input` (a model imported by fromOnnx, used as a layer): its output's name. */
  model(model: Model, input: string): string;
  /** The activation applied to `input` (itself for linear). */
  activation(activation: Activation, slope: number, input: string): string;
  fail(why: string): never;
}

export interface LayerCodec<L extends Layer = Layer> {
  /** The layer's kind, as its config and saved files name it. */
  kind: string;
  /** The layer again from its config() (each constructor checks the values). */
  fromConfig(config: Config): L;
  tfjs?: TfjsCodec<L>;
  /** The nodes that compute the layer from `input` (per sample of shape `w.shape`): the output's name. */
  onnx?(layer: L, input: string, w: OnnxWriter): string;
  /** Its state as PyTorch's equivalent module holds it (names after the layer's, PyTorch's layouts). */
  torch?(layer: L): Record<string, TorchTensor>;
}

/** A tensor as PyTorch holds it. */
export interface TorchTensor { shape: number[]; data: Float32Array }

/** [rows, cols] → [cols, rows]: Dense's [in, out] is torch.nn.Linear's [out, in]. */
export function transposed(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** A codec typed by its layer (the table holds them as LayerCodec). */
export const codec = <L extends Layer>(c: LayerCodec<L>): LayerCodec => c as unknown as LayerCodec;
