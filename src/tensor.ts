// A tensor is a shape and a block of float32 in the engine's linear memory. Reading values is an
// explicit, copying call (data(), item()). Memory is freed by dispose() at once, or when the JS
// object is garbage-collected. Views made by reshape() and detach() share the block, which is
// freed when the last tensor using it goes. Inside withArena(), new tensors live in the per-step
// arena instead and are all freed when the scope ends.
import { type Engine, getEngine } from "./backend/engine.js";
import { ArgumentError, ShapeError, WasmgradError } from "./errors.js";
import type { Node } from "./autograd/graph.js";
import * as arithmetic from "./autograd/ops/arithmetic.js";
import * as activations from "./autograd/ops/activations.js";
import { matmul } from "./autograd/ops/matmul.js";
import { type ReduceOptions, mean, sum } from "./autograd/ops/reduce.js";
import { broadcastTo, reshape, transpose } from "./autograd/ops/shape.js";
import { type BackwardOptions, backward } from "./autograd/backward.js";

export type Shape = readonly number[];
export type NestedArray = number | readonly NestedArray[];

/** Where a tensor's values live. */
interface Storage {
  readonly engine: Engine;
  readonly ptr: number;
  /** False once the memory was given back; the tensor then refuses to be used. */
  readonly alive: boolean;
  readonly inArena: boolean;
  retain(): Storage;
  release(): void;
}

/** A block of persistent memory, counted by the tensors that use it. */
class HeapStorage implements Storage {
  private refs = 1;
  readonly inArena = false;
  constructor(
    readonly engine: Engine,
    readonly ptr: number,
  ) {}
  get alive(): boolean {
    return this.refs > 0;
  }
  retain(): this {
    this.refs++;
    return this;
  }
  release(): void {
    if (--this.refs === 0) this.engine.memory.free(this.ptr);
  }
}

/** A block of the per-step arena: valid until the arena's next reset, freed with it. */
class ArenaStorage implements Storage {
  readonly inArena = true;
  private readonly epoch: number;
  constructor(
    readonly engine: Engine,
    readonly ptr: number,
  ) {
    this.epoch = engine.memory.arena.epoch;
  }
  get alive(): boolean {
    return this.engine.memory.arena.epoch === this.epoch;
  }
  retain(): this {
    return this;
  }
  release(): void {}
}

const collected = new FinalizationRegistry<Storage>((storage) => storage.release());

/** The engine whose arena takes new tensors, inside withArena(). */
let arenaEngine: Engine | null = null;

/**
 * Runs `fn` with every tensor it creates in the engine's per-step arena, and frees them all at
 * once when it returns: a training step then allocates nothing after its first run. Return plain
 * values (numbers), not tensors: using a tensor from the scope afterwards throws DisposedError.
 * Parameters' gradients are persistent and survive the scope.
 */
export function withArena<T>(fn: () => T, engine: Engine = getEngine()): T {
  if (arenaEngine) return fn(); // nested: the outermost scope resets
  arenaEngine = engine;
  try {
    const result = fn();
    if (result instanceof Tensor || result instanceof Promise) {
      throw new ArgumentError("withArena: fn must return plain values; its tensors are freed when it returns (and it must be synchronous)");
    }
    return result;
  } finally {
    arenaEngine = null;
    engine.memory.arena.reset();
  }
}

export const sizeOf = (shape: Shape): number => shape.reduce((a, b) => a * b, 1);

export function checkShape(shape: unknown, where: string): Shape {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ShapeError(`${where}: a shape is an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  return Object.freeze([...shape]);
}

export const formatShape = (shape: Shape): string => `[${shape.join(", ")}]`;

export interface TensorOptions {
  /** Collect ∂/∂(this) in `.grad` when backward() runs. */
  requiresGrad?: boolean;
  /** Shown in graph exports and error messages. */
  name?: string;
  /** The engine whose memory holds the tensor; default: the one init() made. */
  engine?: Engine;
}

export class Tensor {
  readonly shape: Shape;
  readonly size: number;
  requiresGrad: boolean;
  name: string | undefined;
  /** ∂(what backward() started from)/∂(this), summed over backward() calls until zeroGrad(). */
  grad: Tensor | null = null;
  /** @internal The operation that made this tensor, while the graph is kept. */
  node: Node | null = null;
  /** @internal Keep .grad on this non-leaf tensor too. */
  keepsGrad = false;
  private storage: Storage | null;

  /** @internal Use tensor(), zeros(), … or an operation. */
  constructor(storage: Storage, shape: Shape, options: TensorOptions = {}) {
    this.storage = storage;
    this.shape = shape;
    this.size = sizeOf(shape);
    this.requiresGrad = options.requiresGrad ?? false;
    this.name = options.name;
    if (!storage.inArena) collected.register(this, storage, this);
  }

  /** @internal A new tensor of `shape` on `engine`, contents unspecified; in the arena inside withArena(). */
  static empty(shape: Shape, engine: Engine): Tensor {
    const bytes = sizeOf(shape) * 4;
    return arenaEngine === engine
      ? new Tensor(new ArenaStorage(engine, engine.memory.arena.alloc(bytes)), shape)
      : Tensor.persistent(shape, engine);
  }

  /** @internal As empty(), but always outside the arena (parameters' gradients, results kept). */
  static persistent(shape: Shape, engine: Engine): Tensor {
    return new Tensor(new HeapStorage(engine, engine.memory.alloc(sizeOf(shape) * 4)), shape);
  }

  get engine(): Engine {
    return this.live().engine;
  }

  /** @internal Byte address of the first element. */
  get ptr(): number {
    return this.live().ptr;
  }

  get rank(): number {
    return this.shape.length;
  }

  get isDisposed(): boolean {
    return !this.storage?.alive;
  }

  /** @internal The values live in the per-step arena. */
  get inArena(): boolean {
    return this.live().inArena;
  }

  /** A copy of the values, row-major. */
  data(): Float32Array {
    return this.engine.memory.f32(this.ptr, this.size).slice();
  }

  /** The one value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new ShapeError(`item() needs a tensor with one element, got shape ${formatShape(this.shape)}`);
    return this.engine.memory.f32(this.ptr, 1)[0];
  }

  /** A tensor sharing these values, outside any graph. */
  detach(): Tensor {
    return new Tensor(this.live().retain(), this.shape, { name: this.name });
  }

  /** @internal A view with another shape of the same size, sharing the values. */
  view(shape: Shape): Tensor {
    return new Tensor(this.live().retain(), shape);
  }

  /** Keep .grad on this tensor although an operation made it (leaves always keep theirs). */
  retainGrad(): this {
    this.keepsGrad = true;
    return this;
  }

  /** Drop the gradient (frees its memory); the next backward() starts from zero. */
  zeroGrad(): void {
    this.grad?.dispose();
    this.grad = null;
  }

  /** Free the memory now (and the gradient's); the tensor cannot be used afterwards. */
  dispose(): void {
    if (!this.storage) return;
    if (!this.storage.inArena) collected.unregister(this);
    this.storage.release();
    this.storage = null;
    this.zeroGrad();
  }

  // The operations, as methods so that code reads like the maths: x.mul(w).add(b).sigmoid().
  add(other: Tensor | number): Tensor { return arithmetic.add(this, other); }
  sub(other: Tensor | number): Tensor { return arithmetic.sub(this, other); }
  mul(other: Tensor | number): Tensor { return arithmetic.mul(this, other); }
  div(other: Tensor | number): Tensor { return arithmetic.div(this, other); }
  neg(): Tensor { return arithmetic.neg(this); }
  square(): Tensor { return arithmetic.square(this); }
  pow(p: number): Tensor { return arithmetic.pow(this, p); }
  exp(): Tensor { return arithmetic.exp(this); }
  log(): Tensor { return arithmetic.log(this); }
  sqrt(): Tensor { return arithmetic.sqrt(this); }
  matmul(other: Tensor): Tensor { return matmul(this, other); }
  sum(axis?: number | readonly number[], options?: ReduceOptions): Tensor { return sum(this, axis, options); }
  mean(axis?: number | readonly number[], options?: ReduceOptions): Tensor { return mean(this, axis, options); }
  reshape(shape: readonly number[]): Tensor { return reshape(this, shape); }
  transpose(perm?: readonly number[]): Tensor { return transpose(this, perm); }
  broadcastTo(shape: Shape): Tensor { return broadcastTo(this, shape); }
  sigmoid(): Tensor { return activations.sigmoid(this); }
  tanh(): Tensor { return activations.tanh(this); }
  relu(): Tensor { return activations.relu(this); }
  leakyRelu(slope?: number): Tensor { return activations.leakyRelu(this, slope); }
  softmax(axis?: number): Tensor { return activations.softmax(this, axis); }
  logSoftmax(axis?: number): Tensor { return activations.logSoftmax(this, axis); }

  /** Computes ∂this/∂t for every tensor t it was computed from that requires grad, into t.grad. */
  backward(options?: BackwardOptions): void {
    backward(this, options);
  }

  toString(): string {
    if (this.isDisposed) return "Tensor(disposed)";
    const values = this.size <= 10 ? `[${Array.from(this.data(), (v) => +v.toPrecision(6)).join(", ")}]` : `${this.size} values`;
    return `Tensor(shape ${formatShape(this.shape)}, ${values}${this.requiresGrad ? ", requiresGrad" : ""})`;
  }

  private live(): Storage {
    const what = `this tensor${this.name ? ` (${this.name})` : ""}`;
    if (!this.storage) throw new DisposedError(`${what} was disposed`);
    if (!this.storage.alive) throw new DisposedError(`${what} was freed when the withArena() scope that made it ended`);
    return this.storage;
  }
}

/** A disposed tensor was used. */
export class DisposedError extends WasmgradError {
  override name = "DisposedError";
}

function flatten(data: NestedArray, where: string): { values: number[]; shape: number[] } {
  const shape: number[] = [];
  for (let level: NestedArray = data; Array.isArray(level); level = (level as readonly NestedArray[])[0]) {
    shape.push((level as readonly NestedArray[]).length);
    if ((level as readonly NestedArray[]).length === 0) break;
  }
  const values: number[] = [];
  const visit = (x: NestedArray, depth: number, path: string) => {
    if (depth === shape.length) {
      if (typeof x !== "number") throw new ArgumentError(`${where}: element ${path || "value"} is ${JSON.stringify(x)}, not a number`);
      values.push(x);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[depth]) {
      throw new ShapeError(`${where}: ragged nested array: ${path || "the value"} should be an array of ${shape[depth]}, got ${Array.isArray(x) ? `${x.length} elements` : JSON.stringify(x)}`);
    }
    x.forEach((y: NestedArray, i: number) => visit(y, depth + 1, `${path}[${i}]`));
  };
  visit(data, 0, "");
  return { values, shape };
}

/**
 * A tensor from a number, nested arrays, or flat values with `shape`.
 * tensor(2), tensor([[1, 2], [3, 4]]), tensor(new Float32Array(6), { shape: [2, 3] }).
 */
export function tensor(
  data: NestedArray | ArrayLike<number>,
  options: TensorOptions & { shape?: Shape } = {},
): Tensor {
  let values: ArrayLike<number>;
  let shape: Shape;
  if (ArrayBuffer.isView(data) || (!Array.isArray(data) && typeof data === "object")) {
    values = data as ArrayLike<number>;
    shape = options.shape ? checkShape(options.shape, "tensor") : [values.length];
  } else {
    const flat = flatten(data as NestedArray, "tensor");
    values = flat.values;
    shape = options.shape ? checkShape(options.shape, "tensor") : flat.shape;
  }
  if (sizeOf(shape) !== values.length) {
    throw new ShapeError(`tensor: ${values.length} values do not fill shape ${formatShape(shape)} (${sizeOf(shape)} elements)`);
  }
  const t = Tensor.empty(shape, options.engine ?? getEngine());
  t.requiresGrad = options.requiresGrad ?? false;
  t.name = options.name;
  t.engine.memory.f32(t.ptr, t.size).set(values);
  return t;
}

/** A tensor of `shape` with every element `value`. */
export function full(shape: Shape, value: number, options: TensorOptions = {}): Tensor {
  if (typeof value !== "number") throw new ArgumentError(`full: value must be a number, got ${JSON.stringify(value)}`);
  const t = Tensor.empty(checkShape(shape, "full"), options.engine ?? getEngine());
  t.requiresGrad = options.requiresGrad ?? false;
  t.name = options.name;
  t.engine.kernels.fill(t.ptr, value, t.size);
  return t;
}

export const zeros = (shape: Shape, options?: TensorOptions): Tensor => full(shape, 0, options);
export const ones = (shape: Shape, options?: TensorOptions): Tensor => full(shape, 1, options);
