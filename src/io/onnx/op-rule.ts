// The shape of one entry of the ONNX op table: how to build a node's step once, at import, from
// its attributes and its opset (so forward() decodes nothing), and what the node's inputs and
// outputs are (which must be floats, which initialisers are buffers, what types come out).
import type { Engine } from "../../backend/engine.js";
import type { Tensor } from "../../tensor.js";
import type { Activation } from "../../autograd/ops/activate.js";
import type { LaidOut } from "./laid-out.js";
import { FormatError } from "../../errors.js";
import { DataType, type Attributes, type OnnxNode } from "./graph.js";
import type { Flowing, Value } from "./values.js";

/** What a step sees when it runs: the model's mode. */
export interface RunContext {
  /** model.train() was called: dropout drops; BatchNorm uses batch statistics if batchStatistics. */
  training: boolean;
  /** BatchNorm normalises by the batch's own statistics while training (and updates its running ones). */
  batchStatistics: boolean;
}

/** A node's work: its inputs' values ("" inputs undefined) to its outputs' values. */
export type Step = (args: (Value | undefined)[], run: RunContext) => (Value | undefined)[];

/**
 * A node's step on inputs of which some may be channels-last: its outputs (channels-last where
 * they are 4-D), or null where it has no channels-last form for these inputs (then its planar step
 * runs, on inputs made NCHW).
 */
export type ChannelsLastStep = (args: (Flowing | undefined)[], run: RunContext) => (Flowing | undefined)[] | null;

/** What a rule's build reads: the node, its attributes, the model's opset. */
export interface BuildContext {
  node: OnnxNode;
  attrs: Attributes;
  opset: number;
  where: string;
  /** The element types of the node's inputs (0 for an absent one). */
  inputTypes: number[];
  /** Input i's value when it is known at import (a constant, an integer initialiser, a folded node). */
  constant(i: number): Value | undefined;
  /** The model's engine: where the tensors a step makes (constants, converted integers) live. */
  engine: Engine;
  /** Output i is read by the requested outputs (an op may skip work no one reads: LSTM's Y_c). */
  used(i: number): boolean;
  /** Input i is one of the model's float initialisers (a weight: what laidOut may keep a copy of). */
  initializer(i: number): boolean;
  /** Copies laid out from weights, made once per version of them and freed with the model (laid-out.ts). */
  laidOut(make: (sources: readonly Tensor[]) => Tensor[]): LaidOut;
}

/**
 * A per-channel map y = x·scale + shift that a node applies to its input (BatchNormalization with
 * its running statistics): `scaleShift(sources)` gives [scale, shift], each [C], from `sources`
 * alone, so what is folded from them can be kept until one of them changes.
 */
export interface Affine {
  sources: Tensor[];
  scaleShift(sources: readonly Tensor[]): [Tensor, Tensor];
}

/**
 * What a node does to its input 0 when that can go into the output pass of the Conv making it, at
 * inference (fusion.ts): a per-channel affine map, a clamp (Relu [0, ∞], Clip), or an activation
 * of the table (HardSwish, Swish). Null for these arguments (batch statistics, bounds that are not
 * known): the node runs as itself.
 */
export type Epilogue = (args: (Value | undefined)[], run: RunContext) =>
  { affine: Affine } | { clamp: readonly [number, number] } | { activation: Activation } | null;

/**
 * What a conv's output pass takes on at inference: a folded affine map, then a clamp (both as the
 * GEMM stores its output), then an activation (on the output in place, while it is in cache).
 */
export interface ConvEpilogue {
  affine: Affine | null;
  clamp: readonly [number, number];
  activation: Activation | null;
}

/** A Conv with an epilogue, at inference: its output, or null where it must run as itself (a gradient is wanted, an unusual window). */
export type FusedStep = (args: (Flowing | undefined)[], epilogue: ConvEpilogue) => Flowing | null;

export interface OpRule {
  /** The oldest opset whose semantics this rule reads (the op's first version, or 7). */
  since: number;
  /** The newest opset it reads, where a later version changed what the op means. Default MAX_OPSET. */
  until?: number;
  build(ctx: BuildContext): Step;
  /** Inputs that must be floats (an integer there is a FormatError at import). Default [0]. */
  floats?: number[];
  /** Inputs whose float initialisers are state, not trained (running statistics, bounds, scales). */
  buffers?: number[];
  /** The outputs' element types. Default: every output has input 0's type (float without inputs). */
  types?(ctx: BuildContext): number[];
  /** Its outputs follow from its inputs' shapes alone (Shape, Size). */
  shapeOnly?: true;
  /** Its channels-last form (channels-last.ts), tried before build's step whenever the node runs. */
  channelsLast?(ctx: BuildContext): ChannelsLastStep;
  /**
   * Its channels-last form takes values held in any order (Permuted: Reshape, Transpose), not
   * only channels-last ones; any other rule's gets those made planar first.
   */
  anyOrder?: true;
  /** It can be taken into the output pass of the Conv before it (fusion.ts). */
  epilogue?(ctx: BuildContext): Epilogue;
  /** It can take the epilogues of the nodes after it (a Conv: fusion.ts). */
  fused?(ctx: BuildContext): FusedStep;
}

export const FLOAT_OUT = (): number[] => [DataType.FLOAT];
export const INT64_OUT = (): number[] => [DataType.INT64];
export const BOOL_OUT = (): number[] => [DataType.BOOL];

/** A FormatError naming the node: what it has that wasmgrad cannot run, and why. */
export const refuse = (ctx: { where: string }, what: string): never => {
  throw new FormatError(`${ctx.where}: ${what}`);
};
