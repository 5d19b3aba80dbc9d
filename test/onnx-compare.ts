// Checks the importer's tests share: what an imported model transposed, and whether its output is
// onnxruntime-web's (a graph with input "x" and output "y").
import * as ort from "onnxruntime-web";
import { expect } from "vitest";
import { Tensor, tensor } from "../src/index.js";
import { fromOnnx } from "../src/onnx.js";

/** The shapes `run` transposed, in order. */
export function transposes(run: () => void): string[] {
  const shapes: string[] = [];
  const original = Tensor.prototype.transpose;
  Tensor.prototype.transpose = function (this: Tensor, ...a: Parameters<typeof original>) {
    shapes.push(this.shape.join("×"));
    return original.apply(this, a);
  };
  try {
    run();
  } finally {
    Tensor.prototype.transpose = original;
  }
  return shapes;
}

/** wasmgrad's output and onnxruntime-web's on the same file and input, compared to float32 rounding. */
export async function agreesWithOrt(bytes: Uint8Array, input: Float32Array, dims: number[]) {
  const session = await ort.InferenceSession.create(bytes);
  const theirs = (await session.run({ x: new ort.Tensor("float32", input, dims) })).y.data as Float32Array;
  const ours = fromOnnx(bytes).predict(tensor(input, { shape: dims })).data();
  expect(ours.length).toBe(theirs.length);
  const scale = Math.max(...Array.from(theirs, Math.abs));
  ours.forEach((v, i) => expect(Math.abs(v - theirs[i])).toBeLessThanOrEqual(1e-5 * scale));
}
