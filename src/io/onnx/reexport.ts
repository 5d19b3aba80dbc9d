// toOnnx of an imported model: the file's own graph goes back out — the nodes its outputs need,
// their attributes and constants as they were — with every initialiser the model holds written
// from its current values, so a model fine-tuned here runs in any ONNX runtime as it runs here.
// The graph is kept between import and export as a skeleton: the file re-encoded without the
// weights the model holds, small, so a large file's bytes are not kept alive by the model.
import type { Tensor } from "../../tensor.js";
import { type OnnxGraph, type RawModel, type RawTensor, type RawValueInfo, DataType } from "./graph.js";
import { floatBytes, int64Bytes, onnxModelType } from "./proto-type.js";

export interface SkeletonParts {
  /** Every tensor name the requested outputs need (node outputs, inputs, initialisers). */
  needed: Set<string>;
  /** Initialisers the model holds as tensors: written at export from their values then. */
  held: Set<string>;
  /** The requested outputs with their element types (a cut's outputs are not the file's). */
  outputs: { name: string; type: number }[];
  /** Graph inputs bound to fixed values at import: they become initialisers. */
  bound: { name: string; dims: number[]; floats?: Float32Array; ints?: number[] }[];
}

/** The file's graph cut to what the outputs need, without the held weights, as ModelProto bytes. */
export function skeletonOf(graph: OnnxGraph, parts: SkeletonParts): Uint8Array {
  const g = graph.proto.graph ?? {};
  const bound = new Set(parts.bound.map((b) => b.name));
  const declared = new Map((g.output ?? []).map((o) => [o.name, o]));
  const outputs: RawValueInfo[] = parts.outputs.map(({ name, type }) => declared.get(name) ?? { name, type: { tensor_type: { elem_type: type } } });
  const constants: RawTensor[] = parts.bound.map((b) => b.floats
    ? { name: b.name, dims: b.dims, data_type: DataType.FLOAT, raw_data: floatBytes(b.floats) }
    : { name: b.name, dims: b.dims, data_type: DataType.INT64, raw_data: int64Bytes(b.ints ?? []) });
  const skeleton = {
    ...graph.proto,
    graph: {
      ...g,
      node: (g.node ?? []).filter((n) => (n.output ?? []).some((o) => parts.needed.has(o))),
      initializer: [...(g.initializer ?? []).filter((t) => parts.needed.has(t.name!) && !parts.held.has(t.name!) && !bound.has(t.name!)), ...constants],
      input: (g.input ?? []).filter((i) => parts.needed.has(i.name!) && !bound.has(i.name!)),
      output: outputs,
      value_info: (g.value_info ?? []).filter((v) => parts.needed.has(v.name!)),
    },
  };
  return onnxModelType().encode(skeleton).finish();
}

/** The skeleton, decoded, with the held weights' current values as float initialisers: a ModelProto as plain data. */
export function withWeights(skeleton: Uint8Array, weights: [string, Tensor][]): RawModel {
  const type = onnxModelType();
  const proto = type.decode(skeleton) as unknown as RawModel & { graph: { initializer: RawTensor[]; input: RawValueInfo[] } };
  const held = new Set(weights.map(([name]) => name));
  proto.graph.initializer.push(...weights.map(([name, t]): RawTensor => ({ name, dims: [...t.shape], data_type: DataType.FLOAT, raw_data: floatBytes(t.data()) })));
  // IR 3 lists initialisers among the inputs too; a weight read as double or half is float32 now.
  for (const i of proto.graph.input) if (held.has(i.name!) && i.type?.tensor_type) i.type.tensor_type.elem_type = DataType.FLOAT;
  return proto;
}
