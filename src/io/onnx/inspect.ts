// "Will my model run?": what an ONNX file holds and which of its nodes wasmgrad cannot run, read
// without building the model (no tensor is made, no weight decoded).
import { ArgumentError, FormatError } from "../../errors.js";
import { describe } from "../../check.js";
import { readOnnx, typeName } from "./graph.js";
import { LaidOut } from "./laid-out.js";
import { ruleFor } from "./op-table.js";

export interface OnnxValueReport {
  name: string;
  /** The element type ("float", "int64", …), or "not a tensor" (a sequence, a map, an optional). */
  type: string;
  /** Sizes, or the symbolic name of a dynamic axis (a batch), or null where the file says nothing. */
  dims: (number | string | null)[] | null;
}

export interface OnnxNodeProblem {
  node: string;
  op: string;
  opset: number;
  reason: string;
}

export interface OnnxReport {
  irVersion: number;
  opset: number;
  inputs: OnnxValueReport[];
  outputs: OnnxValueReport[];
  /** Elements of the float initialisers: what fromOnnx would make parameters and buffers of. */
  parameters: number;
  /** Nodes by op, as counted in the file. */
  ops: Record<string, number>;
  /** Every node wasmgrad cannot run, and why; empty when the whole graph runs. */
  unsupported: OnnxNodeProblem[];
}

const FLOAT_TYPES = new Set([1, 10, 11]);

/** What the file in `bytes` holds and what of it wasmgrad cannot run; a FormatError where the file itself is not a valid model. */
export function inspectOnnx(bytes: Uint8Array): OnnxReport {
  if (!(bytes instanceof Uint8Array)) throw new ArgumentError(`inspectOnnx: expected the model's bytes, got ${describe(bytes)}`);
  const graph = readOnnx(bytes, "inspectOnnx");
  const ops: Record<string, number> = {};
  const unsupported: OnnxNodeProblem[] = [];
  for (const node of graph.nodes) {
    ops[node.op] = (ops[node.op] ?? 0) + 1;
    try {
      // No rule for the node, or one that refuses its attributes when it is built (building decodes nothing else).
      ruleFor(node, graph.opset).build({
        node, attrs: node.attrs, opset: graph.opset, where: node.where, inputTypes: node.inputs.map(() => 0), constant: () => undefined, used: () => true, initializer: () => false,
        get engine(): never { throw new Error("inspectOnnx runs no step: a rule's build must not make tensors"); },
        laidOut: (make) => new LaidOut(make), // never run: nothing to free
      });
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
      unsupported.push({ node: node.name, op: node.op, opset: graph.opset, reason: (e as Error).message.replace(`${node.where}: `, "") });
    }
  }
  let parameters = 0;
  for (const t of graph.initializers.values()) {
    if (FLOAT_TYPES.has(t.data_type ?? 0)) parameters += (t.dims ?? []).map(Number).reduce((a, b) => a * b, 1);
  }
  const report = (v: { name: string; type: number; dims: (number | string | null)[] | null }): OnnxValueReport => ({ name: v.name, type: v.type === 0 ? "not a tensor" : typeName(v.type), dims: v.dims });
  return {
    irVersion: graph.irVersion,
    opset: graph.opset,
    inputs: graph.inputs.filter((i) => !graph.initializers.has(i.name)).map(report),
    outputs: graph.outputs.map(report),
    parameters,
    ops,
    unsupported,
  };
}
