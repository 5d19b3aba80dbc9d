// Small pieces the op definitions share.
import { describe } from "../../check.js";
import { ArgumentError } from "../../errors.js";
import { type Shape, Tensor, outsideScopes } from "../../tensor.js";

/** A real, live tensor (not a look-alike, not disposed), or a typed error naming the op and argument. */
export function checkTensor(op: string, name: string, value: unknown): Tensor {
  if (!Tensor.isTensor(value)) throw new ArgumentError(`${op}: ${name} must be a Tensor, got ${describe(value)}`);
  value.assertLive();
  return value;
}

/** A new tensor on x's engine, contents unspecified (the kernel that follows fills it). */
export const empty = (like: Tensor, shape: Shape = like.shape): Tensor => Tensor.empty(shape, like.engine);

/**
 * Scratch an op frees before it returns (patch matrices, padded copies, partial sums): outside
 * any withArena() and ownedBy() scope, so its memory goes back to the free list at once and the
 * next op reuses it, instead of a training step's arena holding every op's scratch to its end.
 */
export const scratch = (like: Tensor, shape: Shape = like.shape): Tensor => outsideScopes(() => Tensor.empty(shape, like.engine));

/** Address of image i of a batch tensor of n images (or of any first-axis slice). */
export const imageOf = (t: Tensor, n: number, i: number): number => t.ptr + (4 * i * t.size) / n;

/** Row-major strides, in elements. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}

export const sameShape = (a: Shape, b: Shape): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

export function checkSameEngine(op: string, a: Tensor, b: Tensor): void {
  checkTensor(op, "the first operand", a);
  checkTensor(op, "the second operand", b);
  if (a.engine !== b.engine) throw new ArgumentError(`${op}: the two tensors live in different engines' memory`);
}

/** A finite number, or a typed error naming the op. */
export function checkScalar(op: string, s: number): number {
  if (typeof s !== "number" || Number.isNaN(s)) throw new ArgumentError(`${op}: expected a number, got ${describe(s)}`);
  return s;
}

/** Axis index in [0, rank), counting negative ones from the end. */
export function normaliseAxis(op: string, axis: number, rank: number): number {
  if (typeof axis !== "number" || !Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new ArgumentError(`${op}: axis ${describe(axis)} is out of range for a tensor of rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}
