// The op table as users see it: which ONNX ops fromOnnx reads, from which opset (the README's
// list and the conformance script's selection are made from this).
import { OP_TABLE } from "./op-table.js";

export interface SupportedOnnxOp {
  op: string;
  /** The oldest default-domain opset it is read from. */
  since: number;
  /** The newest, where a later opset replaced the op (Upsample by Resize). */
  until?: number;
}

/** The ONNX ops fromOnnx reads, sorted by name. */
export function supportedOnnxOps(): SupportedOnnxOp[] {
  return Object.keys(OP_TABLE).sort().map((op) => {
    const rule = OP_TABLE[op];
    return { op, since: rule.since, ...(rule.until ? { until: rule.until } : {}) };
  });
}
