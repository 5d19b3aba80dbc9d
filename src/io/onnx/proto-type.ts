// The ONNX protobuf schema as protobufjs types, parsed once from the ONNX project's onnx.proto:
// what reading (graph.ts) and both writers (export.ts, reexport.ts) encode and decode with.
import protobuf from "protobufjs";
import { ONNX_PROTO } from "./onnx-proto.js";

let modelProto: protobuf.Type | null = null;
/** The ModelProto type, parsed once from onnx.proto. */
export function onnxModelType(): protobuf.Type {
  modelProto ??= protobuf.parse(ONNX_PROTO, { keepCase: true }).root.lookupType("onnx.ModelProto");
  return modelProto;
}

/** float32 values as a TensorProto's little-endian raw_data. */
export function floatBytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return out;
}

/** Integers as int64 raw_data. */
export function int64Bytes(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setBigInt64(8 * i, BigInt(v), true));
  return out;
}
