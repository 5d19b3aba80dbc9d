export { init, getEngine, Engine, MAX_DIMS, type InitOptions, type GemmArgs } from "./backend/engine.js";
export { detectFeatures, type HostFeatures } from "./backend/features.js";
export { Memory, Arena, type MemoryStats } from "./backend/memory.js";
export type { Kernels } from "./backend/kernels.js";
export type { Build, WasmSource } from "./backend/load.js";
export {
  Tensor, DisposedError, tensor, zeros, ones, full,
  type Shape, type NestedArray, type TensorOptions,
} from "./tensor.js";
export { noGrad, isGradEnabled } from "./autograd/graph.js";
export { GraphReleasedError, type BackwardOptions } from "./autograd/backward.js";
export { gradcheck, type GradcheckOptions, type GradcheckReport } from "./autograd/gradcheck.js";
export { toDot, toMermaid, type GraphExportOptions } from "./autograd/export.js";
export * from "./errors.js";
