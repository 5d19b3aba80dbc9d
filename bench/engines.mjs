// The wasmgrad builds every suite compares: baseline SIMD always, relaxed SIMD where the host runs it.
import { detectFeatures, init } from "../dist/index.js";

/** [[impl name, engine], …], one engine per build. */
export async function wasmgradEngines() {
  const builds = detectFeatures().relaxedSimd ? ["simd", "relaxed"] : ["simd"];
  const engines = [];
  for (const build of builds) engines.push([`wasmgrad-${build}`, await init({ build })]);
  return engines;
}
