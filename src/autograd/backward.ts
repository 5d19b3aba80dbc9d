// backward(): the chain rule over the graph in reverse topological order. Each node's rule turns
// ∂L/∂output into ∂L/∂input; where a tensor feeds several operations (fan-out) the contributions
// are summed before its own node runs. Contributions to a leaf go straight into its .grad (kept
// outside any withArena scope); tensors that retainGrad() get theirs when their node runs; every
// other gradient is freed as soon as its node has used it, and each node releases what it saved
// unless the graph is kept for another backward.
// Everything is checked before the first gradient is written (all or nothing).
// Memory without dispose(): the intermediates of a graph (the tensors its ops made) belong to the
// graph. When backward() releases the graph they stay readable until the next backward() through
// any of the same leaves (the next training step of the same model) starts, which frees them: a
// training loop that never calls dispose() stays flat even when it never yields to the event loop
// (the FinalizationRegistry only runs when it does). Graphs over other leaves are not touched.
import { checkBoolean, checkOptions, describe } from "../check.js";
import { ArgumentError, ShapeError, WasmgradError } from "../errors.js";
import { DisposedError, Tensor, formatShape, ones } from "../tensor.js";
import { noGrad, nodeOf } from "./graph.js";

/** backward() through a graph that an earlier backward() already released. */
export class GraphReleasedError extends WasmgradError {
  override name = "GraphReleasedError";
}

export interface BackwardOptions {
  /** ∂L/∂(this tensor); needed when the tensor has more than one element. */
  grad?: Tensor;
  /** Keep the graph (its saved tensors) for another backward() or for export. */
  retainGraph?: boolean;
}

/** The tensors that need a gradient, every one after all the tensors it was computed from. */
function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>([root]);
  const stack: [Tensor, number][] = [[root, 0]];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, next] = top;
    const node = nodeOf(t);
    if (node?.released) {
      throw new GraphReleasedError(
        `backward through a graph already released by an earlier backward() (at ${node.op}); ` +
          "pass { retainGraph: true } to the first backward() to run it again",
      );
    }
    const inputs = node?.inputs ?? [];
    if (next < inputs.length) {
      top[1]++;
      const child = inputs[next];
      if (child.requiresGrad && !seen.has(child)) {
        seen.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}

/** Adds g into the gradient kept for t in `grads`; takes g over when it is the first. */
function accumulate(grads: Map<Tensor, Tensor>, t: Tensor, g: Tensor, owned: boolean): void {
  const sum = grads.get(t);
  if (sum) {
    addInto(sum, g, owned);
  } else {
    grads.set(t, owned ? g : copy(g, false));
  }
}

/** sum += g; g is freed when it is ours. */
function addInto(sum: Tensor, g: Tensor, owned: boolean): void {
  sum.engine.parallel("add", sum.size, (from, to) => [sum.ptr + 4 * from, g.ptr + 4 * from, sum.ptr + 4 * from, to - from]);
  if (owned) g.dispose();
}

function copy(t: Tensor, persistent: boolean): Tensor {
  const out = persistent ? Tensor.persistent(t.shape, t.engine) : Tensor.empty(t.shape, t.engine);
  out.engine.parallel("scale", t.size, (from, to) => [t.ptr + 4 * from, 1, out.ptr + 4 * from, to - from]);
  return out;
}

/** The .grad of t, created as zeros (outside the arena) when it has none. */
function gradOf(t: Tensor): Tensor {
  if (!t.grad) {
    t.grad = Tensor.persistent(t.shape, t.engine);
    t.engine.kernels.fill(t.grad.ptr, 0, t.size);
  }
  return t.grad;
}

/** Puts g into t.grad: adopts it when t has none and g is ours and persistent, else adds or copies it. */
function storeGrad(t: Tensor, g: Tensor, owned: boolean): void {
  if (t.grad) return addInto(t.grad, g, owned);
  if (owned && !g.inArena) {
    t.grad = g;
    return;
  }
  t.grad = copy(g, true);
  if (owned) g.dispose();
}

/**
 * A released graph waiting for the next backward() through one of its leaves. Its tensors are held
 * strongly, not through WeakRefs: a WeakRef keeps its target alive until the current job ends,
 * which a synchronous training loop never reaches, so the JS heap would grow with every step.
 * The list is bounded instead: older graphs are dropped (left to the garbage collector).
 */
interface Released {
  leaves: Set<Tensor>;
  intermediates: Tensor[];
  /** Gives back the Wasm copies of the data the graph read (tensor()'s JsStorage). */
  holds: (() => void)[];
}

/** At most this many released graphs wait; older ones are left to the garbage collector. */
const MAX_WAITING = 32;
let waiting: Released[] = [];

/** Every tensor the graph will read or write is alive, and every .grad it will add to. */
function checkGraph(order: readonly Tensor[]): void {
  for (const t of order) {
    t.assertLive();
    if (t.grad?.isDisposed) {
      throw new DisposedError(`backward: the .grad of ${t.name ?? "a tensor"} in the graph was disposed; set it to null (or call zeroGrad()) first`);
    }
    const node = nodeOf(t);
    for (const x of node?.inputs ?? []) {
      if (x.isDisposed) {
        throw new DisposedError(`backward: an input${x.name ? ` (${x.name})` : ""} of ${node!.op} in the graph was disposed; its gradient needs it`);
      }
    }
  }
}

/**
 * `scope` "step" is the user's backward(); "private" is a library tool's own (gradcheck): it
 * leaves the step's intermediates alone and frees its own graph's at once.
 */
export function backward(root: Tensor, options?: BackwardOptions, scope: "step" | "private" = "step"): void {
  if (!Tensor.isTensor(root)) throw new ArgumentError(`backward: expected a Tensor, got ${describe(root)}`);
  root.assertLive();
  const { grad, retainGraph = false } = checkOptions("backward", options);
  checkBoolean("backward", "options.retainGraph", retainGraph);
  if (!root.requiresGrad) {
    throw new ArgumentError("backward: this tensor does not require grad (no tensor it was computed from has requiresGrad)");
  }
  if (grad === undefined && root.size !== 1) {
    throw new ShapeError(`backward: a tensor of shape ${formatShape(root.shape)} needs { grad } of that shape (only one-element tensors imply 1)`);
  }
  if (grad !== undefined) {
    if (!Tensor.isTensor(grad)) throw new ArgumentError(`backward: options.grad must be a Tensor, got ${describe(grad)}`);
    grad.assertLive();
    if (formatShape(grad.shape) !== formatShape(root.shape)) {
      throw new ShapeError(`backward: grad has shape ${formatShape(grad.shape)}, the tensor has ${formatShape(root.shape)}`);
    }
    if (grad.engine !== root.engine) throw new ArgumentError("backward: options.grad lives in another engine's memory");
  }
  const order = topologicalOrder(root);
  checkGraph(order);
  const leaves = order.filter((t) => nodeOf(t) === null);
  const adopted = order.flatMap((t) => nodeOf(t)?.adopted ?? []); // read before the nodes are released
  // Data the graph read (made by tensor(): its Wasm copy) is held until the graph's intermediates go.
  const data = new Set(order.flatMap((t) => nodeOf(t)?.inputs ?? []).filter((x) => !x.requiresGrad && nodeOf(x) === null));
  const holds = retainGraph ? [] : [...data].map((x) => x.holdCopy()).filter((h): h is () => void => h !== null);
  if (scope === "step") freeReleased(leaves);
  // The caller's grad is borrowed, not copied: it is never freed, adopted or written to.
  const grads = new Map<Tensor, Tensor>([[root, grad ?? ones(root.shape, { engine: root.engine })]]);

  noGrad(() => {
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const gy = grads.get(t);
      if (!gy) continue; // nothing flowed back to t
      grads.delete(t);
      const node = nodeOf(t);
      if (node?.backward) {
        const inputs = node.inputs;
        const needs = inputs.map((x) => x.requiresGrad);
        const into = (k: number) => (needs[k] && !nodeOf(inputs[k]) ? gradOf(inputs[k]) : null);
        const results = node.backward(gy, needs, into);
        inputs.forEach((x, k) => {
          const g = results[k];
          if (!g || !needs[k]) return;
          if (formatShape(g.shape) !== formatShape(x.shape)) {
            throw new Error(`wasmgrad bug: ${node.op} gave a gradient of shape ${formatShape(g.shape)} for an input of shape ${formatShape(x.shape)}`);
          }
          // A rule may pass gy itself, or one tensor to two inputs: copy those, own the rest.
          const owned = g !== gy && results.indexOf(g) === k;
          if (nodeOf(x)) accumulate(grads, x, g, owned);
          else storeGrad(x, g, owned);
        });
        if (!retainGraph) node.release();
      }
      const ours = gy !== grad;
      if (!nodeOf(t) || t.keepsGrad) storeGrad(t, gy, ours);
      else if (ours) gy.dispose();
    }
  });
  if (retainGraph) return;
  const intermediates = [...order.filter((t) => nodeOf(t) !== null), ...adopted].filter((t) => !t.isDisposed && !t.inArena);
  if (intermediates.length === 0 && holds.length === 0) return;
  if (scope === "private") {
    for (const t of intermediates) t.releaseBy("when the library tool that made it finished");
    holds.forEach((unhold) => unhold());
    return;
  }
  waiting.push({ leaves: new Set(leaves), intermediates, holds });
  if (waiting.length > MAX_WAITING) waiting.shift()!.holds.forEach((unhold) => unhold()); // its data's copies go home; the rest to the collector
}

/** Frees the intermediates of released graphs that share a leaf with the graph about to run. */
function freeReleased(leaves: readonly Tensor[]): void {
  if (waiting.length === 0) return;
  const due = waiting.filter((g) => leaves.some((leaf) => g.leaves.has(leaf)));
  if (due.length === 0) return;
  waiting = waiting.filter((g) => !due.includes(g));
  for (const g of due) {
    for (const t of g.intermediates) {
      t.releaseBy("by the next backward() through the same parameters (detach() a tensor to keep its values longer)");
    }
    g.holds.forEach((unhold) => unhold());
  }
}
