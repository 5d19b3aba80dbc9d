// Checks the importer's tests share: what an imported model transposed, and whether its output is
// onnxruntime-web's (a graph with input "x" and output "y").
import * as ort from "onnxruntime-web";
import { expect } from "vitest";
import { Tensor, gradcheck, tensor } from "../src/index.js";
import { nodeOf } from "../src/autograd/graph.js";
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

/** The ops of the graph behind t, by name: which kernels an imported node ran on. */
export function opsBehind(t: Tensor): Set<string> {
  const ops = new Set<string>(), seen = new Set<Tensor>(), stack = [t];
  while (stack.length) {
    const node = nodeOf(stack.pop()!);
    if (!node) continue;
    ops.add(node.op);
    for (const p of node.inputs) if (!seen.has(p)) (seen.add(p), stack.push(p));
  }
  return ops;
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

/**
 * An imported file on the kernels it should run on: onnxruntime-web's output; the graph of a
 * training call holds op `on`, and not `notOn` (the planar fallback); every parameter's gradient
 * as finite differences. Returns the output's shape.
 */
export async function runsOn(bytes: Uint8Array, input: Float32Array, dims: number[], on: string, notOn: string): Promise<number[]> {
  await agreesWithOrt(bytes, input, dims);
  const imported = fromOnnx(bytes);
  const x = tensor(input, { shape: dims });
  const y = imported.call(x);
  const ops = opsBehind(y);
  expect(ops.has(on), `${on} in the graph`).toBe(true);
  expect(ops.has(notOn), `${notOn} in the graph`).toBe(false);
  const report = gradcheck(() => imported.call(x).square().sum(), imported.parameters());
  expect(report.ok, JSON.stringify(report.worst)).toBe(true);
  imported.dispose();
  return [...y.shape];
}
