// The module's exports: kernels that take addresses and sizes and allocate nothing.
export { sgemm, gemmWorkspaceBytes } from "./gemm";
export * from "./elementwise";
export * from "./activations";
export * from "./layout";
export * from "./losses";
export * from "./optim";
export * from "./data";
export * from "./conv";
export * from "./conv-planes";
export * from "./depthwise";
export * from "./select";

/** First byte the module's own static data does not use; the façade's heap starts here. */
export function heapBase(): usize {
  return __heap_base;
}

/** 1 in the relaxed-SIMD build, 0 in the baseline build: a module says which one it is. */
export function isRelaxed(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}
export * from "./recurrent";
export * from "./winograd";
export * from "./lrn";
export * from "./resize";
