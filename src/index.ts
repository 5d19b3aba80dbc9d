export { init, getEngine, Engine, type InitOptions, type GemmArgs } from "./backend/engine.js";
export { detectFeatures, type HostFeatures } from "./backend/features.js";
export { Memory, Arena, type MemoryStats } from "./backend/memory.js";
export type { Kernels } from "./backend/kernels.js";
export type { Build, WasmSource } from "./backend/load.js";
export * from "./errors.js";
