// Inference fusion, the plan's part: a Conv whose output only a BatchNormalization reads, whose
// output only a Relu or Clip reads, whose output only a HardSwish or Swish reads (or a Conv and
// any of them in that order) runs as one node where no gradient is wanted: the BatchNorm folded
// into the Conv's weights and bias, the clamp in the GEMM's epilogue, the activation applied in
// place while the output is in cache, so the activations are written once instead of once a
// node. Which ops can take part is in the op table (OpRule.fused, OpRule.epilogue); whether they
// do is decided each time they run: where a gradient is wanted, or BatchNorm uses batch
// statistics, they run as they are.
import type { Activation } from "../../autograd/ops/activate.js";
import type { Affine, ConvEpilogue, Epilogue, FusedStep } from "./op-rule.js";

/** The most nodes one Conv's output pass takes on: a BatchNorm, a clamp, an activation. */
const MAX_EPILOGUES = 3;

interface Fusible {
  inputs: string[];
  outputs: string[];
  fused: FusedStep | null;
  epilogue: Epilogue | null;
}

/**
 * Per step of the plan, the steps after it that may go into its output pass, in order: each the
 * only reader of the value before it (which no one else wants), reading it as input 0, its other
 * inputs the model's own (weights, constants: known before the Conv runs), its other outputs
 * unread.
 */
export function epilogueChains(plan: readonly Fusible[], wanted: ReadonlySet<string>): number[][] {
  const readers = new Map<string, number[]>();
  const produced = new Set<string>();
  plan.forEach((step, at) => {
    for (const name of step.inputs) if (name) (readers.get(name) ?? readers.set(name, []).get(name)!).push(at);
    for (const name of step.outputs) if (name) produced.add(name);
  });
  const unread = (name: string) => !name || (!readers.has(name) && !wanted.has(name));
  return plan.map((step) => {
    const chain: number[] = [];
    if (!step.fused) return chain;
    let value = step.outputs[0];
    while (chain.length < MAX_EPILOGUES && value && !wanted.has(value)) {
      const by = readers.get(value) ?? [];
      if (by.length !== 1) break; // read by several nodes (a residual), or twice by one
      const next = plan[by[0]];
      if (!next.epilogue || next.inputs[0] !== value) break;
      if (next.inputs.slice(1).some((name) => name && produced.has(name)) || !next.outputs.slice(1).every(unread)) break;
      chain.push(by[0]);
      value = next.outputs[0];
    }
    return chain;
  });
}

/**
 * The longest start of a chain's epilogues that makes one output pass (an affine map first, then
 * one clamp, then one activation, each if there): how many nodes it covers, and the pass.
 */
export function outputPass(epilogues: Iterable<ReturnType<Epilogue>>): { covers: number; pass: ConvEpilogue } {
  let affine: Affine | null = null;
  let clamp: readonly [number, number] | null = null;
  let activation: Activation | null = null;
  let covers = 0;
  for (const e of epilogues) {
    if (!e || activation) break; // nothing goes after the activation
    if ("affine" in e) {
      if (covers > 0) break; // a BatchNorm after the clamp is a map of its own
      affine = e.affine;
    } else if ("clamp" in e) {
      if (clamp) break;
      clamp = e.clamp;
    } else {
      activation = e.activation;
    }
    covers++;
  }
  return { covers, pass: { affine, clamp: clamp ?? [-Infinity, Infinity], activation } };
}
