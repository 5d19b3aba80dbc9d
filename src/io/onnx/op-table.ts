// The ONNX op table: one entry per op of the default domain, read by the importer (to build each
// node's step), by inspectOnnx and the conformance script (what runs), and by the README's list
// of supported ops. An op is added here, in one of the family files beside it, and nowhere else.
import type { OpRule } from "./op-rule.js";
import { ELEMENTWISE_OPS } from "./ops/elementwise.js";
import { NN_OPS } from "./ops/nn.js";
import { REDUCE_OPS } from "./ops/reduce.js";
import { SHAPE_OPS } from "./ops/shape.js";

export const OP_TABLE: Readonly<Record<string, OpRule>> = Object.freeze(Object.assign(Object.create(null) as Record<string, OpRule>, {
  ...ELEMENTWISE_OPS,
  ...SHAPE_OPS,
  ...NN_OPS,
  ...REDUCE_OPS,
}));
