// The chained tensor methods, so that code reads like the maths: x.mul(w).add(b).sigmoid().
// They are attached to Tensor here, from above (as tfjs's chained ops are), so that tensor.ts
// imports no op and the arrows run one way: tensor ← autograd. Importing the package's entry
// point loads this module; package.json lists it under sideEffects so bundlers keep it.
import { Tensor } from "../tensor.js";
import { type BackwardOptions, backward } from "./backward.js";
import * as activations from "./ops/activations.js";
import * as arithmetic from "./ops/arithmetic.js";
import { matmul } from "./ops/matmul.js";
import { type ReduceOptions, mean, sum } from "./ops/reduce.js";
import * as select from "./ops/select.js";
import type { ExtremeOptions } from "./ops/select.js";
import { broadcastTo, reshape, transpose } from "./ops/shape.js";

declare module "../tensor.js" {
  interface Tensor {
    add(other: Tensor | number): Tensor;
    sub(other: Tensor | number): Tensor;
    mul(other: Tensor | number): Tensor;
    div(other: Tensor | number): Tensor;
    neg(): Tensor;
    square(): Tensor;
    pow(p: number): Tensor;
    exp(): Tensor;
    log(): Tensor;
    sqrt(): Tensor;
    matmul(other: Tensor): Tensor;
    sum(axis?: number | readonly number[], options?: ReduceOptions): Tensor;
    mean(axis?: number | readonly number[], options?: ReduceOptions): Tensor;
    reshape(shape: readonly number[]): Tensor;
    transpose(perm?: readonly number[]): Tensor;
    broadcastTo(shape: Shape): Tensor;
    sigmoid(): Tensor;
    tanh(): Tensor;
    relu(): Tensor;
    leakyRelu(slope?: number): Tensor;
    softmax(axis?: number): Tensor;
    logSoftmax(axis?: number): Tensor;
    abs(): Tensor;
    clip(min: number, max: number): Tensor;
    max(axis?: number, options?: ExtremeOptions): Tensor;
    min(axis?: number, options?: ExtremeOptions): Tensor;
    argmax(axis?: number, options?: ExtremeOptions): Tensor;
    argmin(axis?: number, options?: ExtremeOptions): Tensor;
    gather(indices: Tensor | ArrayLike<number>): Tensor;
    slice(begin: readonly number[], end?: readonly (number | undefined)[]): Tensor;
    /** Computes ∂this/∂t for every tensor t it was computed from that requires grad, into t.grad. */
    backward(options?: BackwardOptions): void;
  }
}

type Methods = Pick<Tensor, "add" | "sub" | "mul" | "div" | "neg" | "square" | "pow" | "exp" | "log" | "sqrt" | "matmul" |
  "sum" | "mean" | "reshape" | "transpose" | "broadcastTo" | "sigmoid" | "tanh" | "relu" | "leakyRelu" | "softmax" |
  "logSoftmax" | "backward" | "abs" | "clip" | "max" | "min" | "argmax" | "argmin" | "gather" | "slice">;

const methods: Methods & ThisType<Tensor> = {
  add(other) { return arithmetic.add(this, other); },
  sub(other) { return arithmetic.sub(this, other); },
  mul(other) { return arithmetic.mul(this, other); },
  div(other) { return arithmetic.div(this, other); },
  neg() { return arithmetic.neg(this); },
  square() { return arithmetic.square(this); },
  pow(p) { return arithmetic.pow(this, p); },
  exp() { return arithmetic.exp(this); },
  log() { return arithmetic.log(this); },
  sqrt() { return arithmetic.sqrt(this); },
  matmul(other) { return matmul(this, other); },
  sum(axis, options) { return sum(this, axis, options); },
  mean(axis, options) { return mean(this, axis, options); },
  reshape(shape) { return reshape(this, shape); },
  transpose(perm) { return transpose(this, perm); },
  broadcastTo(shape) { return broadcastTo(this, shape); },
  sigmoid() { return activations.sigmoid(this); },
  tanh() { return activations.tanh(this); },
  relu() { return activations.relu(this); },
  leakyRelu(slope) { return activations.leakyRelu(this, slope); },
  softmax(axis) { return activations.softmax(this, axis); },
  logSoftmax(axis) { return activations.logSoftmax(this, axis); },
  backward(options) { backward(this, options); },
  abs() { return select.abs(this); },
  clip(lo, hi) { return select.clip(this, lo, hi); },
  max(axis, options) { return select.max(this, axis, options); },
  min(axis, options) { return select.min(this, axis, options); },
  argmax(axis, options) { return select.argmax(this, axis, options); },
  argmin(axis, options) { return select.argmin(this, axis, options); },
  gather(indices) { return select.gather(this, indices); },
  slice(begin, end) { return select.slice(this, begin, end); },
};

// Non-enumerable, like methods declared in a class body.
for (const [name, fn] of Object.entries(methods)) {
  Object.defineProperty(Tensor.prototype, name, { value: fn, writable: true, configurable: true, enumerable: false });
}
