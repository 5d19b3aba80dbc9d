// A tensor is a shape and a block of float32 in the engine's linear memory. Reading values is an
// explicit, copying call (data(), item()). Memory is freed by dispose() at once, or when the JS
// object is garbage-collected. Views made by reshape() and detach() share the block, which is
// freed when the last tensor using it goes. Inside withArena(), new tensors live in the per-step
// arena instead and are all freed when the scope ends.
import { Engine, MAX_DIMS, getEngine } from "./backend/engine.js";
import { checkBoolean, checkFunction, checkOptions, describe } from "./check.js";
import { ArgumentError, ShapeError, WasmgradError } from "./errors.js";

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

/**
 * A tensor made from JS data (tensor(), not requiring grad): its values stay in JS, and a Wasm copy
 * is made when an op first reads it (ptr). The graphs that saved the copy hold it (hold()); when
 * the last is done (unhold(), as the next backward() through the same parameters frees the graph's
 * intermediates) the copy goes back, its values copied home first (a kernel may have written
 * them). So a loop that makes its batch with tensor() every step and never disposes it keeps Wasm
 * memory flat without the FinalizationRegistry, which a synchronous loop never reaches.
 */
class JsStorage implements Storage {
  private refs = 1;
  readonly inArena = false;
  private at = -1; // the Wasm copy's address; -1 while there is none
  private uses = 0;
  constructor(
    readonly engine: Engine,
    private values: Float32Array,
  ) {}
  get alive(): boolean {
    return this.refs > 0;
  }
  get ptr(): number {
    if (this.at < 0) {
      this.at = this.engine.memory.alloc(this.values.length * 4);
      this.engine.memory.f32(this.at, this.values.length).set(this.values);
    }
    return this.at;
  }
  /** The values while they are only in JS; null once a Wasm copy holds them. */
  get inJs(): Float32Array | null {
    return this.at < 0 ? this.values : null;
  }
  retain(): this {
    this.refs++;
    return this;
  }
  release(): void {
    if (--this.refs > 0) return;
    if (this.at >= 0) this.engine.memory.free(this.at);
    this.at = -1;
    this.values = new Float32Array(0);
  }
  hold(): boolean {
    if (this.at < 0) return false;
    this.uses++;
    return true;
  }
  unhold(): void {
    if (--this.uses > 0 || this.at < 0 || this.refs === 0) return;
    this.values.set(this.engine.memory.f32(this.at, this.values.length));
    this.engine.memory.free(this.at);
    this.at = -1;
  }
}

const collected = new FinalizationRegistry<Storage>((storage) => storage.release());

/** Tensors made (outside the arena) while a scope of ownedBy() runs: freed when it ends, but for its result. */
let scope: Tensor[] | null = null;

/**
 * @internal Runs fn and frees every tensor it made (outside withArena) except `result`'s and those
 * `keep` names: a computation built of ops without a graph (inference) leaves nothing behind for
 * the garbage collector, which a synchronous loop would never reach.
 */
export function ownedBy<T>(fn: () => T, keep: (result: T) => readonly Tensor[]): T {
  return settledBy(fn, (result, made) => {
    const kept = new Set(keep(result));
    for (const t of made) if (!kept.has(t)) t.dispose();
    return [...kept];
  });
}

/**
 * @internal Runs fn, then hands every tensor it made (outside withArena) to `settle`, which frees
 * or places each and returns those the enclosing scope should decide about (fn's result).
 */
export function settledBy<T>(fn: () => T, settle: (result: T, made: readonly Tensor[]) => readonly Tensor[]): T {
  const outer = scope;
  const made: Tensor[] = [];
  scope = made;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scope = outer;
    for (const t of made) t.dispose();
    throw e;
  }
  scope = outer;
  for (const t of settle(result, made)) outer?.push(t); // the outer scope decides about what this one returns
  return result;
}

/** @internal Runs fn outside any ownedBy() scope and any withArena(): what it makes (a layer's parameters, a laid-out weight) outlives them. */
export function outsideScopes<T>(fn: () => T): T {
  const outer = scope, arena = arenaEngine;
  scope = null;
  arenaEngine = null;
  try {
    return fn();
  } finally {
    scope = outer;
    arenaEngine = arena;
  }
}

/** The engine whose arena takes new tensors, inside withArena(). */
let arenaEngine: Engine | null = null;

/**
 * Runs `fn` with every tensor it creates in the engine's per-step arena, and frees them all at
 * once when it returns: a training step then allocates nothing after its first run. Return plain
 * values (numbers), not tensors: using a tensor from the scope afterwards throws DisposedError.
 * Parameters' gradients are persistent and survive the scope.
 */
export function withArena<T>(fn: () => T, engine: Engine = getEngine()): T {
  checkFunction("withArena", "fn", fn);
  if (!(engine instanceof Engine)) throw new ArgumentError(`withArena: engine must be an Engine, got ${describe(engine)}`);
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

/** A shape: at most MAX_DIMS non-negative integers. Returned frozen, as a copy. */
export function checkShape(shape: unknown, where: string): Shape {
  if (!Array.isArray(shape) || shape.length > MAX_DIMS || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    const what = Array.isArray(shape) && shape.length <= MAX_DIMS ? `[${shape.map(describe).join(", ")}]` : describe(shape);
    throw new ShapeError(`${where}: a shape is an array of at most ${MAX_DIMS} non-negative integers, got ${what}`);
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
  /** A parameter whose training is paused (Module.freeze): it takes no gradient, but stays a parameter. */
  frozen = false;
  #gradient: Tensor | null = null;
  /** @internal Keep .grad on this non-leaf tensor too. */
  keepsGrad = false;
  #storage: Storage | null;
  #version = 0;
  /** Why the storage went, when the library (not the user) freed it. */
  #freedBecause = "";

  /** @internal Use tensor(), zeros(), … or an operation. */
  constructor(storage: Storage, shape: Shape, options: TensorOptions = {}) {
    this.#storage = storage;
    this.shape = shape;
    this.size = sizeOf(shape);
    this.requiresGrad = options.requiresGrad ?? false;
    this.name = options.name;
    if (!storage.inArena) {
      collected.register(this, storage, this);
      scope?.push(this);
    }
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

  /**
   * Counts the writes into this tensor in place (set, copyFrom, an optimiser's step): what a copy
   * laid out from its values (an imported conv's weights, in the kernel's order) checks.
   */
  get version(): number {
    return this.#version;
  }

  /** @internal After writing into the tensor's memory in place from outside its methods (optimisers). */
  touched(): void {
    this.#version++;
  }

  get isDisposed(): boolean {
    return !this.#storage?.alive;
  }

  /** True for real tensors only (a brand check: objects that merely look like one are not). */
  static isTensor(value: unknown): value is Tensor {
    return typeof value === "object" && value !== null && #storage in value;
  }

  /**
   * ∂(what backward() started from)/∂(this), summed over backward() calls until zeroGrad().
   * Assigning checks that the value is a live tensor of this shape on this engine with memory of
   * its own: optimisers and zeroGrad() write through it.
   */
  get grad(): Tensor | null {
    return this.#gradient;
  }

  set grad(g: Tensor | null) {
    if (g !== null) {
      const what = `the .grad of ${this.name ?? "a tensor"} of shape ${formatShape(this.shape)}`;
      if (!Tensor.isTensor(g)) throw new ArgumentError(`${what} must be a Tensor or null, got ${describe(g)}`);
      if (g.shape.length !== this.shape.length || g.shape.some((d, i) => d !== this.shape[i])) {
        throw new ShapeError(`${what} must have its shape, got ${formatShape(g.shape)}`);
      }
      if (g.engine !== this.engine) throw new ArgumentError(`${what} must live in the same engine's memory`);
      if (g.inArena && !this.inArena) throw new ArgumentError(`${what} must not be a withArena() tensor: it would be freed under it`);
      if (g.size > 0 && g.ptr === this.ptr) throw new ArgumentError(`${what} must not share the tensor's own memory`);
    }
    this.#gradient = g;
  }

  /** @internal The values live in the per-step arena. */
  get inArena(): boolean {
    return this.live().inArena;
  }

  /** @internal Frees the storage on the library's behalf (a graph intermediate, a batch): `because` goes into later errors. */
  releaseBy(because: string): void {
    const storage = this.#storage;
    if (!storage || storage.inArena || this.keepsGrad) return;
    collected.unregister(this);
    storage.release();
    this.#storage = null;
    this.#freedBecause = because;
  }

  /** @internal The live storage, or DisposedError: checks a tensor before anything is written. */
  assertLive(): void {
    this.live();
  }

  /** A copy of the values, row-major. */
  data(): Float32Array {
    const storage = this.live();
    const js = storage instanceof JsStorage ? storage.inJs : null;
    return js ? js.slice() : this.engine.memory.f32(storage.ptr, this.size).slice();
  }

  /**
   * @internal A graph saved this tensor's Wasm copy (data made by tensor()): the function it calls
   * when it is done with it, or null where there is nothing to give back.
   */
  holdCopy(): (() => void) | null {
    const storage = this.#storage;
    return storage instanceof JsStorage && storage.alive && storage.hold() ? () => storage.unhold() : null;
  }

  /**
   * Writes values into this tensor, in place: nested arrays of its shape, or flat values (an array
   * or a typed array) of its size. Checked before anything is written. Not recorded in any graph.
   */
  set(values: NestedArray | ArrayLike<number>): this {
    const storage = this.live();
    let flat: ArrayLike<number>;
    if (isNumericArray(values)) {
      flat = values;
    } else if (Array.isArray(values) && (values.length === 0 || !Array.isArray(values[0]))) {
      flat = values as number[];
      const bad = flat.length === this.size ? Array.prototype.findIndex.call(flat, (v: unknown) => typeof v !== "number") : -1;
      if (bad >= 0) throw new ArgumentError(`set: element [${bad}] is ${describe(flat[bad])}, not a number`);
    } else if (Array.isArray(values)) {
      const nested = flatten(values as NestedArray, "set");
      if (formatShape(nested.shape) !== formatShape(this.shape)) {
        throw new ShapeError(`set: nested arrays of shape ${formatShape(nested.shape)} do not fit a tensor of shape ${formatShape(this.shape)}`);
      }
      flat = nested.values;
    } else {
      throw new ArgumentError(`set: expected nested arrays, an array or a typed array of numbers, got ${describe(values)}`);
    }
    if (flat.length !== this.size) {
      throw new ShapeError(`set: ${flat.length} values for a tensor of shape ${formatShape(this.shape)} (${this.size} elements)`);
    }
    const js = storage instanceof JsStorage ? storage.inJs : null;
    if (js) js.set(flat);
    else storage.engine.memory.f32(storage.ptr, this.size).set(flat);
    this.#version++;
    return this;
  }

  /** Copies another tensor's values into this one, in place; the shapes must be equal. */
  copyFrom(other: Tensor): this {
    const storage = this.live();
    if (!Tensor.isTensor(other)) throw new ArgumentError(`copyFrom: expected a Tensor, got ${describe(other)}`);
    other.assertLive();
    if (formatShape(other.shape) !== formatShape(this.shape)) {
      throw new ShapeError(`copyFrom: shape ${formatShape(other.shape)} into a tensor of shape ${formatShape(this.shape)}`);
    }
    if (other.engine === storage.engine) storage.engine.memory.f32(storage.ptr, this.size).set(storage.engine.memory.f32(other.ptr, other.size));
    else storage.engine.memory.f32(storage.ptr, this.size).set(other.data());
    this.#version++;
    return this;
  }

  /** The values as nested arrays of the tensor's shape (a number for a scalar). */
  toArray(): NestedArray {
    const values = Array.from(this.data());
    if (this.rank === 0) return values[0];
    // Build from the innermost axis out: rows of the last axis, then groups of those, and so on.
    let level: NestedArray[] = values;
    for (let axis = this.rank - 1; axis > 0; axis--) {
      const width = this.shape[axis];
      const groups: NestedArray[] = [];
      const count = width === 0 ? sizeOf(this.shape.slice(0, axis)) : level.length / width;
      for (let g = 0; g < count; g++) groups.push(level.slice(g * width, (g + 1) * width));
      level = groups;
    }
    return level;
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
    this.#gradient?.dispose();
    this.#gradient = null;
  }

  /** Free the memory now (and the gradient's); the tensor cannot be used afterwards. */
  dispose(): void {
    const storage = this.#storage;
    if (!storage) return;
    if (!storage.inArena) collected.unregister(this);
    storage.release();
    this.#storage = null;
    this.zeroGrad();
  }

  // The operations (x.mul(w).add(b).sigmoid(), x.backward()) are attached to this class by
  // autograd/methods.ts, from above: this module imports no op.

  toString(): string {
    if (this.isDisposed) return "Tensor(disposed)";
    const values = this.size <= 10 ? `[${Array.from(this.data(), (v) => +v.toPrecision(6)).join(", ")}]` : `${this.size} values`;
    return `Tensor(shape ${formatShape(this.shape)}, ${values}${this.requiresGrad ? ", requiresGrad" : ""})`;
  }

  private live(): Storage {
    const storage = this.#storage;
    if (storage?.alive) return storage;
    const what = `this tensor${this.name ? ` (${this.name})` : ""}`;
    if (this.#freedBecause) throw new DisposedError(`${what} was freed ${this.#freedBecause}`);
    if (!storage) throw new DisposedError(`${what} was disposed`);
    throw new DisposedError(`${what} was freed when the withArena() scope that made it ended`);
  }
}

/** A disposed tensor was used. */
export class DisposedError extends WasmgradError {
  override name = "DisposedError";
}

/** A numeric typed array (BigInt64Array and BigUint64Array hold BigInts, not numbers). */
export function isNumericArray(v: unknown): v is ArrayLike<number> {
  return ArrayBuffer.isView(v) && !(v instanceof DataView) && !(v instanceof BigInt64Array) && !(v instanceof BigUint64Array);
}

/**
 * Nested arrays → flat values and shape, without recursion (a hostile nesting depth cannot
 * overflow the stack): the shape comes from the first elements, then every element is checked
 * against it in one walk with an explicit stack of positions.
 */
function flatten(data: NestedArray, where: string): { values: number[]; shape: number[] } {
  const shape: number[] = [];
  for (let level: unknown = data; Array.isArray(level); level = level[0]) {
    if (shape.length === MAX_DIMS) throw new ShapeError(`${where}: arrays nested deeper than ${MAX_DIMS} levels (the most axes a tensor may have)`);
    shape.push(level.length);
    if (level.length === 0) break;
  }
  const values: number[] = [];
  const path = (stack: { array: readonly unknown[]; i: number }[]) => stack.map((s) => `[${s.i}]`).join("");
  if (shape.length === 0) {
    if (typeof data !== "number") throw new ArgumentError(`${where}: expected a number, nested arrays of numbers or a typed array, got ${describe(data)}`);
    return { values: [data], shape };
  }
  const stack: { array: readonly unknown[]; i: number }[] = [{ array: data as readonly unknown[], i: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.i === top.array.length) {
      stack.pop();
      if (stack.length > 0) stack[stack.length - 1].i++;
      continue;
    }
    const x = top.array[top.i];
    if (stack.length === shape.length) {
      if (typeof x !== "number") throw new ArgumentError(`${where}: element ${path(stack)} is ${describe(x)}, not a number`);
      values.push(x);
      top.i++;
    } else {
      const want = shape[stack.length];
      if (!Array.isArray(x) || x.length !== want) {
        throw new ShapeError(`${where}: ragged nested array: ${path(stack)} should be an array of ${want}, got ${Array.isArray(x) ? `${x.length} elements` : describe(x)}`);
      }
      stack.push({ array: x, i: 0 });
    }
  }
  return { values, shape };
}

/** The options every constructor takes, checked. */
function creation(where: string, options: TensorOptions | undefined): { engine: Engine; requiresGrad: boolean; name: string | undefined } {
  const { engine = getEngine(), requiresGrad = false, name } = checkOptions(where, options);
  if (!(engine instanceof Engine)) throw new ArgumentError(`${where}: options.engine must be an Engine, got ${describe(engine)}`);
  checkBoolean(where, "options.requiresGrad", requiresGrad);
  if (name !== undefined && typeof name !== "string") throw new ArgumentError(`${where}: options.name must be a string, got ${describe(name)}`);
  return { engine, requiresGrad, name };
}

/**
 * A tensor from a number, nested arrays, or a typed array (flat values, with `shape`).
 * tensor(2), tensor([[1, 2], [3, 4]]), tensor(new Float32Array(6), { shape: [2, 3] }).
 */
export function tensor(
  data: NestedArray | ArrayLike<number>,
  options: TensorOptions & { shape?: Shape } = {},
): Tensor {
  const made = creation("tensor", options);
  let values: ArrayLike<number>;
  let shape: Shape;
  if (isNumericArray(data)) {
    values = data;
    shape = options.shape !== undefined ? checkShape(options.shape, "tensor") : [values.length];
  } else if (typeof data === "number" || Array.isArray(data)) {
    const flat = flatten(data as NestedArray, "tensor");
    values = flat.values;
    shape = options.shape !== undefined ? checkShape(options.shape, "tensor") : flat.shape;
  } else {
    throw new ArgumentError(`tensor: expected a number, nested arrays of numbers or a typed array, got ${describe(data)}`);
  }
  if (sizeOf(shape) !== values.length) {
    throw new ShapeError(`tensor: ${values.length} values do not fill shape ${formatShape(shape)} (${sizeOf(shape)} elements)`);
  }
  // Data (not a parameter, not inside withArena) stays in JS until an op reads it: see JsStorage.
  if (!made.requiresGrad && arenaEngine !== made.engine) {
    // A typed array copies as memory (Float32Array.from would walk its iterator: 10× slower for a batch).
    const own = ArrayBuffer.isView(values) ? new Float32Array(values as unknown as ArrayLike<number>) : Float32Array.from(values);
    return new Tensor(new JsStorage(made.engine, own), shape, { name: made.name });
  }
  const t = Tensor.empty(shape, made.engine);
  t.requiresGrad = made.requiresGrad;
  t.name = made.name;
  t.engine.memory.f32(t.ptr, t.size).set(values);
  return t;
}

/** A tensor of `shape` with every element `value`. */
export function full(shape: Shape, value: number, options: TensorOptions = {}): Tensor {
  const checked = checkShape(shape, "full");
  if (typeof value !== "number") throw new ArgumentError(`full: value must be a number, got ${describe(value)}`);
  const made = creation("full", options);
  const t = Tensor.empty(checked, made.engine);
  t.requiresGrad = made.requiresGrad;
  t.name = made.name;
  t.engine.kernels.fill(t.ptr, value, t.size);
  return t;
}

export const zeros = (shape: Shape, options?: TensorOptions): Tensor => full(shape, 0, options);
export const ones = (shape: Shape, options?: TensorOptions): Tensor => full(shape, 1, options);
