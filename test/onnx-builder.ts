// ONNX files written by hand for tests: nodes, typed inputs and outputs, initialisers, as the
// bytes of a ModelProto (src/io/onnx's own decoder types, so nothing else is needed).
import { onnxModelType } from "../src/io/onnx/proto-type.js";

export const FLOAT = 1, INT64 = 7;
export type Attr = { name: string; type: number; i?: number; f?: number; ints?: number[]; s?: Uint8Array };
export const int = (name: string, i: number): Attr => ({ name, type: 2, i });
export const ints = (name: string, v: number[]): Attr => ({ name, type: 7, ints: v });
export const str = (name: string, v: string): Attr => ({ name, type: 3, s: new TextEncoder().encode(v) });
export const node = (op_type: string, input: string[], output: string[], attribute: Attr[] = []) => ({ op_type, input, output, attribute, name: output[0] });
export const value = (name: string, elem_type: number, dims: (number | string)[]) => ({
  name, type: { tensor_type: { elem_type, shape: { dim: dims.map((d) => (typeof d === "number" ? { dim_value: d } : { dim_param: d })) } } },
});
export function floats(name: string, dims: number[], data: number[]) {
  const raw = new Uint8Array(new Float32Array(data).buffer);
  return { name, dims, data_type: FLOAT, raw_data: raw };
}
export function int64s(name: string, data: number[]) {
  return { name, dims: [data.length], data_type: INT64, int64_data: data };
}

/** The bytes of a ModelProto for these parts. */
export function model(parts: { nodes: object[]; inputs: object[]; outputs: object[]; initializers?: object[]; opset?: number; ir?: number }): Uint8Array {
  const type = onnxModelType();
  return type.encode(type.fromObject({
    ir_version: parts.ir ?? 8,
    opset_import: [{ domain: "", version: parts.opset ?? 17 }],
    graph: { name: "g", node: parts.nodes, input: parts.inputs, output: parts.outputs, initializer: parts.initializers ?? [] },
  })).finish();
}

