// wasmgrad/onnx: ONNX exchange, a separate entry so that the core loads none of it. Its protobuf
// codec is its own (io/onnx/protobuf.ts): no dependency, and no generated code, so it runs where
// edge runtimes forbid compiling code at run time.
export { toOnnx, type OnnxExportOptions } from "./io/onnx/export.js";
export { OnnxModel, fromOnnx, type OnnxImportOptions } from "./io/onnx/import.js";
export { supportedOnnxOps, type SupportedOnnxOp } from "./io/onnx/supported.js";
export { inspectOnnx, type OnnxReport, type OnnxValueReport, type OnnxNodeProblem } from "./io/onnx/inspect.js";
