// The ONNX protobuf schema, parsed once from the ONNX project's onnx.proto (protobuf.ts): what
// reading (graph.ts) and both writers (export.ts, reexport.ts) encode and decode with.
import { ONNX_PROTO } from "./onnx-proto.js";
import { type MessageType, protoTypes } from "./protobuf.js";
import { LITTLE_ENDIAN as littleEndian } from "../../backend/host.js";

let modelProto: MessageType | null = null;
/** The ModelProto type, parsed once from onnx.proto. */
export function onnxModelType(): MessageType {
  modelProto ??= protoTypes(ONNX_PROTO)("onnx.ModelProto");
  return modelProto;
}


/** float32 values as a TensorProto's little-endian raw_data (on little-endian hosts, a copy of their bytes). */
export function floatBytes(values: Float32Array): Uint8Array {
  if (littleEndian) return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
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
