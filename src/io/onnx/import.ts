// ONNX import, trainable: fromOnnx(bytes) reads and checks the file (graph.ts), then compiles a
// plan once — each node looked up in the op table (op-table.ts) and built into a step with its
// attributes decoded, types checked, constants and integer subgraphs folded — and gives a Model
// whose forward() runs the plan's steps with wasmgrad's own differentiable ops. Float
// initialisers are parameters named as in the file (running statistics and the like are
// buffers), so the model can be evaluated and fine-tuned with fit(). Shape arithmetic that
// follows from the inputs' shapes (Shape → Gather → Concat → Reshape) is computed once per input
// shape and remembered. Whatever cannot be expressed exactly is a FormatError naming the node,
// the op and the reason — never a different model.
import { isGradEnabled, noGrad } from "../../autograd/graph.js";
import { type Engine, getEngine } from "../../backend/engine.js";
import { checkBoolean, checkOptions, describe } from "../../check.js";
import { ArgumentError, FormatError } from "../../errors.js";
import { Model } from "../../nn/model.js";
import { Tensor, outsideScopes, ownedBy, tensor } from "../../tensor.js";
import { DataType, type OnnxGraph, type RawModel, decodeTensor, isFloatType, isIntegerType, rawFloats, readOnnx, typeName } from "./graph.js";
import type { ChannelsLastStep, Epilogue, FusedStep, RunContext, Step } from "./op-rule.js";
import { epilogueChains, outputPass } from "./fusion.js";
import { joinPatterns } from "./patterns.js";
import { OP_TABLE, ruleFor } from "./op-table.js";
import { onnxModelType } from "./proto-type.js";
import type { ProtoObject } from "./protobuf.js";
import { LaidOut } from "./laid-out.js";
import { skeletonOf, withWeights } from "./reexport.js";
import { type Flowing, type Value, asInts, isChannelsLast, isInts, isPermuted } from "./values.js";

export interface OnnxImportOptions {
  /** The graph outputs (or any named tensors: a cut) to compute; the first is what forward() returns. Default: the graph's outputs. */
  outputs?: string[];
  /**
   * Graph inputs bound to fixed values (weights or shapes passed as inputs, as ONNX's own test
   * cases do): float tensors, or integers ({ shape, data, integer: true }).
   */
  constants?: Record<string, Tensor | { shape: number[]; data: ArrayLike<number>; integer?: boolean }>;
  /** BatchNormalization while training: false (default) keeps the running statistics, as a fine-tune wants; true uses the batch's. */
  batchStatistics?: boolean;
  engine?: Engine;
}

/** One node of the plan: its step, where its inputs come from, where its outputs go. */
interface PlanStep {
  run: Step;
  /** Its channels-last form, tried first (channels-last.ts). */
  channelsLast: ChannelsLastStep | null;
  /** That form takes values held in any order (OpRule.anyOrder); else they come to it planar. */
  anyOrder: boolean;
  /** It reads only its inputs' dims (Shape, Size): a channels-last input needs no transpose. */
  shapeOnly: boolean;
  inputs: string[];
  outputs: string[];
  where: string;
  /** Its outputs are integers that follow from the graph inputs' shapes alone: computed once per input shape. */
  shapeDerived: boolean;
  /** It can be taken into the output pass of a Conv before it (fusion.ts). */
  epilogue: Epilogue | null;
  /** A Conv's form with the epilogues of `chain` in its output pass (fusion.ts). */
  fused: FusedStep | null;
  /** The steps after it whose epilogues it may take on, in order. */
  chain: number[];
}

/** Shape-derived values remembered for this many input shapes. */
const SHAPE_CACHE = 8;

export class OnnxModel extends Model {
  /** The graph inputs forward() takes, in order (those not bound as constants). */
  readonly inputNames: string[];
  readonly outputNames: string[];
  /** BatchNormalization normalises by batch statistics in training mode (see OnnxImportOptions). */
  batchStatistics: boolean;
  /** The file's default-domain opset. */
  readonly opset: number;
  readonly #parameters: Map<string, Tensor>;
  readonly #buffers: Map<string, Tensor>;
  readonly #constants: Map<string, Value>;
  readonly #integerInputs: Set<string>;
  readonly #plan: PlanStep[];
  /** Every tensor fromOnnx made for the model (initialisers, folded constants): what dispose() frees. */
  readonly #owned: Tensor[];
  /** Weights laid out for the kernels (laid-out.ts), freed with the model. */
  readonly #laidOut: LaidOut[];
  /** The model's own tensors (initialisers, folded constants): a run never frees them. */
  readonly #own: Set<Tensor>;
  /** Per step of the plan, the values no later step (nor the caller) reads: freed after it in inference. */
  readonly #diesAt: string[][];
  readonly #shapes = new Map<string, Map<string, Value>>();
  /** The graph without the weights this model holds (reexport.ts): what toOnnx writes them into. */
  readonly #skeleton: Uint8Array;

  /** @internal Use fromOnnx(). */
  constructor(parts: {
    inputs: string[]; outputs: string[]; parameters: Map<string, Tensor>; buffers: Map<string, Tensor>; constants: Map<string, Value>;
    integerInputs: Set<string>; plan: PlanStep[]; owned: Tensor[]; laidOut: LaidOut[]; batchStatistics: boolean; engine: Engine; skeleton: Uint8Array; opset: number;
  }) {
    super({ engine: parts.engine });
    this.inputNames = parts.inputs;
    this.outputNames = parts.outputs;
    this.#parameters = parts.parameters;
    this.#buffers = parts.buffers;
    this.#constants = parts.constants;
    this.#integerInputs = parts.integerInputs;
    this.#plan = parts.plan;
    this.#owned = parts.owned;
    this.#laidOut = parts.laidOut;
    this.#own = new Set([...parts.owned, ...parts.parameters.values(), ...parts.buffers.values(),
      ...[...parts.constants.values()].filter((v): v is Tensor => Tensor.isTensor(v))]);
    const last = new Map<string, number>();
    parts.plan.forEach((step, at) => {
      for (const name of [...step.outputs, ...step.inputs]) if (name) last.set(name, at);
    });
    this.#diesAt = parts.plan.map(() => []);
    for (const [name, at] of last) if (!parts.outputs.includes(name)) this.#diesAt[at].push(name);
    this.batchStatistics = parts.batchStatistics;
    this.#skeleton = parts.skeleton;
    this.opset = parts.opset;
  }

  /** The file's graph (cut to the outputs) with the weights' current values, as plain data. */
  #weighted(): RawModel {
    const weights = [...this.#parameters, ...this.#buffers];
    const gone = weights.find(([, t]) => t.isDisposed);
    if (gone) throw new ArgumentError(`toOnnx: the model's ${gone[0]} was disposed`);
    return withWeights(this.#skeleton, weights);
  }

  /** @internal toOnnx(model): the file's graph (cut to the outputs) with the weights' current values. */
  toOnnxBytes(): Uint8Array {
    return onnxModelType().encode(this.#weighted() as unknown as ProtoObject).finish();
  }

  /** @internal The graph as toOnnx grafts it into a composite (a backbone under a new head): nodes and initialisers with the weights' current values. */
  toOnnxGraph(): { nodes: unknown[]; initializers: { name?: string }[]; inputs: string[]; outputs: string[] } {
    const g = this.#weighted().graph!;
    return { nodes: g.node ?? [], initializers: g.initializer ?? [], inputs: this.inputNames, outputs: this.outputNames };
  }

  /** The initialisers, by their names in the file: parameters (floats that require grad) and buffers. */
  protected override ownTensors(): [string, Tensor, boolean][] {
    return [
      ...[...this.#parameters].filter(([, t]) => !t.isDisposed).map(([n, t]): [string, Tensor, boolean] => [n, t, true]),
      ...[...this.#buffers].filter(([, t]) => !t.isDisposed).map(([n, t]): [string, Tensor, boolean] => [n, t, false]),
    ];
  }

  /** Frees the model's memory now (its initialisers and constants; not tensors you bound with `constants`) instead of when it is collected. */
  dispose(): void {
    for (const t of this.#owned) t.dispose();
    for (const cache of this.#laidOut) cache.dispose();
    this.#shapes.clear();
  }

  /** The first requested output for the graph's inputs (one tensor each, in inputNames' order). */
  forward(...inputs: Tensor[]): Tensor {
    return this.run(...inputs)[this.outputNames[0]];
  }

  /** Every requested output, by name. Integer inputs (token ids) are given as tensors of whole numbers. */
  run(...inputs: Tensor[]): Record<string, Tensor> {
    if (inputs.length !== this.inputNames.length) {
      throw new ArgumentError(`OnnxModel: expected ${this.inputNames.length} inputs (${this.inputNames.join(", ")}), got ${inputs.length}`);
    }
    inputs.forEach((t, i) => {
      if (!Tensor.isTensor(t)) throw new ArgumentError(`OnnxModel: input ${this.inputNames[i]} must be a Tensor, got ${describe(t)}`);
      t.assertLive();
    });
    // Without a graph, nothing needs a value after its last reader: each step's own temporaries go
    // when it ends and each value it makes when its last reader has run, outside any withArena()
    // (whose chunks only grow), so the peak is what is alive at once (a DenseNet's concatenations)
    // rather than everything a forward pass makes. The outputs are copied out to the caller's scope.
    if (isGradEnabled()) return this.#execute(inputs, false);
    const result = outsideScopes(() => this.#execute(inputs, true));
    return Object.fromEntries(Object.entries(result).map(([name, t]) => {
      if (this.#own.has(t) || inputs.includes(t)) return [name, t];
      const copy = t.mul(1);
      t.dispose();
      return [name, copy];
    }));
  }

  /** The plan run on the inputs, its outputs by name; `freeing`: each value freed after its last reader. */
  #execute(inputs: Tensor[], freeing: boolean): Record<string, Tensor> {
    const values = new Map<string, Flowing>([...this.#constants, ...this.#parameters, ...this.#buffers]);
    // Tensors this run made, and how many live names hold each (Identity passes a tensor on under a new name).
    const made = new Map<Tensor, number>();
    const tensorOf = (v: Flowing | undefined) => (isPermuted(v) ? v.held : Tensor.isTensor(v) ? v : null);
    // A value held in another order made planar for the ops that do not know its order: once per value.
    const planar = new Map<string, Tensor>();
    const planarOf = (name: string, v: Flowing | undefined): Value | undefined => {
      if (!isPermuted(v)) return v;
      let t = planar.get(name);
      if (!t) {
        planar.set(name, (t = freeing ? outsideScopes(() => v.planar()) : v.planar()));
        made.set(t, 1); // held by the planar form of `name`
      }
      return t;
    };
    const drop = (t: Tensor | null | undefined) => {
      const holders = t ? made.get(t) : undefined;
      if (!t || holders === undefined) return;
      if (holders > 1) made.set(t, holders - 1);
      else (made.delete(t), t.dispose());
    };
    const wanted = new Set(this.outputNames);
    const release = (name: string) => {
      if (wanted.has(name)) return;
      drop(tensorOf(values.get(name)));
      drop(planar.get(name));
      planar.delete(name);
      values.delete(name);
    };
    this.inputNames.forEach((name, i) => {
      values.set(name, this.#integerInputs.has(name) ? asInts(inputs[i], `OnnxModel: input ${name}`, "the ids") : inputs[i]);
    });
    const key = inputs.map((t) => t.shape.join("x")).join(";");
    const known = this.#shapes.get(key);
    if (known) for (const [name, v] of known) values.set(name, v);
    const context: RunContext = { training: this.training, batchStatistics: this.batchStatistics };
    const outputsOf = (outs: (Flowing | undefined)[]) => outs.map(tensorOf).filter((t): t is Tensor => t !== null);
    const derived = new Map<string, Value>();
    let kept = new Set<Tensor>();
    // Steps a Conv before them took into its output pass this run (fusion.ts).
    const absorbed = new Set<number>();
    try {
      this.#plan.forEach((step, at) => {
        if (known && step.shapeDerived) return;
        if (absorbed.has(at)) {
          if (freeing) for (const name of this.#diesAt[at]) release(name);
          return;
        }
        const stored = step.inputs.map((name) => (name === "" ? undefined : values.get(name)));
        const held = new Set(stored.map(tensorOf)); // and the planar forms passed: a step may hand an input on as its output
        // What its channels-last and fused forms see: channels-last values, and others in another order only where it takes any.
        const given = step.anyOrder ? stored : stored.map((v, i) => {
          if (!isPermuted(v) || isChannelsLast(v)) return v;
          const t = planarOf(step.inputs[i], v);
          held.add(tensorOf(t));
          return t;
        });
        let names = step.outputs;
        const fusedRun = () => {
          if (!step.fused || step.chain.length === 0) return null;
          const plan = this.#plan;
          const { covers, pass } = outputPass((function* () {
            for (const s of step.chain) yield plan[s].epilogue!(plan[s].inputs.map((name) => (name === "" ? undefined : values.get(name) as Value)), context);
          })());
          const y = covers > 0 ? step.fused(given, pass) : null;
          if (!y) return null;
          step.chain.slice(0, covers).forEach((s) => absorbed.add(s));
          names = [plan[step.chain[covers - 1]].outputs[0]];
          return [y];
        };
        const compute = () => fusedRun() ?? step.channelsLast?.(given, context) ??
          step.run(given.map((v, i) => {
            const arg = step.shapeOnly && isPermuted(v) ? v.dimsOnly() : planarOf(step.inputs[i], v);
            held.add(tensorOf(arg));
            return arg;
          }), context);
        const outs = freeing ? ownedBy(compute, outputsOf) : compute();
        names.forEach((name, i) => {
          const v = outs[i];
          if (name === "" || v === undefined) return;
          values.set(name, v);
          if (!known && step.shapeDerived) derived.set(name, v as Value); // integers: never channels-last
          const t = tensorOf(v);
          if (t && !held.has(t) && !this.#own.has(t)) made.set(t, (made.get(t) ?? 0) + 1);
          else if (t && made.has(t)) made.set(t, made.get(t)! + 1); // passed on under another name
        });
        if (freeing) for (const name of this.#diesAt[at]) release(name);
      });
      if (!known) {
        if (this.#shapes.size >= SHAPE_CACHE) this.#shapes.delete(this.#shapes.keys().next().value!);
        this.#shapes.set(key, derived);
      }
      const result = Object.fromEntries(this.outputNames.map((name) => {
        const v = planarOf(name, values.get(name));
        if (v === undefined) throw new FormatError(`OnnxModel: output ${name} was not computed`);
        return [name, isInts(v) ? tensor(Float32Array.from(v.ints), { shape: v.dims, engine: this.engine }) : v];
      }));
      kept = new Set(Object.values(result).filter((t) => made.has(t)));
      return result;
    } finally {
      // Whatever else is left (the outputs' channels-last forms; everything, after an error).
      if (freeing) for (const t of made.keys()) if (!kept.has(t)) t.dispose();
    }
  }
}

/** A Model for the graph in `bytes` (a ModelProto), its float initialisers trainable parameters. */
export function fromOnnx(bytes: Uint8Array, options?: OnnxImportOptions): OnnxModel {
  if (!(bytes instanceof Uint8Array)) throw new ArgumentError(`fromOnnx: expected the model's bytes, got ${describe(bytes)}`);
  const { outputs: wanted, constants = {}, batchStatistics = false, engine = getEngine() } = checkOptions("fromOnnx", options);
  checkBoolean("fromOnnx", "options.batchStatistics", batchStatistics);
  if (constants === null || typeof constants !== "object") throw new ArgumentError(`fromOnnx: options.constants must be an object, got ${describe(constants)}`);
  const graph = readOnnx(bytes);
  const outputs = wanted ?? graph.outputs.map((o) => o.name);
  if (!Array.isArray(outputs) || outputs.length === 0 || !outputs.every((o) => typeof o === "string")) {
    throw new ArgumentError(`fromOnnx: outputs must name at least one tensor of the graph, got ${describe(wanted)}`);
  }
  const produced = new Set([...graph.nodes.flatMap((n) => n.outputs), ...graph.inputs.map((i) => i.name), ...graph.initializers.keys()]);
  const unknown = outputs.filter((o) => !produced.has(o));
  if (unknown.length > 0) throw new FormatError(`fromOnnx: the graph computes no ${unknown.join(", ")}`);
  const made: Tensor[] = [];
  try {
    return compile(graph, outputs, constants, batchStatistics, engine, made);
  } catch (e) {
    made.forEach((t) => t.dispose());
    throw e;
  }
}

function compile(
  graph: OnnxGraph, outputs: string[], bound: NonNullable<OnnxImportOptions["constants"]>, batchStatistics: boolean, engine: Engine, made: Tensor[],
): OnnxModel {
  // Keep only what the outputs need, walking back from them (converters add side branches).
  const needed = new Set<string>(outputs);
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const node = graph.nodes[i];
    if (!node.outputs.some((o) => needed.has(o))) continue;
    for (const x of node.inputs) if (x) needed.add(x);
  }
  const nodes = joinPatterns(graph.nodes.filter((n) => n.outputs.some((o) => needed.has(o))), new Set(outputs));

  const types = new Map<string, number>();
  const known = new Map<string, Value>(); // values known at import
  for (const i of graph.inputs) types.set(i.name, i.type);
  // Bound inputs, then initialisers (an initialiser that is also a graph input is its default).
  const boundNames = new Set(Object.keys(bound));
  for (const [name, value] of Object.entries(bound)) {
    if (Tensor.isTensor(value)) {
      known.set(name, value);
      types.set(name, DataType.FLOAT);
    } else if (value?.integer) {
      known.set(name, { ints: Array.from(value.data, Number), dims: [...value.shape] });
      types.set(name, DataType.INT64);
    } else {
      const t = tensor(Float32Array.from(value.data), { shape: value.shape, engine });
      made.push(t);
      known.set(name, t);
      types.set(name, DataType.FLOAT);
    }
  }
  const floatInits = new Set<string>();
  for (const [name, raw] of graph.initializers) {
    if (!needed.has(name) || boundNames.has(name)) continue;
    types.set(name, raw.data_type ?? 0);
    if (isFloatType(raw.data_type ?? 0)) floatInits.add(name);
    else {
      const d = decodeTensor(raw, `fromOnnx: initializer ${name}`);
      known.set(name, { ints: d.ints!, dims: d.dims });
    }
  }
  // Where each float initialiser is read: by a trained input (a parameter) or only as state (a buffer).
  const trained = new Set<string>();
  for (const node of nodes) {
    const rule = OP_TABLE[node.op];
    node.inputs.forEach((name, i) => {
      if (floatInits.has(name) && !(rule?.buffers ?? []).includes(i)) trained.add(name);
    });
  }
  // One initialiser at a time, float32 bytes straight from the file into Wasm memory: the peak is the file and the model.
  const parameters = new Map<string, Tensor>(), buffers = new Map<string, Tensor>();
  for (const name of floatInits) {
    const raw = graph.initializers.get(name)!, where = `fromOnnx: initializer ${name}`;
    const direct = rawFloats(raw, where);
    let t: Tensor;
    if (direct) {
      t = Tensor.persistent(direct.dims, engine);
      t.requiresGrad = trained.has(name);
      t.name = name;
      new Uint8Array(engine.memory.wasm.buffer, t.ptr, direct.bytes.byteLength).set(direct.bytes);
    } else {
      const d = decodeTensor(raw, where);
      t = tensor(d.floats!, { shape: d.dims, engine, requiresGrad: trained.has(name), name });
    }
    made.push(t);
    (trained.has(name) ? parameters : buffers).set(name, t);
  }
  const integerInputs = new Set<string>();
  const inputs = graph.inputs.map((i) => i.name).filter((n) => needed.has(n) && !floatInits.has(n) && !known.has(n));
  for (const name of inputs) {
    const type = types.get(name) ?? 0;
    if (isIntegerType(type)) integerInputs.add(name);
    else if (!isFloatType(type)) throw new FormatError(`fromOnnx: graph input ${name} is ${typeName(type)}; wasmgrad takes float and integer inputs`);
  }

  // Compile: each node's rule builds its step once; nodes whose inputs are all known are folded.
  const shapeDerived = new Set<string>();
  const plan: PlanStep[] = [];
  const laidOut: LaidOut[] = [];
  for (const node of nodes) {
    const where = node.where;
    const rule = ruleFor(node, graph.opset);
    const inputTypes = node.inputs.map((n) => (n === "" ? 0 : types.get(n) ?? 0));
    for (const i of rule.floats ?? [0]) {
      const t = inputTypes[i];
      if (t && !isFloatType(t)) throw new FormatError(`${where}: input ${i} (${node.inputs[i]}) is ${typeName(t)}; ${node.op} takes floats there`);
    }
    const ctx = {
      node, attrs: node.attrs, opset: graph.opset, where, inputTypes, engine,
      constant: (i: number) => (node.inputs[i] ? known.get(node.inputs[i]) : undefined),
      used: (i: number) => !!node.outputs[i] && needed.has(node.outputs[i]),
      initializer: (i: number) => floatInits.has(node.inputs[i] ?? ""),
      laidOut: (make: (sources: readonly Tensor[]) => Tensor[]) => {
        const cache = new LaidOut(make);
        laidOut.push(cache);
        return cache;
      },
    };
    const run = rule.build(ctx);
    const outTypes = rule.types ? rule.types(ctx) : node.outputs.map(() => inputTypes[0] || DataType.FLOAT);
    node.outputs.forEach((name, i) => name && types.set(name, outTypes[i] ?? outTypes[0]));
    const present = node.inputs.filter((n) => n !== "");
    const parametersIn = present.some((n) => parameters.has(n) || buffers.has(n));
    const inputsKnown = present.every((n) => known.has(n));
    if (inputsKnown && !parametersIn) {
      // Fold: a constant, or arithmetic on constants, is computed now, once.
      const outs = noGrad(() => run(node.inputs.map((n) => (n === "" ? undefined : known.get(n))), { training: false, batchStatistics: false }));
      node.outputs.forEach((name, i) => {
        const v = outs[i];
        if (!name || v === undefined) return;
        if (Tensor.isTensor(v)) made.push(v);
        known.set(name, v);
      });
      continue;
    }
    const derived = node.outputs.every((name, i) => !name || isIntegerType(outTypes[i] ?? outTypes[0])) &&
      (rule.shapeOnly === true || present.every((n) => known.has(n) || shapeDerived.has(n)));
    if (derived) node.outputs.forEach((name) => name && shapeDerived.add(name));
    const channelsLast = rule.channelsLast?.(ctx) ?? null;
    plan.push({
      run, channelsLast, anyOrder: rule.anyOrder === true, shapeOnly: rule.shapeOnly === true, inputs: node.inputs, outputs: node.outputs, where, shapeDerived: derived,
      epilogue: rule.epilogue?.(ctx) ?? null, fused: rule.fused?.(ctx) ?? null, chain: [],
    });
  }
  epilogueChains(plan, new Set(outputs)).forEach((chain, at) => (plan[at].chain = chain));
  const constants = new Map<string, Value>([...known].filter(([name]) => needed.has(name)));
  for (const o of outputs) {
    const t = types.get(o) ?? DataType.FLOAT;
    if (!isFloatType(t) && !isIntegerType(t)) throw new FormatError(`fromOnnx: output ${o} is ${typeName(t)}`);
  }
  const skeleton = skeletonOf(graph, {
    needed, held: floatInits,
    outputs: outputs.map((name) => ({ name, type: types.get(name) ?? DataType.FLOAT })),
    bound: Object.entries(bound).map(([name, v]) => Tensor.isTensor(v)
      ? { name, dims: [...v.shape], floats: v.data() }
      : v.integer ? { name, dims: [...v.shape], ints: Array.from(v.data, Number) } : { name, dims: [...v.shape], floats: Float32Array.from(v.data) }),
  });
  return new OnnxModel({ inputs, outputs, parameters, buffers, constants, integerInputs, plan, owned: made, laidOut, batchStatistics, engine, skeleton, opset: graph.opset });
}
