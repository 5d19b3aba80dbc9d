// Node patterns the importer runs as one op: x·σ(x) written as a Sigmoid and a Mul (how PyTorch
// exports nn.SiLU, EfficientNet's and YOLO's activation) runs as ONNX's Swish, one pass of the
// silu activation instead of two ops and a tensor between them, and one a Conv before it can take
// into its output pass (fusion.ts). The nodes made are marked, so that the op table reads them
// whatever the file's opset (Swish is opset 24's).
import type { OnnxNode } from "./graph.js";

/** The nodes with each x·σ(x) pattern made one Swish node; those the pattern takes in are left out. */
export function joinPatterns(nodes: readonly OnnxNode[], outputs: ReadonlySet<string>): OnnxNode[] {
  const readers = new Map<string, OnnxNode[]>();
  for (const node of nodes) for (const name of node.inputs) if (name) (readers.get(name) ?? readers.set(name, []).get(name)!).push(node);
  const gone = new Set<OnnxNode>(), swish = new Map<OnnxNode, OnnxNode>();
  for (const sigmoid of nodes) {
    if (sigmoid.op !== "Sigmoid" || !isDefault(sigmoid) || sigmoid.inputs.length !== 1 || !sigmoid.inputs[0]) continue;
    const [x] = sigmoid.inputs, [s] = sigmoid.outputs;
    const by = readers.get(s) ?? [];
    if (outputs.has(s) || by.length !== 1) continue;
    const mul = by[0];
    const operands = [...mul.inputs].sort();
    if (mul.op !== "Mul" || !isDefault(mul) || mul.inputs.length !== 2 || operands.join() !== [s, x].sort().join() || s === x) continue;
    gone.add(sigmoid);
    swish.set(mul, { ...mul, op: "Swish", inputs: [x], pattern: "x·σ(x), a Sigmoid and a Mul" });
  }
  return nodes.filter((n) => !gone.has(n)).map((n) => swish.get(n) ?? n);
}

const isDefault = (node: OnnxNode) => node.domain === "" || node.domain === "ai.onnx";
