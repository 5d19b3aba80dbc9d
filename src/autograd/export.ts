// The graph as a picture: Graphviz DOT or Mermaid. Tensors are boxes (name, shape, value,
// gradient) and operations are circles between them, as in the tutorials' figures: values flow
// left to right, and each box shows the gradient backward() left there.
import { checkNumber, checkOptions, describe } from "../check.js";
import { ArgumentError } from "../errors.js";
import { Tensor } from "../tensor.js";
import { nodeOf } from "./graph.js";

export interface GraphExportOptions {
  /** Show values (and gradients) of tensors with at most this many elements. Default 6. */
  maxValues?: number;
  /** Significant digits shown. Default 6. */
  precision?: number;
}

const SYMBOLS: Record<string, string> = { add: "+", sub: "−", mul: "×", div: "÷", neg: "−", matmul: "·", square: "²" };

interface Drawing {
  tensors: { id: string; lines: string[] }[];
  ops: { id: string; label: string; inputs: string[]; output: string }[];
}

/** Every tensor root was computed from, inputs before outputs, with labels. */
function draw(where: string, root: Tensor, options: GraphExportOptions | undefined): Drawing {
  if (!Tensor.isTensor(root)) throw new ArgumentError(`${where}: expected a Tensor, got ${describe(root)}`);
  const { maxValues = 6, precision = 6 } = checkOptions(where, options);
  checkNumber(where, "maxValues", maxValues, { integer: true, min: 0 });
  checkNumber(where, "precision", precision, { integer: true, min: 1, max: 21 });
  const ids = new Map<Tensor, string>();
  const drawing: Drawing = { tensors: [], ops: [] };
  const show = (t: Tensor) => {
    if (t.size > maxValues) return `${t.size} values`;
    const values = Array.from(t.data(), (v) => String(+v.toPrecision(precision)));
    return t.rank === 0 ? values[0] : `[${values.join(", ")}]`;
  };
  // Inputs before outputs, with an explicit stack: a graph thousands of ops deep cannot overflow it.
  const stack: [Tensor, boolean][] = [[root, false]];
  while (stack.length > 0) {
    const [t, expanded] = stack.pop()!;
    if (ids.has(t)) continue;
    const parents = nodeOf(t)?.inputs ?? [];
    if (!expanded) {
      stack.push([t, true]);
      for (let i = parents.length - 1; i >= 0; i--) if (!ids.has(parents[i])) stack.push([parents[i], false]);
      continue;
    }
    const inputs = parents.map((p) => ids.get(p)!);
    const id = `t${ids.size}`;
    ids.set(t, id);
    const lines = [t.name ?? (nodeOf(t) ? "" : "input")].filter(Boolean);
    if (t.isDisposed) lines.push("(disposed)");
    else {
      if (t.rank > 0) lines.push(`shape [${t.shape.join(", ")}]`);
      lines.push(`value ${show(t)}`);
      if (t.grad && !t.grad.isDisposed) lines.push(`grad ${show(t.grad)}`);
    }
    drawing.tensors.push({ id, lines });
    const node = nodeOf(t);
    if (node) {
      const { op, attrs } = node;
      const extra = Object.values(attrs).map((v) => (Array.isArray(v) ? `[${v.join(", ")}]` : String(v)));
      const label = [SYMBOLS[op] ?? op, ...extra].join(" ");
      drawing.ops.push({ id: `op${drawing.ops.length}`, label, inputs, output: id });
    }
  }
  return drawing;
}

const quote = (s: string) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"');

/** Graphviz DOT: `dot -Tsvg graph.dot > graph.svg`. */
export function toDot(root: Tensor, options?: GraphExportOptions): string {
  const { tensors, ops } = draw("toDot", root, options);
  const out = ["digraph wasmgrad {", "  rankdir=LR;", '  node [fontname="Helvetica"];'];
  for (const t of tensors) out.push(`  ${t.id} [shape=box, label="${t.lines.map(quote).join("\\n")}"];`);
  for (const op of ops) {
    out.push(`  ${op.id} [shape=circle, label="${quote(op.label)}"];`);
    for (const i of op.inputs) out.push(`  ${i} -> ${op.id};`);
    out.push(`  ${op.id} -> ${op.output};`);
  }
  out.push("}");
  return `${out.join("\n")}\n`;
}

const mermaidText = (s: string) => s.replace(/"/g, "#quot;");

/** Mermaid flowchart, for Markdown that renders it (GitHub does). */
export function toMermaid(root: Tensor, options?: GraphExportOptions): string {
  const { tensors, ops } = draw("toMermaid", root, options);
  const out = ["flowchart LR"];
  for (const t of tensors) out.push(`  ${t.id}["${t.lines.map(mermaidText).join("<br/>")}"]`);
  for (const op of ops) {
    out.push(`  ${op.id}(("${mermaidText(op.label)}"))`);
    for (const i of op.inputs) out.push(`  ${i} --> ${op.id}`);
    out.push(`  ${op.id} --> ${op.output}`);
  }
  return `${out.join("\n")}\n`;
}
