// An ONNX file as typed data: the ModelProto decoded once, its tensors and attributes read into
// plain values, and the graph checked as ONNX's checker does before anything is built — versions
// known, nodes in topological order (no cycles), every input produced, declared or an
// initialiser, names defined once. Each problem is a FormatError naming the node and the field.
import { describe } from "../../check.js";
import { FormatError } from "../../errors.js";
import { onnxModelType } from "./proto-type.js";
import { ONNX_SCHEMAS } from "./schemas.js";

/** The newest default-domain opset and IR version whose semantics wasmgrad reads (onnx 1.23's). */
export const MAX_OPSET = 28;
export const MIN_OPSET = 6;
export const MAX_IR_VERSION = 14;

/** TensorProto.DataType values wasmgrad reads. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13 } as const;
const INTEGER_TYPES = new Set<number>([DataType.UINT8, DataType.INT8, DataType.UINT16, DataType.INT16, DataType.INT32, DataType.INT64, DataType.BOOL, DataType.UINT32, DataType.UINT64]);
/** Held as float32 tensors (double and half narrowed or widened to float32). */
export const isFloatType = (t: number): boolean => t === DataType.FLOAT || t === DataType.DOUBLE || t === DataType.FLOAT16;
/** Held as integers (shapes, axes, ids, masks): JS numbers. */
export const isIntegerType = (t: number): boolean => INTEGER_TYPES.has(t);
export const typeName = (t: number): string => Object.entries(DataType).find(([, v]) => v === t)?.[0].toLowerCase() ?? `type ${describe(t)}`;

interface RawAttribute { name: string; type?: number; f?: number; i?: number; s?: Uint8Array; t?: RawTensor; floats?: number[]; ints?: number[]; strings?: Uint8Array[]; g?: unknown; sparse_tensor?: unknown; tp?: unknown }
export interface RawTensor { name?: string; dims?: number[]; data_type?: number; float_data?: number[]; int64_data?: number[]; int32_data?: number[]; double_data?: number[]; uint64_data?: number[]; raw_data?: Uint8Array; data_location?: number }
interface RawNode { name?: string; op_type?: string; domain?: string; input?: string[]; output?: string[]; attribute?: RawAttribute[] }
export interface RawValueInfo { name?: string; type?: { tensor_type?: { elem_type?: number; shape?: { dim?: { dim_value?: number; dim_param?: string }[] } } } }
export interface RawModel {
  ir_version?: number;
  opset_import?: { domain?: string; version?: number }[];
  graph?: { node?: RawNode[]; initializer?: RawTensor[]; input?: RawValueInfo[]; output?: RawValueInfo[]; value_info?: RawValueInfo[] };
}

/** A constant's contents: float32 data or integers, with its dims and ONNX type. */
export interface ConstantData {
  dims: number[];
  type: number;
  floats?: Float32Array;
  ints?: number[];
}

/** A graph input or output: its name, element type and dims (null where symbolic, as a batch axis). */
export interface ValueInfo { name: string; type: number; dims: (number | string | null)[] | null }

/**
 * A node's attributes, read by name with their defaults. Numbers and strings are decoded once,
 * here, and a tensor the first time it is read: a rule's build and its types read the same values.
 */
export class Attributes {
  readonly #map: Map<string, RawAttribute>;
  readonly #ints = new Map<string, number[]>();
  readonly #strings = new Map<string, string>();
  readonly #tensors = new Map<string, ConstantData>();
  constructor(raw: RawAttribute[], private readonly where: string) {
    // A tensor attribute's bytes are copied out of the file: a view would keep the whole file alive with the model.
    this.#map = new Map(raw.map((a) => [a.name, a.t?.raw_data ? { ...a, t: { ...a.t, raw_data: new Uint8Array(a.t.raw_data) } } : a]));
    for (const a of raw) {
      if (a.ints) this.#ints.set(a.name, a.ints.map(Number));
      if (a.s) this.#strings.set(a.name, new TextDecoder().decode(a.s));
    }
  }
  has(name: string): boolean {
    return this.#map.has(name);
  }
  int(name: string, fallback: number): number {
    const a = this.#map.get(name);
    return a?.i !== undefined ? Number(a.i) : fallback;
  }
  float(name: string, fallback: number): number {
    const a = this.#map.get(name);
    return a?.f !== undefined ? a.f : fallback;
  }
  /** An ints attribute (an empty list where it is present without values); read-only. */
  ints(name: string): readonly number[] | undefined {
    return this.#map.has(name) ? this.#ints.get(name) ?? [] : undefined;
  }
  floats(name: string): readonly number[] | undefined {
    const a = this.#map.get(name);
    return a === undefined ? undefined : a.floats ?? [];
  }
  string(name: string, fallback: string): string {
    return this.#strings.get(name) ?? fallback;
  }
  /** A strings attribute (the recurrent ops' activations), or an empty list. */
  strings(name: string): string[] {
    return (this.#map.get(name)?.strings ?? []).map((b) => new TextDecoder().decode(b));
  }
  tensor(name: string): ConstantData | undefined {
    const a = this.#map.get(name);
    if (!a?.t) return undefined;
    let d = this.#tensors.get(name);
    if (!d) this.#tensors.set(name, (d = decodeTensor(a.t, `${this.where}: attribute ${name}`)));
    return d;
  }
  names(): string[] {
    return [...this.#map.keys()];
  }
}

/** A node as the plan reads it. `where` names it in errors. */
export interface OnnxNode {
  name: string;
  op: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Attributes;
  where: string;
  /** Set on a node the importer made from a pattern of the file's nodes (patterns.ts): what it was. */
  pattern?: string;
}

export interface OnnxGraph {
  opset: number;
  irVersion: number;
  nodes: OnnxNode[];
  /** Initialisers by name, in the file's order. */
  initializers: Map<string, RawTensor>;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** The decoded file as plain data (what toOnnx of the imported model writes back out). */
  proto: RawModel;
}

/** IEEE half → float32. */
function half(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1, exp = (bits >> 10) & 0x1f, frac = bits & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/**
 * A float32 TensorProto's little-endian raw_data, checked against its dims, or null where its
 * values are stored otherwise: what the importer copies straight into Wasm memory, so that a
 * large file's weights are not copied into JS arrays first.
 */
export function rawFloats(t: RawTensor, where: string): { dims: number[]; bytes: Uint8Array } | null {
  if ((t.data_type ?? 0) !== DataType.FLOAT || !t.raw_data || t.raw_data.length === 0 || t.data_location === 1) return null;
  const dims = (t.dims ?? []).map(Number);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new FormatError(`${where}: dims [${dims}] are not sizes`);
  const size = dims.reduce((a, b) => a * b, 1);
  if (t.raw_data.byteLength !== size * 4) throw new FormatError(`${where}: raw_data holds ${t.raw_data.byteLength} bytes for ${size} values of float`);
  return { dims, bytes: t.raw_data };
}

/** The data of a TensorProto: float32 for the float types, numbers for the integer ones. */
export function decodeTensor(t: RawTensor, where: string): ConstantData {
  const dims = (t.dims ?? []).map(Number);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new FormatError(`${where}: dims [${dims}] are not sizes`);
  if (t.data_location === 1) throw new FormatError(`${where}: its data is in an external file; wasmgrad reads models whose weights are inside the file`);
  const size = dims.reduce((a, b) => a * b, 1);
  const type = t.data_type ?? 0;
  const raw = t.raw_data && t.raw_data.length > 0 ? t.raw_data : null;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  const width: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8 };
  if (!(type in width)) throw new FormatError(`${where}: data type ${typeName(type)}; wasmgrad reads float, double, half and integer tensors`);
  if (view && view.byteLength !== size * width[type]) throw new FormatError(`${where}: raw_data holds ${view.byteLength} bytes for ${size} values of ${typeName(type)}`);
  const check = (n: number) => {
    if (n !== size) throw new FormatError(`${where}: ${n} values for dims [${dims}]`);
  };
  if (isFloatType(type)) {
    let floats: Float32Array;
    if (view) {
      floats = new Float32Array(size);
      if (type === DataType.FLOAT) {
        if (raw!.byteOffset % 4 === 0) floats.set(new Float32Array(raw!.buffer, raw!.byteOffset, size)); // little-endian hosts: one copy
        else for (let i = 0; i < size; i++) floats[i] = view.getFloat32(4 * i, true);
      } else if (type === DataType.DOUBLE) for (let i = 0; i < size; i++) floats[i] = view.getFloat64(8 * i, true);
      else for (let i = 0; i < size; i++) floats[i] = half(view.getUint16(2 * i, true));
    } else if (type === DataType.DOUBLE) floats = Float32Array.from(t.double_data ?? []);
    else if (type === DataType.FLOAT16) floats = Float32Array.from(t.int32_data ?? [], half);
    else floats = Float32Array.from(t.float_data ?? []);
    check(floats.length);
    return { dims, type, floats };
  }
  let ints: number[];
  if (view) {
    const read: Record<number, (i: number) => number> = {
      2: (i) => view.getUint8(i), 3: (i) => view.getInt8(i), 4: (i) => view.getUint16(2 * i, true), 5: (i) => view.getInt16(2 * i, true),
      6: (i) => view.getInt32(4 * i, true), 7: (i) => Number(view.getBigInt64(8 * i, true)), 9: (i) => view.getUint8(i),
      12: (i) => view.getUint32(4 * i, true), 13: (i) => Number(view.getBigUint64(8 * i, true)),
    };
    ints = Array.from({ length: size }, (_, i) => read[type](i));
  } else {
    ints = (type === DataType.INT64 ? t.int64_data ?? [] : type === DataType.UINT64 ? t.uint64_data ?? [] : t.int32_data ?? []).map(Number);
  }
  check(ints.length);
  return { dims, type, ints };
}

function valueInfo(v: RawValueInfo, where: string): ValueInfo {
  if (!v.name) throw new FormatError(`${where}: a value without a name`);
  const tt = v.type?.tensor_type;
  const dims = tt?.shape?.dim ? tt.shape.dim.map((d) => (d.dim_value !== undefined ? Number(d.dim_value) : d.dim_param ?? null)) : null;
  return { name: v.name, type: Number(tt?.elem_type ?? 0), dims };
}

/** AttributeProto types that hold one value, and the field it is in (lists may be empty). */
const SINGLE_VALUE: Record<number, string> = { 1: "f", 2: "i", 3: "s", 4: "t", 5: "g", 11: "sparse_tensor", 13: "tp" };

/**
 * The node against ONNX's own schemas (schemas.ts), as its checker does, whether or not wasmgrad
 * runs it: in a domain ONNX defines, the op must be one of its operators and each attribute one
 * that operator takes, with its type given.
 */
function checkSchema(n: RawNode, where: string): void {
  const domain = n.domain === "ai.onnx" ? "" : n.domain ?? "";
  for (const a of n.attribute ?? []) {
    if (!a.name) throw new FormatError(`${where}: an attribute without a name`);
    if (!(Number.isInteger(a.type) && a.type! >= 1 && a.type! <= 14)) throw new FormatError(`${where}: attribute ${a.name} has no type (or one ONNX does not define: ${a.type})`);
    const field = SINGLE_VALUE[a.type!];
    if (field && (a as unknown as Record<string, unknown>)[field] === undefined) throw new FormatError(`${where}: attribute ${a.name} is of type ${a.type} but has no ${field}`);
  }
  const ops = ONNX_SCHEMAS[domain];
  if (!ops) return; // another domain's operators (com.microsoft, a custom one): the runtime's to know
  const attributes = ops[n.op_type!];
  if (!attributes) throw new FormatError(`${where}: ${n.op_type} is no operator of the ${domain || "default"} domain`);
  const unknown = (n.attribute ?? []).find((a) => !attributes.includes(a.name));
  if (unknown) throw new FormatError(`${where}: ${n.op_type} has no attribute ${unknown.name}`);
}

/** The model in `bytes`, decoded and checked; nothing is built yet. */
export function readOnnx(bytes: Uint8Array, op = "fromOnnx"): OnnxGraph {
  const type = onnxModelType();
  let proto: RawModel;
  try {
    proto = type.toObject(type.decode(bytes), { longs: Number, arrays: true, defaults: false }) as RawModel;
  } catch (e) {
    throw new FormatError(`${op}: not a ModelProto: ${(e as Error).message}`);
  }
  const graph = proto.graph;
  if (!graph) throw new FormatError(`${op}: the model has no graph`);
  const irVersion = Number(proto.ir_version ?? 0);
  if (!(irVersion >= 3 && irVersion <= MAX_IR_VERSION)) throw new FormatError(`${op}: IR version ${irVersion}; wasmgrad reads IR versions 3 to ${MAX_IR_VERSION}`);
  const opsets = (proto.opset_import ?? []).filter((o) => !o.domain || o.domain === "ai.onnx");
  if (opsets.length === 0) throw new FormatError(`${op}: the model imports no default-domain opset`);
  if (opsets.length > 1) throw new FormatError(`${op}: the default-domain opset is imported ${opsets.length} times`);
  const opset = Number(opsets[0].version);
  if (!(opset >= MIN_OPSET && opset <= MAX_OPSET)) throw new FormatError(`${op}: default-domain opset ${opset}; wasmgrad reads opsets ${MIN_OPSET} to ${MAX_OPSET}`);

  const initializers = new Map<string, RawTensor>();
  for (const t of graph.initializer ?? []) {
    if (!t.name) throw new FormatError(`${op}: an initializer without a name`);
    if (initializers.has(t.name)) throw new FormatError(`${op}: initializer ${t.name} is defined twice`);
    initializers.set(t.name, t);
  }
  const inputs = (graph.input ?? []).map((v) => valueInfo(v, `${op}: graph input`));
  const outputs = (graph.output ?? []).map((v) => valueInfo(v, `${op}: graph output`));
  // Topological order: every input of a node is a graph input, an initialiser or an earlier node's output.
  const defined = new Set<string>([...initializers.keys(), ...inputs.map((i) => i.name)]);
  const later = new Set((graph.node ?? []).flatMap((n) => n.output ?? []));
  const nodes: OnnxNode[] = (graph.node ?? []).map((n, index) => {
    const outs = n.output ?? [];
    const where = `${op}: node ${n.name || outs[0] || `#${index}`} (${n.op_type ?? "no op"})`;
    if (!n.op_type) throw new FormatError(`${where}: no op_type`);
    for (const name of n.input ?? []) {
      if (name === "" || defined.has(name)) continue;
      throw new FormatError(later.has(name)
        ? `${where}: input ${name} is computed by a later node (the nodes are not in topological order, or they form a cycle)`
        : `${where}: input ${name} is no graph input, initializer or node output`);
    }
    for (const name of outs) {
      if (name === "") continue;
      if (defined.has(name)) throw new FormatError(`${where}: output ${name} is already defined`);
      defined.add(name);
    }
    checkSchema(n, where);
    return {
      name: n.name || outs[0] || `#${index}`, op: n.op_type, domain: n.domain ?? "", inputs: [...(n.input ?? [])], outputs: [...outs],
      attrs: new Attributes(n.attribute ?? [], where), where,
    };
  });
  for (const o of outputs) if (!defined.has(o.name)) throw new FormatError(`${op}: graph output ${o.name} is computed by no node`);
  return { opset, irVersion, nodes, initializers, inputs, outputs, proto };
}
