// wasmgrad/onnx: ONNX exchange, a separate entry so that the core loads no protobuf code.
// It needs the protobufjs package (an optional peer dependency: install it to use this entry).
export { toOnnx, type OnnxExportOptions } from "./io/onnx/export.js";
export { OnnxModel, fromOnnx, type OnnxImportOptions } from "./io/onnx/import.js";
export { supportedOnnxOps, type SupportedOnnxOp } from "./io/onnx/supported.js";
export { inspectOnnx, type OnnxReport, type OnnxValueReport, type OnnxNodeProblem } from "./io/onnx/inspect.js";
