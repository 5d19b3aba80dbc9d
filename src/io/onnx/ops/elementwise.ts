// ONNX's elementwise ops: arithmetic with NumPy broadcasting (on integers too, for shape
// arithmetic), the unary maths and activations, the n-ary Sum/Mean/Max/Min, Clip, and the
// comparisons and logic, which give integers (masks) and no gradient. Activations whose ONNX
// parameters wasmgrad's fused kernels do not take are composed from differentiable ops.
import { activate } from "../../../autograd/ops/activate.js";
import { erf } from "../../../autograd/ops/arithmetic.js";
import { where as select } from "../../../autograd/ops/select.js";
import { broadcastShapes } from "../../../autograd/ops/shape.js";
import { type Tensor, tensor } from "../../../tensor.js";
import { DataType, isIntegerType } from "../graph.js";
import { BOOL_OUT, type BuildContext, type OpRule, refuse } from "../op-rule.js";
import { elementwiseChannelsLast } from "../channels-last.js";
import { ChannelsLast, type Ints, type Value, asTensor, intsElementwise, isChannelsLast, isInts, isPermuted, numbersOf } from "../values.js";

/** A float op of one input. */
const unary = (f: (x: Tensor, ctx: BuildContext) => Tensor): OpRule => ({
  since: 6,
  build: (ctx) => (args) => [f(asTensor(args[0], ctx, "input"), ctx)],
  channelsLast: (ctx) => elementwiseChannelsLast((x) => f(x, ctx)),
});

/** A float op of one input that integers may take too (shape arithmetic). */
const numeric = (f: (x: Tensor) => Tensor, g: (v: number) => number): OpRule => ({
  since: 6,
  floats: [],
  build: (ctx) => (args) => [isInts(args[0]) ? intsElementwise([args[0]], ([v]) => g(v), ctx.where) : f(asTensor(args[0], ctx, "input"))],
  channelsLast: () => elementwiseChannelsLast(f),
});

/** The operands broadcast to one shape (where() and the comparisons need it). */
function broadcastAll(ts: Tensor[], where: string): Tensor[] {
  const dims = ts.reduce((d: readonly number[], t) => broadcastShapes(where, d, t.shape), []);
  return ts.map((t) => (t.shape.join() === dims.join() ? t : t.broadcastTo(dims)));
}

/**
 * B as opset 6's `broadcast` attribute reads it: its shape a run of A's axes from `axis` (the
 * trailing ones by default), given ones for the rest; from opset 7 NumPy broadcasting needs none.
 */
function legacyBroadcast(ctx: BuildContext, a: Value, b: Value): Value {
  if (ctx.opset >= 7 || ctx.attrs.int("broadcast", 0) !== 1) return b;
  const [ra, bd] = [(isInts(a) ? a.dims : a.shape).length, isInts(b) ? b.dims : [...b.shape]];
  const axis = ctx.attrs.int("axis", ra - bd.length);
  const dims = [...new Array<number>(axis).fill(1), ...bd, ...new Array<number>(Math.max(ra - axis - bd.length, 0)).fill(1)];
  return isInts(b) ? { ints: b.ints, dims } : b.reshape(dims);
}

/** a, b elementwise: on tensors by `f` (broadcasting ops), on integers by `g`. */
const binary = (f: (a: Tensor, b: Tensor) => Tensor, g: (a: number, b: number) => number): OpRule => ({
  since: 6,
  floats: [],
  build: (ctx) => (args) => {
    const a = args[0], b = args[1] && args[0] ? legacyBroadcast(ctx, args[0], args[1]) : args[1];
    if (isInts(a) && isInts(b)) return [intsElementwise([a, b], ([x, y]) => g(x, y), ctx.where)];
    return [f(asTensor(a, ctx, "A"), asTensor(b, ctx, "B"))];
  },
  // Opset 6's broadcast attribute lines B up with A's axes by position: the planar step reads it.
  channelsLast: (ctx) => (ctx.opset < 7 && ctx.attrs.int("broadcast", 0) === 1 ? () => null : elementwiseChannelsLast(f)),
});

/** The larger (or smaller) of a and b, the gradient to the one chosen (a on ties). */
function extreme(a: Tensor, b: Tensor, largest: boolean, where: string): Tensor {
  const [x, y] = broadcastAll([a, b], where);
  const xs = x.data(), ys = y.data();
  const chooseX = tensor(Float32Array.from(xs, (v, i) => (Number.isNaN(v) || (largest ? v >= ys[i] : v <= ys[i]) ? 1 : 0)), { shape: x.shape, engine: x.engine });
  return select(chooseX, x, y);
}

/** Sum, Mean, Max, Min over any number of inputs, broadcast. */
const nary = (combine: (a: Tensor, b: Tensor, where: string) => Tensor, g: (a: number, b: number) => number, mean = false): OpRule => {
  const combineAll = (ts: Tensor[], where: string) => {
    let y = ts.slice(1).reduce((acc, t) => combine(acc, t, where), ts[0]);
    if (ts.length === 1) y = y.mul(1); // a new tensor: outputs never alias inputs
    return mean ? y.div(ts.length) : y;
  };
  return {
  since: 6,
  floats: [],
  build: (ctx) => (args) => {
    const present = args.filter((a): a is Value => a !== undefined);
    if (present.length === 0) refuse(ctx, "no inputs");
    if (present.every(isInts)) return [present.slice(1).reduce((acc: Ints, v) => intsElementwise([acc, v as Ints], ([x, y]) => g(x, y), ctx.where), present[0] as Ints)];
    const ts = present.map((v) => asTensor(v, ctx, "input"));
    return [combineAll(ts, ctx.where)];
  },
  channelsLast: (ctx) => elementwiseChannelsLast((...ts) => combineAll(ts, ctx.where)),
  };
};

/** The scalar value of an optional input (Clip's bounds, Pow's exponent), or undefined. */
export function scalarOf(v: Value | undefined, where: string, what: string): number | undefined {
  if (v === undefined) return undefined;
  const values = numbersOf(v, where, what).ints;
  if (values.length !== 1) refuse({ where }, `${what} must be one value, got ${values.length}`);
  return values[0];
}

/** A comparison or logic op: integers (0/1) out, read from the inputs' values; no gradient. */
const compare = (f: (a: number, b: number) => boolean, since = 7): OpRule => ({
  since,
  floats: [],
  types: BOOL_OUT,
  build: (ctx) => (args) => {
    const [a, b] = [numbersOf(args[0], ctx.where, "A"), numbersOf(args[1], ctx.where, "B")];
    return [intsElementwise([a, b], ([x, y]) => (f(x, y) ? 1 : 0), ctx.where)];
  },
});

const relu = (x: Tensor) => x.relu();
/** α·x for x < 0 for any α (wasmgrad's leakyRelu takes 0 ≤ α < 1). */
export const leaky = (x: Tensor, alpha: number) => (alpha >= 0 && alpha < 1 ? x.leakyRelu(alpha) : x.relu().sub(x.neg().relu().mul(alpha)));
/** α(eˣ − 1) for x < 0: the elu activation for α = 1, else relu(x) + α(e^min(x, 0) − 1). */
export const elu = (x: Tensor, alpha: number) => (alpha === 1 ? activate(x, "elu") : x.relu().add(x.neg().relu().neg().exp().sub(1).mul(alpha)));
/** clip(αx + β, 0, 1): the hardSigmoid activation for ONNX's defaults (Keras's 0.2 and 0.5), else composed. */
export const hardSigmoid = (x: Tensor, alpha: number, beta: number) =>
  alpha === Math.fround(0.2) && beta === 0.5 ? activate(x, "hardSigmoid") : x.mul(alpha).add(beta).clip(0, 1);

/** x / (1 + |x|) */
export const softsign = (x: Tensor) => x.div(x.abs().add(1));

const gelu = (ctx: BuildContext) => {
  const approximate = ctx.attrs.string("approximate", "none");
  if (approximate !== "none" && approximate !== "tanh") refuse(ctx, `approximate ${approximate}`);
  return (x: Tensor) => approximate === "none"
    ? activate(x, "gelu")
    : x.mul(x.pow(3).mul(0.044715).add(x).mul(Math.sqrt(2 / Math.PI)).tanh().add(1)).mul(0.5);
};

/** Pow: a constant exponent is one pow kernel; a varying one is e^(b·ln a). */
const pow: OpRule = {
  since: 6,
  floats: [],
  build: (ctx) => (args): Value[] => {
    const a = args[0], b = args[1] && args[0] ? legacyBroadcast(ctx, args[0], args[1]) : args[1];
    if (isInts(a) && isInts(b)) return [intsElementwise([a, b], ([x, y]) => x ** y, ctx.where)];
    const base = asTensor(a, ctx, "X");
    const exponent = numbersOf(b, ctx.where, "the exponent"), e = exponent.ints;
    if (e.length > 0 && e.every((v) => v === e[0])) {
      const dims = broadcastShapes(ctx.where, base.shape, exponent.dims);
      const y = e[0] === 2 ? base.square() : e[0] === 1 ? base.mul(1) : base.pow(e[0]);
      return [y.shape.join() === dims.join() ? y : y.broadcastTo(dims)];
    }
    return [base.log().mul(asTensor(b, ctx, "Y")).exp()];
  },
};

const clip: OpRule = {
  since: 6,
  floats: [],
  buffers: [1, 2],
  build: (ctx) => (args) => {
    const [lo, hi] = clipBounds(ctx, args);
    const x = args[0];
    if (isInts(x)) return [intsElementwise([x], ([v]) => Math.min(Math.max(v, lo), hi), ctx.where)];
    return [clipTensor(asTensor(x, ctx, "input"), lo, hi)];
  },
  channelsLast: (ctx) => (args) => {
    const x = args[0];
    if (!isChannelsLast(x)) return null;
    const [lo, hi] = clipBounds(ctx, args as Value[]);
    return [new ChannelsLast(clipTensor(x.nhwc, lo, hi))];
  },
  // In the Conv's output pass at inference (ReLU6), unless min > max (then every value is max).
  epilogue: (ctx) => (args) => {
    const [lo, hi] = clipBounds(ctx, args);
    return lo <= hi ? { clamp: [lo, hi] } : null;
  },
};

/** Clip's bounds: attributes before opset 11, optional inputs from it. */
function clipBounds(ctx: BuildContext, args: readonly (Value | undefined)[]): [number, number] {
  if (ctx.opset < 11) return [ctx.attrs.float("min", -Infinity), ctx.attrs.float("max", Infinity)];
  return [scalarOf(args[1], ctx.where, "min") ?? -Infinity, scalarOf(args[2], ctx.where, "max") ?? Infinity];
}

/** ONNX: every value becomes max when min > max. */
const clipTensor = (t: Tensor, lo: number, hi: number) => (lo > hi ? t.mul(0).add(hi) : t.clip(lo, hi));

const cast: (like: boolean) => OpRule = (like) => ({
  since: 6,
  floats: [],
  types: (ctx) => [like ? ctx.inputTypes[1] : ctx.attrs.int("to", 0)],
  build: (ctx) => {
    const to = like ? ctx.inputTypes[1] : ctx.attrs.int("to", 0);
    const toFloat = to === DataType.FLOAT || to === DataType.DOUBLE || to === DataType.FLOAT16;
    if (!toFloat && !isIntegerType(to)) refuse(ctx, `cast to type ${to}; wasmgrad holds floats and integers`);
    const wrap = to === DataType.BOOL ? (v: number) => (v !== 0 ? 1 : 0) : (v: number) => (Number.isNaN(v) ? 0 : Math.trunc(v));
    return (args): Value[] => {
      const x = args[0];
      if (toFloat) return [isInts(x) ? asTensor(x, ctx, "input") : asTensor(x, ctx, "input").mul(1)];
      const n = numbersOf(x, ctx.where, "input");
      return [{ ints: n.ints.map(wrap), dims: n.dims }];
    };
  },
});

const whereOp: OpRule = {
  since: 9,
  floats: [],
  types: (ctx) => [ctx.inputTypes[1]],
  build: (ctx) => (args) => {
    const cond = numbersOf(args[0], ctx.where, "condition");
    const [a, b] = [args[1], args[2]];
    if (isInts(a) && isInts(b)) return [intsElementwise([cond, a, b], ([c, x, y]) => (c ? x : y), ctx.where)];
    const [c, x, y] = broadcastAll([asTensor(cond, ctx, "condition"), asTensor(a, ctx, "X"), asTensor(b, ctx, "Y")], ctx.where);
    return [select(c, x, y)];
  },
};

/**
 * Mod: the remainder a − b·q, q = trunc(a/b) (fmod 1, C's fmod) or floor(a/b) (fmod 0, the
 * sign of the divisor, integers only in ONNX). On floats q is piecewise constant: the gradient
 * is 1 to a and −q to b.
 */
const mod: OpRule = {
  since: 10,
  floats: [],
  build: (ctx) => {
    const fmod = ctx.attrs.int("fmod", 0) === 1;
    const quotient = fmod ? Math.trunc : Math.floor;
    return (args) => {
      const [a, b] = [args[0], args[1]];
      if (isInts(a) && isInts(b)) return [intsElementwise([a, b], ([x, y]) => (y === 0 ? 0 : x - y * quotient(x / y)), ctx.where)];
      const [x, y] = broadcastAll([asTensor(a, ctx, "A"), asTensor(b, ctx, "B")], ctx.where);
      const xs = x.data(), ys = y.data(), engine = x.engine;
      const qs = Float32Array.from(xs, (v, i) => quotient(v / ys[i]));
      // Where a value or the quotient is not finite, the remainder is C's (or NumPy's) by definition, not by arithmetic.
      const exact = Float32Array.from(xs, (v, i) => remainder(v, ys[i], fmod));
      const arithmetic = Float32Array.from(qs, (q, i) => (Number.isFinite(q) && Number.isFinite(xs[i]) && Number.isFinite(ys[i]) && ys[i] !== 0 ? 1 : 0));
      const y0 = x.sub(y.mul(tensor(qs.map((q, i) => (arithmetic[i] ? q : 0)), { shape: x.shape, engine })));
      if (arithmetic.every((m) => m === 1)) return [y0];
      return [select(tensor(arithmetic, { shape: x.shape, engine }), y0, tensor(exact, { shape: x.shape, engine }))];
    };
  },
};

/** C's fmod (fmod 1), or NumPy's mod, which takes the divisor's sign (fmod 0). */
function remainder(a: number, b: number, fmod: boolean): number {
  const r = a % b;
  return fmod || r === 0 || Number.isNaN(r) || (r < 0) === (b < 0) ? r : r + b;
}

const not: OpRule = { since: 6, floats: [], types: BOOL_OUT, build: (ctx) => (args) => [intsElementwise([numbersOf(args[0], ctx.where, "X")], ([v]) => (v ? 0 : 1), ctx.where)] };

export const ELEMENTWISE_OPS: Record<string, OpRule> = {
  Identity: { since: 6, floats: [], build: () => (args) => [args[0]], anyOrder: true, channelsLast: () => (args) => (isPermuted(args[0]) ? [args[0]] : null) },
  Add: binary((a, b) => a.add(b), (a, b) => a + b),
  Sub: binary((a, b) => a.sub(b), (a, b) => a - b),
  Mul: binary((a, b) => a.mul(b), (a, b) => a * b),
  Div: binary((a, b) => a.div(b), (a, b) => Math.trunc(a / b)),
  Pow: pow,
  Mod: mod,
  Neg: numeric((x) => x.neg(), (v) => -v),
  Abs: numeric((x) => x.abs(), (v) => Math.abs(v)),
  Sqrt: unary((x) => x.sqrt()),
  Reciprocal: unary((x) => tensor(1, { engine: x.engine }).div(x)),
  Exp: unary((x) => x.exp()),
  Log: unary((x) => x.log()),
  Erf: unary((x) => erf(x)),
  Relu: { ...unary(relu), epilogue: () => () => ({ clamp: [0, Infinity] }) },
  Sigmoid: unary((x) => x.sigmoid()),
  Tanh: unary((x) => x.tanh()),
  LeakyRelu: unary((x, ctx) => leaky(x, ctx.attrs.float("alpha", 0.01))),
  Elu: unary((x, ctx) => elu(x, ctx.attrs.float("alpha", 1))),
  Selu: unary((x, ctx) => elu(x, ctx.attrs.float("alpha", 1.67326319217681884765625)).mul(ctx.attrs.float("gamma", 1.05070102214813232421875))),
  Celu: { ...unary((x, ctx) => { const a = ctx.attrs.float("alpha", 1); return x.relu().add(x.neg().relu().neg().div(a).exp().sub(1).mul(a)); }), since: 12 },
  Softplus: unary((x) => activate(x, "softplus")),
  Softsign: unary(softsign),
  Mish: { ...unary((x) => x.mul(activate(x, "softplus").tanh())), since: 18 },
  HardSigmoid: unary((x, ctx) => hardSigmoid(x, ctx.attrs.float("alpha", Math.fround(0.2)), ctx.attrs.float("beta", 0.5))),
  HardSwish: { ...unary((x) => activate(x, "hardSwish")), since: 14, epilogue: () => () => ({ activation: "hardSwish" }) },
  // x·σ(αx); also x·σ(x) written as a Sigmoid and a Mul (PyTorch's SiLU: patterns.ts).
  Swish: {
    ...unary((x, ctx) => {
      const alpha = ctx.attrs.float("alpha", 1);
      return alpha === 1 ? activate(x, "silu") : x.mul(x.mul(alpha).sigmoid());
    }),
    since: 24,
    epilogue: (ctx) => () => (ctx.attrs.float("alpha", 1) === 1 ? { activation: "silu" } : null),
  },
  Gelu: { since: 20, build: (ctx) => { const f = gelu(ctx); return (args) => [f(asTensor(args[0], ctx, "input"))]; }, channelsLast: (ctx) => elementwiseChannelsLast(gelu(ctx)) },
  PRelu: {
    since: 6,
    floats: [0, 1],
    build: (ctx) => (args) => {
      const x = asTensor(args[0], ctx, "X"), slope = asTensor(args[1], ctx, "slope");
      // In opset 6 a slope [C] lines up with axis 1 (unidirectional broadcasting from opset 7 on).
      const s = ctx.opset < 7 && slope.rank === 1 && x.rank > 2 && slope.shape[0] === x.shape[1] ? slope.reshape([slope.shape[0], ...x.shape.slice(2).map(() => 1)]) : slope;
      return [x.relu().sub(x.neg().relu().mul(s))];
    },
  },
  Clip: clip,
  Sum: nary((a, b) => a.add(b), (a, b) => a + b),
  Mean: nary((a, b) => a.add(b), (a, b) => a + b, true),
  Max: nary((a, b, w) => extreme(a, b, true, w), Math.max),
  Min: nary((a, b, w) => extreme(a, b, false, w), Math.min),
  Cast: cast(false),
  CastLike: { ...cast(true), since: 15 },
  Where: whereOp,
  Not: not,
  Equal: compare((a, b) => a === b),
  Less: compare((a, b) => a < b),
  Greater: compare((a, b) => a > b),
  LessOrEqual: compare((a, b) => a <= b, 12),
  GreaterOrEqual: compare((a, b) => a >= b, 12),
  And: compare((a, b) => !!a && !!b),
  Or: compare((a, b) => !!a || !!b),
  Xor: compare((a, b) => !!a !== !!b),
};
