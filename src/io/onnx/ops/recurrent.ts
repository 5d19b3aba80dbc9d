// ONNX's recurrent ops, LSTM, GRU and RNN, forward, reverse and bidirectional, with initial
// states, biases and either layout. ONNX stores each direction's weights as W [G·H, I] and
// R [G·H, H] with its own gate order (LSTM i, o, f, c; GRU z, r, h). An LSTM with the default
// activations whose last cell state no one reads runs on wasmgrad's fused sequence kernel
// (ops/lstm.ts, gates reordered to i, f, c, o); everything else — peepholes, clip, input_forget,
// other activations, GRU, RNN — is composed step by step of differentiable ops, as the ONNX
// equations are written. Gradients reach X, W, R, B, P and the initial states.
import { lstmSequence } from "../../../autograd/ops/lstm.js";
import { concat, slice, stack } from "../../../autograd/ops/select.js";
import { type Tensor, zeros } from "../../../tensor.js";
import type { BuildContext, OpRule, Step } from "../op-rule.js";
import { refuse } from "../op-rule.js";
import { asTensor, numbersOf } from "../values.js";
import { elu, hardSigmoid, leaky, softsign } from "./elementwise.js";

type Activation = (x: Tensor) => Tensor;

/** The activations the recurrent ops take by name: (alpha, beta) → f, the elementwise ops' own where ONNX has them. */
const ACTIVATIONS: Record<string, { alpha?: number; beta?: number; make: (alpha: number, beta: number) => Activation }> = {
  Sigmoid: { make: () => (x) => x.sigmoid() },
  Tanh: { make: () => (x) => x.tanh() },
  Relu: { make: () => (x) => x.relu() },
  HardSigmoid: { alpha: 0.2, beta: 0.5, make: (a, b) => (x) => hardSigmoid(x, a, b) },
  LeakyRelu: { alpha: 0.01, make: (a) => (x) => leaky(x, a) },
  Elu: { alpha: 1, make: (a) => (x) => elu(x, a) },
  Softsign: { make: () => softsign },
  Affine: { alpha: 1, beta: 0, make: (a, b) => (x) => x.mul(a).add(b) },
  ScaledTanh: { alpha: 1, beta: 1, make: (a, b) => (x) => x.mul(b).tanh().mul(a) },
};

interface Spec {
  /** Gates per direction, and the activations each direction takes. */
  gates: number;
  activations: string[];
}
const SPECS = { LSTM: { gates: 4, activations: ["Sigmoid", "Tanh", "Tanh"] }, GRU: { gates: 3, activations: ["Sigmoid", "Tanh"] }, RNN: { gates: 1, activations: ["Tanh"] } } satisfies Record<string, Spec>;

/** What every direction reads from the node's attributes, decoded once. */
interface Settings {
  hidden: number;
  directions: number;
  reverse: boolean[];
  layout: number;
  clip: number;
  /** Per direction, its activations. */
  f: Activation[][];
  defaultActivations: boolean;
}

function settings(ctx: BuildContext, spec: Spec): Settings {
  const direction = ctx.attrs.string("direction", "forward");
  if (!["forward", "reverse", "bidirectional"].includes(direction)) refuse(ctx, `direction ${direction}`);
  const directions = direction === "bidirectional" ? 2 : 1;
  const hidden = ctx.attrs.int("hidden_size", 0);
  if (!(hidden > 0)) refuse(ctx, "no hidden_size");
  const layout = ctx.attrs.int("layout", 0);
  if (layout !== 0 && layout !== 1) refuse(ctx, `layout ${layout}`);
  const names = ctx.attrs.strings("activations");
  const wanted = names.length > 0 ? names : Array.from({ length: directions }, () => spec.activations).flat();
  if (wanted.length !== spec.activations.length * directions) refuse(ctx, `${wanted.length} activations for ${directions} direction(s) of ${spec.activations.length}`);
  const alphas = [...(ctx.attrs.floats("activation_alpha") ?? [])], betas = [...(ctx.attrs.floats("activation_beta") ?? [])];
  const made = wanted.map((name) => {
    const a = ACTIVATIONS[name] ?? refuse(ctx, `activation ${name}`);
    const alpha = a.alpha === undefined ? 0 : alphas.length > 0 ? alphas.shift()! : a.alpha;
    const beta = a.beta === undefined ? 0 : betas.length > 0 ? betas.shift()! : a.beta;
    return a.make(alpha, beta);
  });
  const per = spec.activations.length;
  return {
    hidden, directions, layout,
    reverse: direction === "bidirectional" ? [false, true] : [direction === "reverse"],
    clip: ctx.attrs.float("clip", Infinity),
    f: Array.from({ length: directions }, (_, d) => made.slice(d * per, (d + 1) * per)),
    defaultActivations: wanted.every((name, i) => name === spec.activations[i % per]),
  };
}

/** Direction d's [a, b] matrix of a [dirs, a, b] tensor. */
const part = (t: Tensor, d: number): Tensor => slice(t, [d], [d + 1]).reshape(t.shape.slice(1));
/** Rows [g·H, (g + 1)·H) of a [G·H, …] tensor: gate g. */
const gateRows = (t: Tensor, g: number, h: number): Tensor => slice(t, [g * h], [(g + 1) * h]);
/** Columns [g·H, (g + 1)·H) of a [N, G·H] tensor. */
const gateOf = (z: Tensor, g: number, h: number): Tensor => slice(z, [0, g * h], [z.shape[0], (g + 1) * h]);

/** What one direction computes: every step's h [T, N, H], in time order, and the final h (and c). */
interface Run { hs: Tensor; h: Tensor; c?: Tensor }

/** The sequence's steps in the order a direction takes them. */
const order = (time: number, reverse: boolean) => Array.from({ length: time }, (_, i) => (reverse ? time - 1 - i : i));

/** A composed recurrence: `step` from the step's input projection (x·Wᵀ + biases, [N, G·H]) and the states to the new states. */
function composed(xw: Tensor, states: Tensor[], reverse: boolean, step: (xwt: Tensor, s: Tensor[]) => Tensor[]): Run {
  const [time, batch, width] = xw.shape;
  const outputs = new Array<Tensor>(time);
  let s = states;
  for (const t of order(time, reverse)) {
    s = step(slice(xw, [t], [t + 1]).reshape([batch, width]), s);
    outputs[t] = s[0];
  }
  return { hs: stack(outputs, 0), h: s[0], c: s[1] };
}

/** Time-major [T, N, K] with its time axis reversed (stacked slices: differentiable). */
function reversed(x: Tensor): Tensor {
  return concat(order(x.shape[0], true).map((t) => slice(x, [t], [t + 1])), 0);
}

const cap = (clip: number) => (x: Tensor) => (clip === Infinity ? x : x.clip(-clip, clip));

function lstmDirection(ctx: BuildContext, s: Settings, d: number, x: Tensor, W: Tensor, R: Tensor, B: Tensor | null, P: Tensor | null, h0: Tensor, c0: Tensor, needC: boolean): Run {
  const H = s.hidden, [time, batch, features] = x.shape;
  const inputForget = ctx.attrs.int("input_forget", 0) === 1;
  const fused = s.defaultActivations && s.clip === Infinity && !inputForget && !P && !needC;
  // Gate order: ONNX i, o, f, c; the fused kernel's i, f, c, o.
  const gates = fused ? [0, 2, 3, 1] : [0, 1, 2, 3];
  const Wg = concat(gates.map((g) => gateRows(W, g, H)), 0), Rg = concat(gates.map((g) => gateRows(R, g, H)), 0);
  let xw = x.reshape([time * batch, features]).matmul(Wg.transpose());
  if (B) {
    const b = gateRows(B, 0, 4 * H).add(gateRows(B, 1, 4 * H));
    xw = xw.add(concat(gates.map((g) => gateRows(b, g, H)), 0));
  }
  xw = xw.reshape([time, batch, 4 * H]);
  const U = Rg.transpose();
  if (fused) {
    const steps = s.reverse[d] ? reversed(xw) : xw;
    const hs = lstmSequence(steps.transpose([1, 0, 2]), U, h0, c0).transpose([1, 0, 2]);
    const last = slice(hs, [time - 1], [time]).reshape([batch, H]);
    return { hs: s.reverse[d] ? reversed(hs) : hs, h: last };
  }
  const [f, g, h] = s.f[d], clip = cap(s.clip);
  const [pi, po, pf] = P ? [0, 1, 2].map((k) => gateRows(P, k, H)) : [null, null, null];
  return composed(xw, [h0, c0], s.reverse[d], (xwt, [hPrev, cPrev]) => {
    const z = xwt.add(hPrev.matmul(U));
    const i = f(clip(pi ? gateOf(z, 0, H).add(cPrev.mul(pi)) : gateOf(z, 0, H)));
    const forget = inputForget ? i.neg().add(1) : f(clip(pf ? gateOf(z, 2, H).add(cPrev.mul(pf)) : gateOf(z, 2, H)));
    const c = forget.mul(cPrev).add(i.mul(g(clip(gateOf(z, 3, H)))));
    const o = f(clip(po ? gateOf(z, 1, H).add(c.mul(po)) : gateOf(z, 1, H)));
    return [o.mul(h(c)), c];
  });
}

function gruDirection(ctx: BuildContext, s: Settings, d: number, x: Tensor, W: Tensor, R: Tensor, B: Tensor | null, h0: Tensor): Run {
  const H = s.hidden, [time, batch, features] = x.shape;
  const linearBeforeReset = ctx.attrs.int("linear_before_reset", 0) === 1;
  let xw = x.reshape([time * batch, features]).matmul(W.transpose());
  let recurrentBiasH: Tensor | null = null;
  if (B) {
    const [wb, rb] = [gateRows(B, 0, 3 * H), gateRows(B, 1, 3 * H)];
    // Rb_h sits inside r·(…) when the linear part comes first; otherwise every bias adds outside.
    if (linearBeforeReset) {
      xw = xw.add(wb.add(concat([slice(rb, [0], [2 * H]), zeros([H], { engine: rb.engine })], 0)));
      recurrentBiasH = gateRows(rb, 2, H);
    } else xw = xw.add(wb.add(rb));
  }
  xw = xw.reshape([time, batch, 3 * H]);
  const [Rz, Rr, Rh] = [0, 1, 2].map((g) => gateRows(R, g, H).transpose());
  const Rzr = concat([Rz, Rr], 1);
  const [f, g] = s.f[d], clip = cap(s.clip);
  return composed(xw, [h0], s.reverse[d], (xwt, [hPrev]) => {
    const zr = hPrev.matmul(Rzr);
    const z = f(clip(gateOf(xwt, 0, H).add(gateOf(zr, 0, H))));
    const r = f(clip(gateOf(xwt, 1, H).add(gateOf(zr, 1, H))));
    const recurrent = linearBeforeReset
      ? r.mul(recurrentBiasH ? hPrev.matmul(Rh).add(recurrentBiasH) : hPrev.matmul(Rh))
      : r.mul(hPrev).matmul(Rh);
    const candidate = g(clip(gateOf(xwt, 2, H).add(recurrent)));
    return [z.neg().add(1).mul(candidate).add(z.mul(hPrev))]; // h = (1 − z)·h̃ + z·h
  });
}

function rnnDirection(s: Settings, d: number, x: Tensor, W: Tensor, R: Tensor, B: Tensor | null, h0: Tensor): Run {
  const H = s.hidden, [time, batch, features] = x.shape;
  let xw = x.reshape([time * batch, features]).matmul(W.transpose());
  if (B) xw = xw.add(gateRows(B, 0, H).add(gateRows(B, 1, H)));
  const U = R.transpose(), [f] = s.f[d], clip = cap(s.clip);
  return composed(xw.reshape([time, batch, H]), [h0], s.reverse[d], (xwt, [hPrev]) => [f(clip(xwt.add(hPrev.matmul(U))))]);
}

function recurrent(kind: keyof typeof SPECS): OpRule {
  const spec = SPECS[kind];
  const lstm = kind === "LSTM";
  return {
    since: 7,
    floats: lstm ? [0, 1, 2, 3, 5, 6, 7] : [0, 1, 2, 3, 5],
    build: (ctx): Step => {
      const s = settings(ctx, spec);
      if (ctx.opset < 14 && ctx.attrs.has("layout")) refuse(ctx, "layout before opset 14");
      const needC = lstm && ctx.used(2);
      return (args) => {
        let x = asTensor(args[0], ctx, "X");
        const [W, R] = [asTensor(args[1], ctx, "W"), asTensor(args[2], ctx, "R")];
        const B = args[3] ? asTensor(args[3], ctx, "B") : null;
        if (x.rank !== 3) refuse(ctx, `X has rank ${x.rank}; it must be 3`);
        if (s.layout === 1) x = x.transpose([1, 0, 2]); // [batch, time, ·] → time-major
        const [time, batch, features] = x.shape, H = s.hidden, G = spec.gates * H;
        if (time === 0) refuse(ctx, "a sequence of no steps");
        const expect = (t: Tensor | null, what: string, dims: number[]) => {
          if (t && t.shape.join() !== dims.join()) refuse(ctx, `${what} has shape [${t.shape}], expected [${dims}]`);
        };
        expect(W, "W", [s.directions, G, features]);
        expect(R, "R", [s.directions, G, H]);
        expect(B, "B", [s.directions, 2 * G]);
        if (args[4] !== undefined) {
          const lengths = numbersOf(args[4], ctx.where, "sequence_lens").ints;
          if (lengths.some((n) => n !== time)) refuse(ctx, `sequence_lens [${lengths}] shorter than the sequence (${time} steps); wasmgrad runs whole sequences`);
        }
        const state = (i: number, what: string) => {
          if (!args[i]) return null;
          let t = asTensor(args[i], ctx, what);
          if (s.layout === 1) t = t.transpose([1, 0, 2]);
          expect(t, what, [s.directions, batch, H]);
          return t;
        };
        const h0 = state(5, "initial_h"), c0 = lstm ? state(6, "initial_c") : null;
        const P = lstm && args[7] ? asTensor(args[7], ctx, "P") : null;
        expect(P, "P", [s.directions, 3 * H]);
        const zero = () => zeros([batch, H], { engine: x.engine });
        const runs = Array.from({ length: s.directions }, (_, d): Run => {
          const [w, r, b] = [part(W, d), part(R, d), B ? part(B, d) : null];
          const h = h0 ? part(h0, d) : zero();
          if (kind === "LSTM") return lstmDirection(ctx, s, d, x, w, r, b, P ? part(P, d) : null, h, c0 ? part(c0, d) : zero(), needC);
          if (kind === "GRU") return gruDirection(ctx, s, d, x, w, r, b, h);
          return rnnDirection(s, d, x, w, r, b, h);
        });
        let y = stack(runs.map((r) => r.hs), 1); // [T, dirs, N, H]
        let yh = stack(runs.map((r) => r.h), 0); // [dirs, N, H]
        let yc = needC ? stack(runs.map((r) => r.c!), 0) : undefined;
        if (s.layout === 1) {
          y = y.transpose([2, 0, 1, 3]);
          yh = yh.transpose([1, 0, 2]);
          yc = yc?.transpose([1, 0, 2]);
        }
        return lstm ? [y, yh, yc] : [y, yh];
      };
    },
  };
}

export const RECURRENT_OPS: Record<string, OpRule> = { LSTM: recurrent("LSTM"), GRU: recurrent("GRU"), RNN: recurrent("RNN") };
