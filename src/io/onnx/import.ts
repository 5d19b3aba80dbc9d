// ONNX import, trainable: fromOnnx(bytes) gives a Model whose forward() runs the graph's nodes
// with wasmgrad's own differentiable ops, and whose float initialisers are parameters named as in
// the file — so the model can be evaluated and fine-tuned with fit(). Integer initialisers (shapes)
// are constants. Only the nodes the requested outputs need are imported (converters add side
// branches: labels, ai.onnx.ml ops). NCHW convolution and pooling run on NHWC transposes of
// their inputs, and the weights stay in ONNX's layout (the permutation is an op, so gradients
// reach them). Whatever cannot be expressed exactly is a FormatError naming the node, the op and
// the reason — never a different model.
import { type Engine, getEngine } from "../../backend/engine.js";
import { checkOptions, describe } from "../../check.js";
import { ArgumentError, FormatError } from "../../errors.js";
import { Model } from "../../nn/model.js";
import { conv2d, avgPool2d, maxPool2d } from "../../autograd/ops/conv.js";
import { concat } from "../../autograd/ops/select.js";
import { Tensor, full, tensor } from "../../tensor.js";
import { onnxModelType } from "./export.js";

export interface OnnxImportOptions {
  /** The graph outputs to compute (the first is what forward() returns). Default: all of them. */
  outputs?: string[];
  /**
   * Graph inputs bound to fixed values (weights or shapes passed as inputs, as ONNX's own test
   * cases do): float tensors, or integers ({ shape, data, integer: true }) where a shape is expected.
   */
  constants?: Record<string, Tensor | { shape: number[]; data: ArrayLike<number>; integer?: boolean }>;
  engine?: Engine;
}

interface AttributeValue { f?: number; i?: number; s?: Uint8Array; t?: TensorProto; floats?: number[]; ints?: number[]; type?: number; name: string }
interface TensorProto { name?: string; dims?: number[]; data_type?: number; float_data?: number[]; int64_data?: number[]; int32_data?: number[]; double_data?: number[]; raw_data?: Uint8Array }
interface NodeProto { name?: string; op_type: string; domain?: string; input?: string[]; output?: string[]; attribute?: AttributeValue[] }
interface ValueInfo { name: string; type?: { tensor_type?: { elem_type?: number; shape?: { dim?: { dim_value?: number; dim_param?: string }[] } } } }

const FLOAT = 1, INT32 = 6, INT64 = 7, DOUBLE = 11;

/** A value in the graph: a tensor, or integers (shapes, axes) known when the model is imported. */
type Value = Tensor | { ints: number[]; dims: number[] };
const isInts = (v: Value | undefined): v is { ints: number[]; dims: number[] } => v !== undefined && !Tensor.isTensor(v);

function decodeTensor(t: TensorProto, where: string): { dims: number[]; floats?: Float32Array; ints?: number[] } {
  const dims = (t.dims ?? []).map(Number);
  const size = dims.reduce((a, b) => a * b, 1);
  const raw = t.raw_data && t.raw_data.length > 0 ? t.raw_data : null;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  const need = (bytes: number) => {
    if (view && view.byteLength !== size * bytes) throw new FormatError(`${where}: raw_data holds ${view.byteLength} bytes for ${size} values`);
  };
  switch (t.data_type) {
    case FLOAT: {
      need(4);
      const floats = view ? Float32Array.from({ length: size }, (_, i) => view.getFloat32(4 * i, true)) : Float32Array.from(t.float_data ?? []);
      if (floats.length !== size) throw new FormatError(`${where}: ${floats.length} values for dims [${dims}]`);
      return { dims, floats };
    }
    case DOUBLE: {
      need(8);
      const floats = view ? Float32Array.from({ length: size }, (_, i) => view.getFloat64(8 * i, true)) : Float32Array.from(t.double_data ?? []);
      return { dims, floats };
    }
    case INT64:
    case INT32: {
      const bytes = t.data_type === INT64 ? 8 : 4;
      need(bytes);
      const ints = view
        ? Array.from({ length: size }, (_, i) => (bytes === 8 ? Number(view.getBigInt64(8 * i, true)) : view.getInt32(4 * i, true)))
        : (t.data_type === INT64 ? t.int64_data ?? [] : t.int32_data ?? []).map(Number);
      return { dims, ints };
    }
    default:
      throw new FormatError(`${where}: data type ${describe(t.data_type)}; wasmgrad imports float, double (as float) and integer constants`);
  }
}

function attributes(node: NodeProto): Map<string, AttributeValue> {
  return new Map((node.attribute ?? []).map((a) => [a.name, a]));
}

/** What each op needs from the default domain's opset: the version its semantics last changed. */
const SINCE: Record<string, number> = {
  Identity: 1, Dropout: 1, Relu: 1, Sigmoid: 1, Tanh: 1, LeakyRelu: 1, Softmax: 13, LogSoftmax: 13, Add: 7, Sub: 7, Mul: 7, Div: 7,
  Exp: 6, Log: 6, ReduceMax: 13, ReduceSum: 13, MatMul: 1, Gemm: 7, Conv: 1, MaxPool: 1, AveragePool: 1, GlobalAveragePool: 1, Flatten: 1, Reshape: 5, Transpose: 1, Constant: 1, Cast: 1,
};

export class OnnxModel extends Model {
  /** The graph inputs forward() takes, in order (those not bound as constants). */
  readonly inputNames: string[];
  readonly outputNames: string[];
  readonly #weights: Map<string, Tensor>;
  readonly #constants: Map<string, Value>;
  readonly #nodes: NodeProto[];

  /** @internal Use fromOnnx(). */
  constructor(parts: { inputs: string[]; outputs: string[]; weights: Map<string, Tensor>; constants: Map<string, Value>; nodes: NodeProto[]; engine: Engine }) {
    super({ engine: parts.engine });
    this.inputNames = parts.inputs;
    this.outputNames = parts.outputs;
    this.#weights = parts.weights;
    this.#constants = parts.constants;
    this.#nodes = parts.nodes;
  }

  /** The initialisers, by their names in the file: parameters (floats that require grad). */
  protected override ownTensors(): [string, Tensor, boolean][] {
    return [...this.#weights].filter(([, t]) => !t.isDisposed).map(([n, t]) => [n, t, t.requiresGrad]);
  }

  /** The first requested output for the graph's inputs (one tensor each, in inputNames' order). */
  forward(...inputs: Tensor[]): Tensor {
    return this.run(...inputs)[this.outputNames[0]];
  }

  /** Every requested output, by name. */
  run(...inputs: Tensor[]): Record<string, Tensor> {
    if (inputs.length !== this.inputNames.length) {
      throw new ArgumentError(`OnnxModel: expected ${this.inputNames.length} inputs (${this.inputNames.join(", ")}), got ${inputs.length}`);
    }
    const values = new Map<string, Value>([...this.#constants, ...this.#weights]);
    this.inputNames.forEach((name, i) => values.set(name, inputs[i]));
    for (const node of this.#nodes) {
      const where = `ONNX node ${node.name || node.output?.[0]} (${node.op_type})`;
      const args = (node.input ?? []).map((name) => (name === "" ? undefined : values.get(name)));
      const outs = evaluate(node, args, where, this.engine);
      (node.output ?? []).forEach((name, i) => outs[i] !== undefined && values.set(name, outs[i]));
    }
    return Object.fromEntries(this.outputNames.map((name) => {
      const v = values.get(name);
      if (!Tensor.isTensor(v)) throw new FormatError(`ONNX: output ${name} is not a float tensor`);
      return [name, v];
    }));
  }
}

/** A Model for the graph in `bytes` (a ModelProto), its float initialisers trainable parameters. */
export function fromOnnx(bytes: Uint8Array, options?: OnnxImportOptions): OnnxModel {
  if (!(bytes instanceof Uint8Array)) throw new ArgumentError(`fromOnnx: expected the model's bytes, got ${describe(bytes)}`);
  const { outputs: wanted, constants = {}, engine = getEngine() } = checkOptions("fromOnnx", options);
  const type = onnxModelType();
  let proto: { opset_import?: { domain?: string; version?: number }[]; graph?: { node?: NodeProto[]; initializer?: TensorProto[]; input?: ValueInfo[]; output?: ValueInfo[] } };
  try {
    proto = type.toObject(type.decode(bytes), { longs: Number, arrays: true, defaults: false }) as typeof proto;
  } catch (e) {
    throw new FormatError(`fromOnnx: not a ModelProto: ${(e as Error).message}`);
  }
  const graph = proto.graph;
  if (!graph) throw new FormatError("fromOnnx: the model has no graph");
  const opset = (proto.opset_import ?? []).find((o) => !o.domain || o.domain === "ai.onnx")?.version;
  if (opset === undefined) throw new FormatError("fromOnnx: the model imports no default-domain opset");
  const outputs = wanted ?? (graph.output ?? []).map((o) => o.name);
  if (!Array.isArray(outputs) || outputs.length === 0) throw new ArgumentError(`fromOnnx: outputs must name at least one graph output, got ${describe(wanted)}`);
  // Keep only what the outputs need, walking back from them.
  const nodes = graph.node ?? [];
  const needed = new Set<string>(outputs);
  const kept: NodeProto[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    if (!(nodes[i].output ?? []).some((o) => needed.has(o))) continue;
    kept.unshift(nodes[i]);
    for (const x of nodes[i].input ?? []) if (x) needed.add(x);
  }
  const known = new Set([...kept.flatMap((n) => n.output ?? []), ...(graph.input ?? []).map((i) => i.name), ...(graph.initializer ?? []).map((i) => i.name ?? "")]);
  const unknown = outputs.filter((o) => !known.has(o));
  if (unknown.length > 0) throw new FormatError(`fromOnnx: the graph computes no ${unknown.join(", ")}`);
  for (const node of kept) {
    const where = `fromOnnx: node ${node.name || node.output?.[0]} (${node.op_type})`;
    if (node.domain && node.domain !== "ai.onnx") throw new FormatError(`${where}: domain ${node.domain} is not supported`);
    const since = SINCE[node.op_type];
    if (since === undefined) throw new FormatError(`${where}: op ${node.op_type} is not supported`);
    if (opset < since || opset < 13) throw new FormatError(`${where}: opset ${opset}; wasmgrad imports opset 13 and later`);
  }
  const made: Tensor[] = [];
  try {
    const weights = new Map<string, Tensor>();
    const fixed = new Map<string, Value>();
    for (const init of graph.initializer ?? []) {
      if (!needed.has(init.name ?? "")) continue;
      const d = decodeTensor(init, `fromOnnx: initializer ${init.name}`);
      if (d.floats) {
        const t = tensor(d.floats, { shape: d.dims, engine, requiresGrad: true, name: init.name });
        made.push(t);
        weights.set(init.name!, t);
      } else fixed.set(init.name!, { ints: d.ints!, dims: d.dims });
    }
    for (const [name, value] of Object.entries(constants)) {
      if (!Tensor.isTensor(value) && value?.integer) {
        fixed.set(name, { ints: Array.from(value.data, Number), dims: [...value.shape] });
        continue;
      }
      const t = Tensor.isTensor(value) ? value : tensor(Float32Array.from(value.data), { shape: value.shape, engine });
      if (!Tensor.isTensor(value)) made.push(t);
      fixed.set(name, t);
    }
    const inputs = (graph.input ?? []).map((i) => i.name).filter((n) => needed.has(n) && !weights.has(n) && !fixed.has(n));
    const model = new OnnxModel({ inputs, outputs, weights, constants: fixed, nodes: kept, engine });
    return model;
  } catch (e) {
    made.forEach((t) => t.dispose());
    throw e;
  }
}

// ——— the ops ———

function float(v: Value | undefined, where: string, what: string): Tensor {
  if (v === undefined) throw new FormatError(`${where}: ${what} is missing`);
  if (isInts(v)) return tensor(Float32Array.from(v.ints), { shape: v.dims });
  return v;
}

function attrInts(a: Map<string, AttributeValue>, name: string, fallback: number[]): number[] {
  return a.get(name)?.ints?.map(Number) ?? fallback;
}

/** pads [top, left, bottom, right] for 2-D convolution or pooling, from pads or auto_pad. */
function pads2d(a: Map<string, AttributeValue>, h: number, w: number, k: number[], s: number[], where: string): number[] {
  const auto = a.get("auto_pad")?.s ? new TextDecoder().decode(a.get("auto_pad")!.s) : "NOTSET";
  if (auto === "NOTSET") return attrInts(a, "pads", [0, 0, 0, 0]).map(Number); // [top, left, bottom, right]
  if (auto === "VALID") return [0, 0, 0, 0];
  if (auto !== "SAME_UPPER" && auto !== "SAME_LOWER") throw new FormatError(`${where}: auto_pad ${auto} is not supported`);
  const total = [h, w].map((size, i) => Math.max((Math.ceil(size / s[i]) - 1) * s[i] + k[i] - size, 0));
  const before = total.map((t) => (auto === "SAME_UPPER" ? Math.floor(t / 2) : Math.ceil(t / 2)));
  return [before[0], before[1], total[0] - before[0], total[1] - before[1]];
}

/** x (NHWC) with `pads` rows and columns of `value` around it (concatenations: gradients flow). */
function pad(x: Tensor, [top, left, bottom, right]: number[], value: number): Tensor {
  const [n, h, w, c] = x.shape;
  const around = (y: Tensor, before: number, after: number, axis: 1 | 2, shape: (k: number) => number[]) => {
    if (!before && !after) return y;
    const parts = [...(before ? [full(shape(before), value)] : []), y, ...(after ? [full(shape(after), value)] : [])];
    return concat(parts, axis);
  };
  const rows = around(x, top, bottom, 1, (k) => [n, k, w, c]);
  return around(rows, left, right, 2, (k) => [n, h + top + bottom, k, c]);
}

function window2d(a: Map<string, AttributeValue>, where: string, kernel: number[]): { stride: number } {
  if (kernel.length !== 2) throw new FormatError(`${where}: a ${kernel.length}-D window; wasmgrad imports 2-D convolution and pooling`);
  const strides = attrInts(a, "strides", [1, 1]);
  if (strides[0] !== strides[1]) throw new FormatError(`${where}: strides [${strides}]; wasmgrad has one stride for both axes`);
  if (attrInts(a, "dilations", [1, 1]).some((d) => d !== 1)) throw new FormatError(`${where}: dilations are not supported`);
  if (Number(a.get("ceil_mode")?.i ?? 0) !== 0) throw new FormatError(`${where}: ceil_mode 1 is not supported`);
  return { stride: strides[0] };
}

function evaluate(node: NodeProto, args: (Value | undefined)[], where: string, engine: Engine): (Value | undefined)[] {
  const a = attributes(node);
  const x = () => float(args[0], where, "input 0");
  switch (node.op_type) {
    case "Identity":
      return [args[0]];
    case "Dropout":
      if ((node.output ?? []).length > 1 && node.output![1]) throw new FormatError(`${where}: its mask output is not supported`);
      return [args[0]];
    case "Relu": return [x().relu()];
    case "Sigmoid": return [x().sigmoid()];
    case "Tanh": return [x().tanh()];
    case "LeakyRelu": {
      const alpha = a.get("alpha")?.f ?? 0.01;
      if (!(alpha >= 0 && alpha < 1)) throw new FormatError(`${where}: alpha ${alpha}; wasmgrad's leaky relu takes slopes in [0, 1)`);
      return [x().leakyRelu(alpha)];
    }
    case "Softmax":
    case "LogSoftmax": {
      const t = x();
      const axis = Number(a.get("axis")?.i ?? -1);
      const d = axis < 0 ? axis + t.rank : axis;
      if (!(d >= 0 && d < t.rank)) throw new FormatError(`${where}: axis ${axis} for rank ${t.rank}`);
      const f = (u: Tensor) => (node.op_type === "Softmax" ? u.softmax(-1) : u.logSoftmax(-1));
      if (d === t.rank - 1) return [f(t)];
      const perm = [...t.shape.keys()];
      [perm[d], perm[t.rank - 1]] = [perm[t.rank - 1], perm[d]];
      return [f(t.transpose(perm)).transpose(perm)];
    }
    case "Exp": return [x().exp()];
    case "Log": return [x().log()];
    case "ReduceMax":
    case "ReduceSum": {
      const t = x();
      // Axes: an attribute (ReduceMax before opset 18) or a constant second input (ReduceSum from 13, ReduceMax from 18).
      const given = args[1] !== undefined ? args[1] : undefined;
      if (given !== undefined && !isInts(given)) throw new FormatError(`${where}: the axes must be a constant`);
      const listed = given ? given.ints : a.get("axes")?.ints?.map(Number);
      const keep = Number(a.get("keepdims")?.i ?? 1) === 1;
      const noop = Number(a.get("noop_with_empty_axes")?.i ?? 0) === 1;
      if ((listed === undefined || listed.length === 0) && noop) return [t];
      const axes = (listed === undefined || listed.length === 0 ? [...t.shape.keys()] : listed).map((d) => (d < 0 ? d + t.rank : d));
      if (node.op_type === "ReduceSum") return [t.sum(axes, { keepDims: keep })];
      // max over several axes, one at a time from the last, keeping them until the end
      let y = t;
      for (const d of [...axes].sort((p, q) => q - p)) y = y.max(d, { keepDims: true });
      return [keep ? y : y.reshape(t.shape.filter((_, i) => !axes.includes(i)))];
    }
    case "Add": return [x().add(float(args[1], where, "B"))];
    case "Sub": return [x().sub(float(args[1], where, "B"))];
    case "Mul": return [x().mul(float(args[1], where, "B"))];
    case "Div": return [x().div(float(args[1], where, "B"))];
    case "MatMul": {
      const [p, q] = [x(), float(args[1], where, "B")];
      if (p.rank < 2 || q.rank < 2) throw new FormatError(`${where}: 1-D operands are not supported`);
      return [p.matmul(q)];
    }
    case "Gemm": {
      let p = x(), q = float(args[1], where, "B");
      if (Number(a.get("transA")?.i ?? 0)) p = p.transpose();
      if (Number(a.get("transB")?.i ?? 0)) q = q.transpose();
      let y = p.matmul(q);
      const alpha = a.get("alpha")?.f ?? 1, beta = a.get("beta")?.f ?? 1;
      if (alpha !== 1) y = y.mul(alpha);
      if (args[2] !== undefined) y = y.add(beta === 1 ? float(args[2], where, "C") : float(args[2], where, "C").mul(beta));
      return [y];
    }
    case "Conv": {
      const input = x(), w = float(args[1], where, "W");
      if (input.rank !== 4 || w.rank !== 4) throw new FormatError(`${where}: a ${input.rank - 2}-D convolution; wasmgrad imports 2-D ones`);
      if (Number(a.get("group")?.i ?? 1) !== 1) throw new FormatError(`${where}: group ${a.get("group")?.i}; wasmgrad imports group 1`);
      const kernel = attrInts(a, "kernel_shape", [w.shape[2], w.shape[3]]);
      const { stride } = window2d(a, where, kernel);
      const nhwc = input.transpose([0, 2, 3, 1]);
      const p = pads2d(a, nhwc.shape[1], nhwc.shape[2], kernel, [stride, stride], where);
      const weights = w.transpose([2, 3, 1, 0]); // [cout, cin, kh, kw] → [kh, kw, cin, cout], an op: its gradient reaches W
      const b = args[2] === undefined ? null : float(args[2], where, "B");
      return [conv2d(pad(nhwc, p, 0), weights, b, { stride, padding: "valid" }).transpose([0, 3, 1, 2])];
    }
    case "MaxPool":
    case "AveragePool": {
      if ((node.output ?? []).length > 1 && node.output![1]) throw new FormatError(`${where}: its Indices output is not supported`);
      const input = x();
      const kernel = attrInts(a, "kernel_shape", []);
      if (input.rank !== 4) throw new FormatError(`${where}: a ${input.rank - 2}-D pooling; wasmgrad imports 2-D pooling`);
      const { stride } = window2d(a, where, kernel);
      if (kernel[0] !== kernel[1]) throw new FormatError(`${where}: kernel [${kernel}]; wasmgrad pools square windows`);
      const nhwc = input.transpose([0, 2, 3, 1]);
      const p = pads2d(a, nhwc.shape[1], nhwc.shape[2], kernel, [stride, stride], where);
      const padded = p.some((v) => v > 0);
      if (node.op_type === "AveragePool" && padded && Number(a.get("count_include_pad")?.i ?? 0) === 0) {
        throw new FormatError(`${where}: padding left out of the average (count_include_pad 0) is not supported`);
      }
      const op = node.op_type === "MaxPool" ? maxPool2d : avgPool2d;
      const source = padded ? pad(nhwc, p, node.op_type === "MaxPool" ? Number.NEGATIVE_INFINITY : 0) : nhwc;
      return [op(source, { size: kernel[0], stride }).transpose([0, 3, 1, 2])];
    }
    case "GlobalAveragePool": {
      const input = x();
      if (input.rank !== 4) throw new FormatError(`${where}: rank ${input.rank}; wasmgrad imports 2-D pooling`);
      return [input.mean([2, 3], { keepDims: true })];
    }
    case "Flatten": {
      const t = x();
      const axis = Number(a.get("axis")?.i ?? 1);
      const d = axis < 0 ? axis + t.rank : axis;
      const outer = t.shape.slice(0, d).reduce((p, q) => p * q, 1);
      return [t.reshape([outer, outer === 0 ? 0 : t.size / outer])];
    }
    case "Reshape": {
      const t = x();
      const shape = args[1];
      if (!isInts(shape)) throw new FormatError(`${where}: the shape must be a constant (an initializer or a Constant)`);
      const allowZero = Number(a.get("allowzero")?.i ?? 0) === 1;
      return [t.reshape(shape.ints.map((d, i) => (d === 0 && !allowZero ? t.shape[i] : d)))];
    }
    case "Transpose": {
      const t = x();
      const perm = attrInts(a, "perm", [...t.shape.keys()].reverse());
      return [t.transpose(perm)];
    }
    case "Constant": {
      const value = a.get("value");
      if (value?.t) {
        const d = decodeTensor(value.t, where);
        return [d.floats ? tensor(d.floats, { shape: d.dims, engine }) : { ints: d.ints!, dims: d.dims }];
      }
      if (a.has("value_float")) return [tensor(a.get("value_float")!.f ?? 0, { engine })];
      if (a.has("value_floats")) return [tensor(Float32Array.from(a.get("value_floats")!.floats ?? []), { engine })];
      if (a.has("value_int")) return [{ ints: [Number(a.get("value_int")!.i ?? 0)], dims: [] }];
      if (a.has("value_ints")) { const v = (a.get("value_ints")!.ints ?? []).map(Number); return [{ ints: v, dims: [v.length] }]; }
      throw new FormatError(`${where}: only tensor, float(s) and int(s) values are supported`);
    }
    case "Cast": {
      const to = Number(a.get("to")?.i);
      if (to !== FLOAT && to !== DOUBLE) throw new FormatError(`${where}: cast to type ${to}; wasmgrad holds float only`);
      return [float(args[0], where, "input")];
    }
    default:
      throw new FormatError(`${where}: op ${node.op_type} is not supported`);
  }
}
