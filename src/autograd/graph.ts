// The computational graph: each tensor an operation made is linked to a Node that names the
// operation, its inputs, and its backward rule — a closure that holds exactly what the rule needs
// (the tensors it saved) and maps ∂L/∂output to ∂L/∂input for each input. The link lives here, in
// a WeakMap, not on the tensor: tensor.ts knows nothing of the graph.
import { ArgumentError } from "../errors.js";
import type { Tensor } from "../tensor.js";

/**
 * ∂L/∂output → ∂L/∂input for each input (null where `needs[i]` is false). A rule may instead add
 * its result straight into `into(i)` — the .grad of input i when it is a leaf — and return null
 * there: fused ops do so to save a pass over the parameters.
 */
export type BackwardRule = (
  gy: Tensor,
  needs: readonly boolean[],
  into: (input: number) => Tensor | null,
) => readonly (Tensor | null)[];

export class Node {
  constructor(
    readonly op: string,
    public inputs: readonly Tensor[],
    public backward: BackwardRule | null,
    /** Non-tensor arguments, for graph exports: e.g. { scalar: 2 }. */
    readonly attrs: Readonly<Record<string, unknown>> = {},
    /** Scratch the rule saved that nothing else holds (a dropout mask, pooling's argmax): freed with the node. */
    private scratch: readonly Tensor[] = [],
  ) {}

  /**
   * Tensors made outside the graph that it saved and nobody else holds (a model's layer output
   * computed from data that needs no gradient): freed with the graph's intermediates.
   */
  readonly adopted: Tensor[] = [];

  /** Backward has run and released what the node saved. */
  get released(): boolean {
    return this.backward === null;
  }

  release(): void {
    this.backward = null;
    this.inputs = [];
    for (const t of this.scratch) t.dispose();
    this.scratch = [];
  }
}

const nodes = new WeakMap<Tensor, Node>();

/** The operation that made t, while the graph is kept; null for leaves and for tensors made without a graph. */
export const nodeOf = (t: Tensor): Node | null => nodes.get(t) ?? null;

let gradEnabled = true;

export const isGradEnabled = (): boolean => gradEnabled;

/** Runs `fn` without building a graph: nothing inside it requires grad. */
export function noGrad<T>(fn: () => T): T {
  if (typeof fn !== "function") throw new ArgumentError("noGrad: expected a function to run without a graph");
  const before = gradEnabled;
  gradEnabled = false;
  try {
    const result = fn();
    if (result instanceof Promise) throw new ArgumentError("noGrad takes a synchronous function; await outside it");
    return result;
  } finally {
    gradEnabled = before;
  }
}

/**
 * Makes `out` the output of `op` on `inputs` in the graph, if any input requires grad. `scratch`
 * lists tensors only the rule uses: freed when the node is released, or now when no graph is built.
 */
export function record(
  out: Tensor,
  op: string,
  inputs: readonly Tensor[],
  backward: BackwardRule,
  attrs?: Record<string, unknown>,
  scratch: readonly Tensor[] = [],
): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    nodes.set(out, new Node(op, inputs, backward, attrs, scratch));
  } else {
    for (const t of scratch) t.dispose();
  }
  return out;
}
