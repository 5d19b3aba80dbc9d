// Feature detection by validating the smallest modules that use each feature.

// (func (result v128) i32.const 0  i8x16.splat  i8x16.popcnt)
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

// (func (result v128) i32.const 1 i8x16.splat  i32.const 2 i8x16.splat  i8x16.relaxed_swizzle)
const RELAXED_SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 15, 1, 13, 0, 65, 1, 253, 15, 65, 2, 253, 15,
  253, 128, 2, 11,
]);

export interface HostFeatures {
  webAssembly: boolean;
  simd: boolean;
  relaxedSimd: boolean;
}

export function detectFeatures(): HostFeatures {
  const wasm = typeof WebAssembly === "object" && typeof WebAssembly.validate === "function";
  return {
    webAssembly: wasm,
    simd: wasm && WebAssembly.validate(SIMD_PROBE),
    relaxedSimd: wasm && WebAssembly.validate(RELAXED_SIMD_PROBE),
  };
}
