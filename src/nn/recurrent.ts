// Recurrent layers over [batch, time, features], with Keras's (and tfjs's) weights and gate
// orders: kernel [features, k·units] for the inputs, recurrentKernel [units, k·units] for the
// state, bias [k·units] (GRU with resetAfter: [2, 3·units], input and recurrent biases). LSTM gates
// i, f, c, o; GRU gates z, r, h. Each step is composed of ops (one matrix product for every time
// step's input projection at once, then per step the state's product, slices and gates), so
// backpropagation through time is the graph's backward: the chain rule back through every step.
import { nodeOf } from "../autograd/graph.js";
import { activate, checkActivation } from "../autograd/ops/activate.js";
import { lstmSequence } from "../autograd/ops/lstm.js";
import { slice, stack } from "../autograd/ops/select.js";
import { checkBoolean, checkCount, checkOptions } from "../check.js";
import { ArgumentError, ShapeError } from "../errors.js";
import type { Activation } from "../autograd/ops/activate.js";
import { type Shape, Tensor, formatShape, zeros } from "../tensor.js";
import { initializers, stateTensor } from "./init.js";
import { type BuildContext, type ForwardOptions, Layer } from "./layer.js";
import { type Config, type OnnxWriter, type TfjsHelpers, codec } from "./codec.js";

export interface RecurrentOptions {
  /** The whole sequence of outputs [batch, time, units], or only the last [batch, units]. Default false. */
  returnSequences?: boolean;
  /** Default "tanh". */
  activation?: Activation;
  /** For the gates (LSTM, GRU): "sigmoid" (Keras ≥ 2.3, PyTorch) or "hardSigmoid" (tfjs's default). Default "sigmoid". */
  recurrentActivation?: Activation;
  /** Default true. */
  useBias?: boolean;
}

export interface GRUOptions extends RecurrentOptions {
  /** Apply the reset gate after the recurrent product (Keras ≥ 2.3, PyTorch, ONNX linear_before_reset) or before (tfjs). Default true. */
  resetAfter?: boolean;
}

/** What a recurrent layer computes for a sequence: its output and its final state(s). */
export interface RecurrentResult {
  output: Tensor;
  /** [h] for SimpleRNN and GRU, [h, c] for LSTM: pass them as the next call's initial state. */
  states: Tensor[];
}

abstract class Recurrent extends Layer {
  readonly returnSequences: boolean;
  readonly activation: Activation;
  readonly recurrentActivation: Activation;
  readonly useBias: boolean;
  kernel: Tensor | null = null;
  recurrentKernel: Tensor | null = null;
  bias: Tensor | null = null;

  constructor(kind: string, readonly units: number, options: RecurrentOptions | undefined, private readonly gates: number) {
    super();
    checkCount(kind, "units", units);
    const o = checkOptions(kind, options);
    this.returnSequences = checkBoolean(kind, "returnSequences", o.returnSequences ?? false);
    this.activation = checkActivation(kind, o.activation ?? "tanh", 0.01).activation;
    this.recurrentActivation = checkActivation(kind, o.recurrentActivation ?? "sigmoid", 0.01).activation;
    this.useBias = checkBoolean(kind, "useBias", o.useBias ?? true);
  }

  /** The bias's shape: [k·units] (GRU with resetAfter: [2, 3·units]). */
  protected biasShape(): number[] {
    return [this.gates * this.units];
  }

  build(inputShape: Shape, { random, engine }: BuildContext): Shape {
    if (inputShape.length !== 2) throw new ShapeError(`${this.kind}: expects inputs of shape [time, features] per sample, got ${formatShape(inputShape)}`);
    const [, features] = inputShape;
    const width = this.gates * this.units;
    const make = (shape: number[], fill: (out: Float32Array) => void, name: string) => stateTensor(engine, shape, `${this.name}.${name}`, fill);
    // Keras's defaults: Glorot-uniform inputs, (here) Glorot-uniform recurrent weights, zero bias
    // (LSTM: forget-gate bias 1, as Keras's unit_forget_bias).
    this.kernel = make([features, width], (o) => initializers.xavierUniform(o, features, width, random), "kernel");
    this.recurrentKernel = make([this.units, width], (o) => initializers.xavierUniform(o, this.units, width, random), "recurrentKernel");
    if (this.useBias) this.bias = make(this.biasShape(), (o) => this.initBias(o), "bias");
    return this.returnSequences ? [inputShape[0], this.units] : [this.units];
  }

  protected initBias(_bias: Float32Array): void {}

  forward(x: Tensor, _options: ForwardOptions): Tensor {
    return this.run(x).output;
  }

  /** The sequence's output and final states, from `initialState` (zeros when omitted). */
  run(x: Tensor, initialState?: Tensor[]): RecurrentResult {
    const [batch, time] = this.checkInput(x);
    const count = this.stateCount();
    const states = initialState ?? this.zeroStates(x);
    if (!Array.isArray(states) || states.length !== count || states.some((s) => !Tensor.isTensor(s) || s.shape.join() !== `${batch},${this.units}`)) {
      throw new ShapeError(`${this.name || this.kind}: initialState must be ${count} tensor(s) of shape [${batch}, ${this.units}]`);
    }
    const width = this.gates * this.units;
    const projected = this.project(x);
    let state = states;
    const outputs: Tensor[] = [];
    for (let t = 0; t < time; t++) {
      const xw = slice(projected, [0, t, 0], [batch, t + 1, width]).reshape([batch, width]);
      state = this.step(xw, state);
      outputs.push(state[0]);
    }
    const output = this.returnSequences ? stack(outputs, 1) : state[0];
    if (!initialState) this.adopt(output, states);
    return { output, states: state };
  }

  /** [batch, time] of a valid input [batch, time, features], or a typed error. */
  protected checkInput(x: Tensor): [number, number] {
    if (!this.kernel) throw new ArgumentError(`${this.name || this.kind}: not built; call it or put it in a model`);
    if (!Tensor.isTensor(x) || x.rank !== 3 || x.shape[2] !== this.kernel.shape[0]) {
      throw new ShapeError(`${this.name || this.kind}: expected inputs [batch, time, ${this.kernel.shape[0]}], got ${Tensor.isTensor(x) ? formatShape(x.shape) : "no tensor"}`);
    }
    if (x.shape[1] === 0) throw new ShapeError(`${this.name || this.kind}: a sequence of no steps has no output`);
    return [x.shape[0], x.shape[1]];
  }

  protected zeroStates(x: Tensor): Tensor[] {
    return Array.from({ length: this.stateCount() }, () => zeros([x.shape[0], this.units], { engine: x.engine }));
  }

  /** Every step's input projection in one product: x·W for [batch·time, features], [batch, time, k·units]. */
  protected project(x: Tensor): Tensor {
    const [batch, time, features] = x.shape;
    return x.reshape([batch * time, features]).matmul(this.kernel!).reshape([batch, time, this.gates * this.units]);
  }

  /** Zero initial states made here are leaves the graph saved: it frees them with its intermediates. */
  protected adopt(output: Tensor, states: Tensor[]): void {
    nodeOf(output)?.adopted.push(...states);
  }

  protected abstract stateCount(): number;
  /** One step: from x·W (this step's input projection) and the states, the new states (h first). */
  protected abstract step(xw: Tensor, states: Tensor[]): Tensor[];

  /** Columns [g·units, (g + 1)·units) of a [batch, k·units] tensor: gate g. */
  protected gate(z: Tensor, g: number): Tensor {
    return slice(z, [0, g * this.units], [z.shape[0], (g + 1) * this.units]);
  }

  protected f(x: Tensor): Tensor {
    return activate(x, this.activation);
  }

  protected fr(x: Tensor): Tensor {
    return activate(x, this.recurrentActivation);
  }

  override describe(): string {
    return `${this.units} units${this.returnSequences ? ", sequences" : ""}`;
  }

  override config(): Record<string, unknown> {
    return { units: this.units, returnSequences: this.returnSequences, activation: this.activation, recurrentActivation: this.recurrentActivation, useBias: this.useBias };
  }
}

/** h = f(x·W + h·U + b) */
export class SimpleRNN extends Recurrent {
  readonly kind = "SimpleRNN";
  constructor(units: number, options?: RecurrentOptions) {
    super("SimpleRNN", units, options, 1);
  }
  protected stateCount(): number {
    return 1;
  }
  protected step(xw: Tensor, [h]: Tensor[]): Tensor[] {
    let z = xw.add(h.matmul(this.recurrentKernel!));
    if (this.bias) z = z.add(this.bias);
    return [this.f(z)];
  }
}

/** Long short-term memory (Hochreiter & Schmidhuber 1997), gates i, f, c, o as Keras orders them. */
export class LSTM extends Recurrent {
  readonly kind = "LSTM";
  constructor(units: number, options?: RecurrentOptions) {
    super("LSTM", units, options, 4);
  }
  protected override initBias(bias: Float32Array): void {
    bias.fill(1, this.units, 2 * this.units); // the forget gate starts open (Keras's unit_forget_bias)
  }
  protected stateCount(): number {
    return 2;
  }
  /** With Keras's default activations, the whole sequence is one fused node (ops/lstm.ts); run() composes ops. */
  override forward(x: Tensor, options: ForwardOptions): Tensor {
    if (this.activation !== "tanh" || this.recurrentActivation !== "sigmoid") return super.forward(x, options);
    const [batch, time] = this.checkInput(x);
    const projected = this.bias ? this.project(x).add(this.bias) : this.project(x);
    const states = this.zeroStates(x);
    const hs = lstmSequence(projected, this.recurrentKernel!, states[0], states[1]);
    this.adopt(hs, states);
    return this.returnSequences ? hs : slice(hs, [0, time - 1, 0], [batch, time, this.units]).reshape([batch, this.units]);
  }
  protected step(xw: Tensor, [h, c]: Tensor[]): Tensor[] {
    let z = xw.add(h.matmul(this.recurrentKernel!));
    if (this.bias) z = z.add(this.bias);
    const i = this.fr(this.gate(z, 0));
    const f = this.fr(this.gate(z, 1));
    const candidate = this.f(this.gate(z, 2));
    const o = this.fr(this.gate(z, 3));
    const next = f.mul(c).add(i.mul(candidate)); // c ← f·c + i·c̃
    return [o.mul(this.f(next)), next]; // h = o·f(c)
  }
}

/** Gated recurrent unit (Cho et al. 2014), gates z, r, h as Keras orders them. */
export class GRU extends Recurrent {
  readonly kind = "GRU";
  readonly resetAfter: boolean;
  constructor(units: number, options?: GRUOptions) {
    super("GRU", units, options, 3);
    this.resetAfter = checkBoolean("GRU", "resetAfter", checkOptions("GRU", options).resetAfter ?? true);
  }
  protected override biasShape(): number[] {
    return this.resetAfter ? [2, 3 * this.units] : [3 * this.units];
  }
  protected stateCount(): number {
    return 1;
  }
  protected step(xw: Tensor, [h]: Tensor[]): Tensor[] {
    const u = this.units;
    const U = this.recurrentKernel!;
    const [inputBias, recurrentBias] = !this.bias ? [null, null]
      : this.resetAfter ? [slice(this.bias, [0, 0], [1, 3 * u]), slice(this.bias, [1, 0], [2, 3 * u])] : [this.bias, null];
    const mx = inputBias ? xw.add(inputBias) : xw;
    let z: Tensor, r: Tensor, candidate: Tensor;
    if (this.resetAfter) {
      // r applies to (h·U_h + b_h): one product for all three gates.
      const mh = recurrentBias ? h.matmul(U).add(recurrentBias) : h.matmul(U);
      z = this.fr(this.gate(mx, 0).add(this.gate(mh, 0)));
      r = this.fr(this.gate(mx, 1).add(this.gate(mh, 1)));
      candidate = this.f(this.gate(mx, 2).add(r.mul(this.gate(mh, 2))));
    } else {
      // r applies to h before its product with U_h.
      const uzr = slice(U, [0, 0], [u, 2 * u]);
      const uh = slice(U, [0, 2 * u], [u, 3 * u]);
      const hzr = h.matmul(uzr);
      z = this.fr(this.gate(mx, 0).add(slice(hzr, [0, 0], [h.shape[0], u])));
      r = this.fr(this.gate(mx, 1).add(slice(hzr, [0, u], [h.shape[0], 2 * u])));
      candidate = this.f(this.gate(mx, 2).add(r.mul(h).matmul(uh)));
    }
    return [z.mul(h).add(z.neg().add(1).mul(candidate))]; // h ← z·h + (1 − z)·h̃
  }
  override config(): Record<string, unknown> {
    return { ...super.config(), resetAfter: this.resetAfter };
  }
}

/** tfjs's options of a recurrent layer; what wasmgrad does not have is a FormatError. */
function tfjsRecurrent(c: Config, h: TfjsHelpers): RecurrentOptions {
  for (const flag of ["return_state", "go_backwards", "stateful", "unroll"] as const) if (c[flag]) h.fail(`${flag} is not supported`);
  for (const rate of ["dropout", "recurrent_dropout"] as const) if (Number(c[rate] ?? 0) > 0) h.fail(`${rate} > 0 is not supported`);
  return { returnSequences: c.return_sequences === true, activation: h.activation(c.activation ?? "tanh"), useBias: c.use_bias !== false };
}

function tfjsRecurrentConfig(l: Recurrent, base: Config, h: TfjsHelpers, gated: boolean): Config {
  return {
    ...base, units: l.units, activation: h.tfjsActivation(l.activation), ...(gated ? { recurrent_activation: h.tfjsActivation(l.recurrentActivation) } : {}),
    use_bias: l.useBias, return_sequences: l.returnSequences, return_state: false, go_backwards: false, stateful: false, unroll: false, dropout: 0, recurrent_dropout: 0,
  };
}

/** ONNX's names for the activations a recurrent op takes (HardSigmoid's defaults are Keras's 0.2 and 0.5). */
const ONNX_RECURRENT_ACTIVATIONS: Partial<Record<Activation, string>> = { sigmoid: "Sigmoid", tanh: "Tanh", relu: "Relu", hardSigmoid: "HardSigmoid" };

/**
 * The layer as ONNX's RNN, GRU or LSTM op: W [1, G·u, features], R [1, G·u, u] (our kernels
 * transposed, gates in ONNX's order), B [1, 2·G·u] (input biases, recurrent biases), inputs and
 * outputs transposed between our [batch, time, ·] and ONNX's time-major layout.
 */
function recurrentOnnx(l: Recurrent, input: string, w: OnnxWriter, op: "RNN" | "GRU" | "LSTM", order: number[], resetAfter = false): string {
  const u = l.units, G = order.length, features = w.shape[1];
  const K = l.kernel!.data(), U = l.recurrentKernel!.data();
  const W = new Float32Array(G * u * features), R = new Float32Array(G * u * u), B = new Float32Array(2 * G * u);
  for (let g = 0; g < G; g++) for (let j = 0; j < u; j++) {
    const col = order[g] * u + j, row = g * u + j;
    for (let f = 0; f < features; f++) W[row * features + f] = K[f * G * u + col];
    for (let k = 0; k < u; k++) R[row * u + k] = U[k * G * u + col];
  }
  // A GRU with resetAfter has two bias rows, [2, 3·u]: the input's and the recurrent product's.
  const bias = l.bias?.data();
  const inputBias = bias && resetAfter ? bias.subarray(0, G * u) : bias;
  const recurrentBias = bias && resetAfter ? bias.subarray(G * u) : null;
  for (let g = 0; g < G; g++) for (let j = 0; j < u; j++) {
    if (inputBias) B[g * u + j] = inputBias[order[g] * u + j];
    if (recurrentBias) B[G * u + g * u + j] = recurrentBias[order[g] * u + j];
  }
  const name = (a: Activation) => ONNX_RECURRENT_ACTIVATIONS[a] ?? w.fail(`activation ${a} has no ONNX ${op} equivalent`);
  const activations = op === "RNN" ? [name(l.activation)] : op === "GRU" ? [name(l.recurrentActivation), name(l.activation)] : [name(l.recurrentActivation), name(l.activation), name(l.activation)];
  const attributes = [{ name: "hidden_size", i: u }, { name: "activations", strings: activations }];
  if (resetAfter) attributes.push({ name: "linear_before_reset", i: 1 });
  const [timeMajor] = w.node("Transpose", [input], [{ name: "perm", ints: [1, 0, 2] }]);
  const [y, yh] = w.node(op, [timeMajor, w.weight("W", [1, G * u, features], W), w.weight("R", [1, G * u, u], R), w.weight("B", [1, 2 * G * u], B)], attributes, 2);
  if (!l.returnSequences) return w.node("Squeeze", [yh, w.int64s("axes0", [0])])[0]; // [1, batch, u] → [batch, u]
  const [steps] = w.node("Squeeze", [y, w.int64s("axes1", [1])]); // [time, 1, batch, u] → [time, batch, u]
  return w.node("Transpose", [steps], [{ name: "perm", ints: [1, 0, 2] }])[0];
}

export const simpleRnnCodec = codec<SimpleRNN>({
  kind: "SimpleRNN",
  fromConfig: (c) => new SimpleRNN(c.units as number, c as never),
  tfjs: {
    classNames: ["SimpleRNN"],
    fields: { kernel: "kernel" },
    read: (_, c, h) => new SimpleRNN(c.units as number, tfjsRecurrent(c, h)),
    write: (l, base, h) => ({ class_name: "SimpleRNN", config: tfjsRecurrentConfig(l, base, h, false) }),
  },
  onnx: (l, input, w) => recurrentOnnx(l, input, w, "RNN", [0]),
});

export const lstmCodec = codec<LSTM>({
  kind: "LSTM",
  fromConfig: (c) => new LSTM(c.units as number, c as never),
  tfjs: {
    classNames: ["LSTM"],
    fields: { kernel: "kernel" },
    read: (_, c, h) => new LSTM(c.units as number, { ...tfjsRecurrent(c, h), recurrentActivation: h.activation(c.recurrent_activation ?? "hardSigmoid") }),
    write: (l, base, h) => ({ class_name: "LSTM", config: tfjsRecurrentConfig(l, base, h, true) }),
  },
  onnx: (l, input, w) => recurrentOnnx(l, input, w, "LSTM", [0, 3, 1, 2]), // ONNX's i, o, f, c from our i, f, c, o
});

export const gruCodec = codec<GRU>({
  kind: "GRU",
  fromConfig: (c) => new GRU(c.units as number, c as never),
  tfjs: {
    classNames: ["GRU"],
    fields: { kernel: "kernel" },
    // tfjs writes no reset_after: its GRU resets before the recurrent product.
    read: (_, c, h) => new GRU(c.units as number, { ...tfjsRecurrent(c, h), recurrentActivation: h.activation(c.recurrent_activation ?? "hardSigmoid"), resetAfter: c.reset_after === true }),
    write(l, base, h) {
      if (l.resetAfter) h.fail("tfjs's GRU resets before the recurrent product only; make the GRU with resetAfter: false");
      return { class_name: "GRU", config: tfjsRecurrentConfig(l, base, h, true) };
    },
  },
  onnx: (l, input, w) => recurrentOnnx(l, input, w, "GRU", [0, 1, 2], l.resetAfter), // resetAfter is ONNX's linear_before_reset
});
