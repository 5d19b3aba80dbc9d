// The ONNX op table: one entry per op of the default domain, read by the importer (to build each
// node's step), by inspectOnnx and the conformance script (what runs), and by the README's list
// of supported ops. An op is added here, in one of the family files beside it, and nowhere else.
import { FormatError } from "../../errors.js";
import type { OnnxNode } from "./graph.js";
import type { OpRule } from "./op-rule.js";
import { ELEMENTWISE_OPS } from "./ops/elementwise.js";
import { NN_OPS } from "./ops/nn.js";
import { RECURRENT_OPS } from "./ops/recurrent.js";
import { REDUCE_OPS } from "./ops/reduce.js";
import { SHAPE_OPS } from "./ops/shape.js";

export const OP_TABLE: Readonly<Record<string, OpRule>> = Object.freeze(Object.assign(Object.create(null) as Record<string, OpRule>, {
  ...ELEMENTWISE_OPS,
  ...SHAPE_OPS,
  ...NN_OPS,
  ...REDUCE_OPS,
  ...RECURRENT_OPS,
}));

/** The rule that runs `node` at the model's opset, or a FormatError naming the node and why none does. */
export function ruleFor(node: OnnxNode, opset: number): OpRule {
  const fail = (why: string) => new FormatError(`${node.where}: ${why}`);
  if (node.domain !== "" && node.domain !== "ai.onnx") throw fail(`domain ${node.domain} is not supported`);
  const rule = OP_TABLE[node.op];
  if (!rule) throw fail(`op ${node.op} is not supported`);
  // A node made from a pattern of older ops means what its rule reads at any opset.
  if (opset < rule.since && !node.pattern) throw fail(`opset ${opset}; wasmgrad reads ${node.op} from opset ${rule.since}`);
  if (rule.until !== undefined && opset > rule.until) throw fail(`opset ${opset}; wasmgrad reads ${node.op} up to opset ${rule.until}`);
  return rule;
}
