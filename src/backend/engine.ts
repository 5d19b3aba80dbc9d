// An Engine is one instantiated module with the memory it owns. `init()` makes one and sets it as
// the default that tensors use.
import { describe } from "../check.js";
import { ArgumentError, NotInitializedError, OutOfMemoryError, ShapeError, UnsupportedHostError } from "../errors.js";
import { detectFeatures } from "./features.js";
import type { Kernels } from "./kernels.js";
import { isNode, nodeBuiltin, nodeBuiltinNow, nodeProcess } from "./host.js";
import { type Build, type WasmSource, compileModule } from "./load.js";
import { MAX_WASM32_BYTES, Memory, PAGE_BYTES } from "./memory.js";
import { type Call, KERNELS, type ParallelKernel } from "./slots.js";
import { PARALLEL_MIN_ELEMENTS, PARALLEL_MIN_MACS, ThreadPool, type WorkerClass } from "./threads.js";

export interface InitOptions {
  /** Which build to run: `auto` picks relaxed SIMD where the host has it. Default `auto`. */
  build?: Build | "auto";
  /** The module itself, when the default location will not do: bytes, a compiled module or a URL. */
  wasm?: WasmSource;
  /** Initial size of the linear memory in bytes. Default 4 MiB. */
  initialBytes?: number;
  /** The memory never grows past this many bytes. Default 4 GiB (all wasm32 can address). */
  maxBytes?: number;
  /**
   * Threads to run kernels on, the caller's included: a number (honoured as given, even above the
   * host's cores, so that determinism can be tested anywhere), or "auto" (the host's cores, at most
   * 8). Default "auto". More than one needs shared memory (Node; browsers only on cross-origin
   * isolated pages) and the module's bytes (not a precompiled module); otherwise the engine runs
   * one thread and `engine.threadsNote` says why. The workers start with the first job worth
   * sharing, not before. Results are the same bits for any thread count.
   */
  threads?: number | "auto";
  /** engine.threadDeadlineMs: how long a job shared between threads may take before its workers are given up on. Default 60,000. */
  threadDeadlineMs?: number;
}

export interface GemmArgs {
  /** op(A) = Aᵀ: A is stored k×m. */
  transA?: boolean;
  /** op(B) = Bᵀ: B is stored n×k. */
  transB?: boolean;
  m: number;
  n: number;
  k: number;
  /** Byte addresses of A, B and C. C must not overlap A or B. */
  a: number;
  b: number;
  c: number;
  /** Row strides in floats of A, B and C as stored; default: their stored widths. */
  lda?: number;
  ldb?: number;
  ldc?: number;
  /** Add op(A)·op(B) to C instead of overwriting it. */
  accumulate?: boolean;
  /** Byte address of n floats added to every row of C after the product (0, default: none). */
  bias?: number;
  /** [lo, hi]: C = min(max(C, lo), hi) after the bias (ReLU: [0, ∞]); default [−∞, ∞]. */
  clamp?: readonly [number, number];
}

/** @internal How work over items is shared between threads: in ranges of whole `unit`s, when `work` (in the caller's measure) reaches `minWork`. */
export interface ShareOptions {
  unit?: number;
  work?: number;
  minWork?: number;
}

/** Most axes a tensor may have (the layout kernels take shape and strides from a fixed block). */
export const MAX_DIMS = 16;

export class Engine {
  /** This thread's scratch: a GEMM workspace (the kernels that take one get the thread's own). */
  private readonly scratch: number;
  private readonly layoutBlock: number; // shape, strides and the kernel's index scratch: 3 × MAX_DIMS i32
  private pool: ThreadPool | null = null;
  /** What starting the pool takes, until the first job big enough to share starts it. */
  private unstarted: { module: WebAssembly.Module; memory: WebAssembly.Memory; count: number; NodeWorker: (() => WorkerClass) | null } | null = null;
  #threadsNote: string | null = null;

  /** Threads the kernels run on, the caller's included (as planned, before the workers start). */
  get threads(): number {
    if (this.pool?.broken) return 1;
    return this.pool?.size ?? this.unstarted?.count ?? 1;
  }

  /** Why the engine runs fewer threads than asked for, if it does; null otherwise. */
  get threadsNote(): string | null {
    return this.pool?.broken ?? this.pool?.failure ?? this.#threadsNote;
  }

  /** @internal */
  constructor(
    /** @internal The module's exports: kernels that take raw addresses. */
    readonly kernels: Kernels,
    readonly memory: Memory,
    readonly build: Build,
  ) {
    this.scratch = memory.alloc(kernels.gemmWorkspaceBytes());
    this.runners = Object.fromEntries(Object.entries(KERNELS).map(([name, scratch]) => {
      const kernel = kernels[name as ParallelKernel] as unknown as (...values: number[]) => void;
      return [name, scratch ? (args: number[]) => kernel(...args, this.scratch) : (args: number[]) => kernel(...args)];
    })) as Record<ParallelKernel, (args: number[]) => void>;
    this.layoutBlock = memory.alloc(3 * MAX_DIMS * 4);
  }

  /**
   * @internal Walks `shape` in row-major order. copy: dst[i] = src[Σ idx·strides];
   * accumulate: dst[Σ idx·strides] += src[i]. Strides are in elements; 0 repeats an element.
   */
  strided(kind: "copy" | "accumulate", src: number, dst: number, shape: readonly number[], strides: readonly number[]): void {
    if (kind !== "copy" && kind !== "accumulate") throw new ArgumentError(`strided: kind must be "copy" or "accumulate", got ${describe(kind)}`);
    if (!Array.isArray(shape) || !Array.isArray(strides) || shape.length > MAX_DIMS || strides.length !== shape.length ||
      !shape.every((d) => Number.isSafeInteger(d) && d >= 0) || !strides.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new ShapeError(`strided: at most ${MAX_DIMS} axes with one non-negative stride each, got shape ${describe(shape)} and strides ${describe(strides)}`);
    }
    // Both walks stay inside the memory: the strided side reaches Σ (dᵢ − 1)·sᵢ, the other is contiguous.
    const count = shape.reduce((a, d) => a * d, 1);
    if (count > 0) {
      const reach = shape.reduce((a, d, i) => a + (d - 1) * strides[i], 0) + 1;
      const [stridedAt, flatAt] = kind === "copy" ? [src, dst] : [dst, src];
      for (const [name, at, floats] of [["the strided side", stridedAt, reach], ["the contiguous side", flatAt, count]] as const) {
        if (!Number.isInteger(at) || at < 0 || at % 4 !== 0 || at + floats * 4 > this.memory.capacityBytes) {
          throw new ArgumentError(`strided: ${name} (${floats} floats at ${describe(at)}) is not inside the memory`);
        }
      }
    }
    const view = this.memory.i32(this.layoutBlock, 2 * MAX_DIMS);
    view.set(shape, 0);
    view.set(strides, MAX_DIMS);
    const run = kind === "copy" ? this.kernels.stridedCopy : this.kernels.stridedAccumulate;
    run(src, dst, shape.length, this.layoutBlock, this.layoutBlock + MAX_DIMS * 4);
  }

  /** C (=|+=) op(A)·op(B), row-major float32, with every size and address checked first. */
  gemm(args: GemmArgs): void {
    const { transA = false, transB = false, m, n, k, a, b, c, accumulate = false, bias = 0, clamp: [lo, hi] = [-Infinity, Infinity] } = args;
    checkSize("m", m);
    checkSize("n", n);
    checkSize("k", k);
    // Stored shapes: A is m×k (k×m if transA), B is k×n (n×k if transB), C is m×n.
    const aRows = transA ? k : m, aCols = transA ? m : k;
    const bRows = transB ? n : k, bCols = transB ? k : n;
    const { lda = aCols, ldb = bCols, ldc = n } = args;
    const endA = this.checkOperand("A", a, aRows, aCols, lda);
    const endB = this.checkOperand("B", b, bRows, bCols, ldb);
    const endC = this.checkOperand("C", c, m, n, ldc);
    if (bias !== 0) this.checkOperand("bias", bias, 1, n, n);
    if (typeof lo !== "number" || typeof hi !== "number" || !(lo <= hi)) throw new ArgumentError(`gemm: clamp must be [lo, hi] with lo ≤ hi, got ${describe(args.clamp)}`);
    if (m > 0 && n > 0 && k > 0) {
      if (a < endC && c < endA) throw new ArgumentError("gemm: C overlaps A; the output needs memory of its own");
      if (b < endC && c < endB) throw new ArgumentError("gemm: C overlaps B; the output needs memory of its own");
    }
    if (m * n * k >= PARALLEL_MIN_MACS && this.threadPool()?.gemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, [bias, lo, hi], this.runCall)) return;
    this.kernels.sgemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, bias, lo, hi, this.scratch);
  }

  /** Each parallel kernel called on this thread with a block's arguments (and this thread's scratch, if it takes one). */
  private readonly runners: Record<ParallelKernel, (args: number[]) => void>;
  /** Runs one call of a block on this thread. */
  private readonly runCall = ([kernel, ...args]: Call) => this.runners[kernel](args);

  /**
   * @internal A kernel over `count` items (elements, rows, images): `args(from, to)` are its
   * arguments for items [from, to). Shared between threads in ranges of whole `unit`s when `work`
   * reaches `minWork` (default: the elementwise cut-over, for work counted in elements); each item
   * is computed the same whichever thread does it.
   */
  parallel(kernel: ParallelKernel, count: number, args: (from: number, to: number) => number[], options: ShareOptions = {}): void {
    if (this.shared(count, (from, to) => [[kernel, ...args(from, to)]], options)) return;
    this.runners[kernel](args(0, count)); // small work (a batch of one): no blocks built
  }

  /**
   * @internal As parallel(), for work that is a list of kernel calls per range (a chunk loop over
   * images): `calls(from, to)` are the calls for items [from, to), run in order on one thread.
   */
  share(count: number, calls: (from: number, to: number) => Call[], options: ShareOptions = {}): void {
    if (this.shared(count, calls, options)) return;
    for (const call of calls(0, count)) this.runCall(call);
  }

  /** True when the work was big enough and threads shared it; false (nothing done) otherwise. */
  private shared(count: number, calls: (from: number, to: number) => Call[], { unit = 4, work = count, minWork = PARALLEL_MIN_ELEMENTS }: ShareOptions): boolean {
    return work >= minWork && (this.threadPool()?.split(count, unit, calls, this.runCall) ?? false);
  }

  /** @internal Makes this engine run `count` threads over its shared memory, the workers started by the first job worth sharing (init does this). */
  planThreads(module: WebAssembly.Module, memory: WebAssembly.Memory, count: number, NodeWorker: (() => WorkerClass) | null): void {
    this.unstarted = { module, memory, count, NodeWorker };
  }

  #deadlineMs = 60_000;
  /**
   * How long (ms) a job shared between threads may take before the engine gives up on its workers
   * (a worker that hangs or died): a ThreadError, and one thread from then on. Default 60,000, far
   * past any one kernel call's time.
   */
  get threadDeadlineMs(): number {
    return this.#deadlineMs;
  }

  set threadDeadlineMs(ms: number) {
    if (typeof ms !== "number" || !(ms > 0)) throw new ArgumentError(`threadDeadlineMs must be a number of milliseconds > 0, got ${describe(ms)}`);
    this.#deadlineMs = ms;
    if (this.pool) this.pool.deadlineMs = ms;
  }

  /** The pool, started now if it was not: its workers come up in the background, the caller's thread claiming every block until they do. */
  private threadPool(): ThreadPool | null {
    if (this.pool?.broken) {
      // Given up on after a deadline: one thread from here, and threadsNote says why.
      this.#threadsNote = this.pool.broken;
      this.pool = null;
    }
    if (this.unstarted) {
      const { module, memory, count, NodeWorker } = this.unstarted;
      this.unstarted = null;
      const blocks: number[] = [];
      try {
        blocks.push(this.memory.alloc(ThreadPool.controlBytes + 64));
        for (let i = 1; i < count; i++) blocks.push(this.memory.alloc(this.kernels.gemmWorkspaceBytes()));
      } catch (e) {
        if (!(e instanceof OutOfMemoryError)) throw e;
        for (const at of blocks) this.memory.free(at);
        this.#threadsNote = `no memory left for the workers' job table and scratch (${e.message}): one thread`;
        return null;
      }
      const [control, ...scratches] = blocks;
      // The table's contended words each own a cache line: start it on one.
      this.pool = ThreadPool.start(module, memory, Math.ceil(control / 64) * 64, scratches, NodeWorker?.() ?? null);
      this.pool.deadlineMs = this.#deadlineMs;
    }
    return this.pool;
  }

  /** @internal */
  noteThreads(note: string | null): void {
    this.#threadsNote = note;
  }

  /**
   * Starts the worker threads if the first job worth sharing has not yet, and resolves once every
   * one is up (work runs meanwhile on those up, the caller's thread always).
   */
  async threadsReady(): Promise<void> {
    await this.threadPool()?.whenReady();
  }

  /** Stops the engine's worker threads (a process also ends without this: they never hold it open). */
  dispose(): void {
    this.pool?.dispose();
    this.pool = null;
    this.unstarted = null;
  }

  /** Checks a rows×cols matrix with row stride ld at byte address ptr; returns the end of its bytes. */
  private checkOperand(name: string, ptr: number, rows: number, cols: number, ld: number): number {
    if (!Number.isInteger(ld) || ld < cols) {
      throw new ShapeError(`gemm: ld${name.toLowerCase()} must be an integer ≥ ${cols} (the stored width of ${name}), got ${ld}`);
    }
    if (!Number.isInteger(ptr) || ptr < 0 || ptr % 4 !== 0) {
      throw new ArgumentError(`gemm: ${name} must be a 4-byte-aligned address, got ${ptr}`);
    }
    const end = rows === 0 || cols === 0 ? ptr : ptr + ((rows - 1) * ld + cols) * 4;
    if (end > this.memory.capacityBytes) {
      throw new ArgumentError(`gemm: ${name} (${rows}×${cols}, stride ${ld}) runs past the end of memory at ${this.memory.capacityBytes}`);
    }
    return end;
  }
}

function checkSize(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new ShapeError(`gemm: ${name} must be a non-negative integer, got ${v}`);
}

let defaultEngine: Engine | undefined;

/** Loads and instantiates the module, and makes the result the default engine. */
export async function init(options: InitOptions = {}): Promise<Engine> {
  if (typeof options !== "object" || options === null) throw new ArgumentError(`init: options must be an object, got ${describe(options)}`);
  const { build: wanted = "auto", wasm, initialBytes = 4 << 20, maxBytes = MAX_WASM32_BYTES } = options;
  if (!["auto", "simd", "relaxed"].includes(wanted)) {
    throw new ArgumentError(`init: build must be "auto", "simd" or "relaxed", got ${describe(wanted)}`);
  }
  if (!(maxBytes > 0 && maxBytes <= MAX_WASM32_BYTES) || !(initialBytes > 0 && initialBytes <= maxBytes)) {
    throw new ArgumentError(
      `init: need 0 < initialBytes ≤ maxBytes ≤ ${MAX_WASM32_BYTES}, got initialBytes ${describe(initialBytes)}, maxBytes ${describe(maxBytes)}`,
    );
  }
  const host = detectFeatures();
  if (!host.simd) {
    throw new UnsupportedHostError(
      host.webAssembly
        ? "this host's WebAssembly has no SIMD, which wasmgrad needs (Node ≥ 16.4, Chrome ≥ 91, Firefox ≥ 89, Safari ≥ 16.4 have it)"
        : "this host has no WebAssembly",
    );
  }
  if (wanted === "relaxed" && !host.relaxedSimd) {
    throw new UnsupportedHostError(
      'build "relaxed" asked for, but this host has no relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd)',
    );
  }
  const build: Build = wanted === "auto" ? (host.relaxedSimd ? "relaxed" : "simd") : wanted;
  const asked = options.threads ?? "auto";
  const threads = asked === "auto" ? Math.max(1, Math.min(8, await cores())) : asked;
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
    throw new ArgumentError(`init: threads must be "auto" or an integer from 1 to 256, got ${describe(options.threads)}`);
  }
  if (options.threadDeadlineMs !== undefined && !(typeof options.threadDeadlineMs === "number" && options.threadDeadlineMs > 0)) {
    throw new ArgumentError(`init: threadDeadlineMs must be a number of milliseconds > 0, got ${describe(options.threadDeadlineMs)}`);
  }
  const why = threads > 1 ? whyNoThreads(wasm) : null;
  const shared = threads > 1 && why === null;
  const module = await compileModule(build, wasm, { shared });
  const pages = { initial: Math.ceil(initialBytes / PAGE_BYTES), maximum: Math.floor(maxBytes / PAGE_BYTES) };
  const memory = new WebAssembly.Memory(shared ? { ...pages, shared: true } : pages);
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const kernels = instance.exports as unknown as Kernels;
  // A module passed in says which build it is; trust it over the name asked for.
  const actual: Build = kernels.isRelaxed() ? "relaxed" : "simd";
  const engine = new Engine(kernels, new Memory(memory, kernels.heapBase(), Math.floor(maxBytes / PAGE_BYTES) * PAGE_BYTES), actual);
  if (shared) engine.planThreads(module, memory, threads, isNode() ? await nodeWorkerClass() : null);
  if (options.threadDeadlineMs !== undefined) engine.threadDeadlineMs = options.threadDeadlineMs;
  engine.noteThreads(why);
  defaultEngine = engine;
  return engine;
}

/**
 * Node's Worker class, for when the first worker starts. Loading node:worker_threads costs ~1.5 ms,
 * which init() need not pay for a pool that a small model never starts: where
 * process.getBuiltinModule hands modules over at once, the class is fetched then; elsewhere (Node
 * before 20.16) it is imported now.
 */
async function nodeWorkerClass(): Promise<() => WorkerClass> {
  type WorkerThreads = { Worker: WorkerClass };
  if (nodeProcess()?.getBuiltinModule) return () => nodeBuiltinNow<WorkerThreads>("node:worker_threads")!.Worker;
  const { Worker } = await nodeBuiltin<WorkerThreads>("node:worker_threads");
  return () => Worker;
}

/** The host's processors: navigator.hardwareConcurrency (browsers, Node ≥ 21), os.availableParallelism (Node 20), else 1. */
async function cores(): Promise<number> {
  const browser = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  if (browser !== undefined) return browser;
  if (!isNode()) return 1;
  return (await nodeBuiltin<{ availableParallelism?: () => number }>("node:os")).availableParallelism?.() ?? 1;
}

/** Why this host cannot run more than one thread, or null if it can. */
function whyNoThreads(wasm: WasmSource | undefined): string | null {
  const host = globalThis as { crossOriginIsolated?: boolean; Worker?: unknown };
  if (typeof SharedArrayBuffer !== "function" || typeof Atomics !== "object") {
    return host.crossOriginIsolated === false
      ? "this page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp): no shared memory, one thread"
      : "this host has no SharedArrayBuffer: one thread";
  }
  if (!isNode() && typeof host.Worker !== "function") return "this host has no workers: one thread";
  if (wasm !== undefined && Object.prototype.toString.call(wasm) === "[object WebAssembly.Module]") {
    return "init({ wasm }) was given a compiled module: threads need its bytes (to import shared memory), one thread";
  }
  return null;
}

/** The engine `init()` made last. */
export function getEngine(): Engine {
  if (!defaultEngine) throw new NotInitializedError("wasmgrad is not initialised: await init() first");
  return defaultEngine;
}
