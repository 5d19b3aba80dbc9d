// Compiles the kernels twice: baseline SIMD and relaxed SIMD (fused multiply-add).
// Both go in build/ and ship inside the package; the loader picks one at run time.
import { main } from "assemblyscript/asc";

for (const target of ["simd", "relaxed"]) {
  const { error, stderr } = await main(["--config", "asconfig.json", "--target", target], {});
  if (error) {
    console.error(stderr.toString());
    console.error(`asc failed for target ${target}: ${error.message}`);
    process.exit(1);
  }
  console.error(`built build/${target}.wasm`);
}
