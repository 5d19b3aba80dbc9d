// The worker pool: threads that run the same kernels over the engine's one shared memory. Work big
// enough to pay for the hand-off is divided by output, never by a sum: a GEMM into blocks of C's
// rows (or columns), an elementwise kernel (an optimiser step) into ranges, a batch into images.
// Every output element is computed in the one order its kernel always uses, so the bits do not
// depend on how many threads there are, nor on which thread runs which block (slots.ts: blocks are
// claimed, the caller's thread claiming too). Workers start in the background; until they are up,
// the caller claims every block itself.
import { isNode, nodeProcess } from "./host.js";
import { ThreadError } from "../errors.js";
import {
  BLOCKS, CLAIM, CONTROL_BYTES, type Call, type Control, FAULT, FAULT_CHARS, FAULT_TEXT, FINISHED, KERNEL_NAMES, MAX_BLOCKS, MAX_WORKERS, PROGRAM_BYTE,
  PROGRAM_FLOATS, READY, STARTS, STOP_BIT, claim, openClaim,
} from "./slots.js";

/**
 * Below this many multiply-adds a GEMM stays on the calling thread. Measured in training, not
 * alone: a worker reading operands the caller has just written pays for every cache line it
 * pulls across (≈ 20 µs for 48 KiB on this project's 2-core machine), which a 0.5M-MAC GEMM
 * (≈ 22 µs) does not win back; 2²⁰ and above gain (npm run bench -- gemm --threads 2).
 */
export const PARALLEL_MIN_MACS = 1 << 20;
/** Below this many elements an elementwise kernel (an optimiser step) stays on the calling thread. */
export const PARALLEL_MIN_ELEMENTS = 1 << 15;
const MR = 4, NR = 8; // the GEMM kernel's register tile: blocks are cut on its boundaries
/** Loads of FINISHED the caller polls before it sleeps on it (≈ 10–20 µs). */
const CALLER_SPIN = 1 << 14;

export interface ThreadStart {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** Byte address of the job table. */
  control: number;
  /** This worker's index (its READY int) and its scratch's byte address. */
  index: number;
  scratch: number;
}

/** Node's worker_threads Worker, as the pool uses it. */
export type WorkerClass = new (url: URL, options: object) => { unref(): void; terminate(): Promise<number>; on(event: "error", listener: (error: Error) => void): void };

export class ThreadPool {
  private readonly stops: (() => void)[] = [];
  /** Why a worker did not start (its file missing, say), if one did not: the others, the caller's thread too, claim its blocks. */
  failure: string | null = null;
  /** A shared job gets this long (ms) to finish once posted; past it the pool stops its workers. */
  deadlineMs = 60_000;
  /** Why the pool stopped its workers (a job past its deadline), if it did: the engine runs on one thread then. */
  broken: string | null = null;
  private failed = 0;
  private readonly control: Control;
  private readonly program: Float64Array;
  /** The main thread may not Atomics.wait in browsers: it spins there instead. */
  private readonly canWait: boolean;

  private constructor(memory: WebAssembly.Memory, at: number, private readonly workers: number) {
    this.control = new Int32Array(memory.buffer, at, PROGRAM_BYTE / 4);
    this.program = new Float64Array(memory.buffer, at + PROGRAM_BYTE, PROGRAM_FLOATS);
    this.canWait = isNode();
  }

  /** Bytes of the job table `start` needs at `control`. */
  static readonly controlBytes = CONTROL_BYTES;

  /**
   * Starts one worker per scratch over `memory` (shared), the job table at `control`: Node's
   * worker_threads where `NodeWorker` is given, browser module Workers otherwise. Returns at once;
   * the workers come up in the background.
   */
  static start(module: WebAssembly.Module, memory: WebAssembly.Memory, control: number, scratches: number[], NodeWorker: WorkerClass | null): ThreadPool {
    if (scratches.length > MAX_WORKERS) throw new RangeError(`threads: at most ${MAX_WORKERS + 1} threads`);
    new Int32Array(memory.buffer, control, PROGRAM_BYTE / 4).fill(0);
    const pool = new ThreadPool(memory, control, scratches.length);
    scratches.forEach((scratch, index) => {
      const start: ThreadStart = { module, memory, control, index, scratch };
      if (NodeWorker) {
        // Workers inherit the process's flags, and refuse --input-type (of `node -e`): drop them all
        // then (V8's flags, such as relaxed SIMD's, are the whole process's anyway).
        const inherited = nodeProcess()?.execArgv ?? [];
        const worker = new NodeWorker(new URL("./worker.js", import.meta.url), { workerData: start, ...(inherited.some((f) => f.startsWith("--input-type")) ? { execArgv: [] } : {}) });
        worker.unref(); // a process may end without engine.dispose(): the workers never hold it
        worker.on("error", (error) => pool.fail(error.message));
        pool.stops.push(() => void worker.terminate());
      } else {
        // Written out in full, so that bundlers (Vite, webpack) see new Worker(new URL(…)) and bundle the worker.
        const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
        worker.addEventListener("error", (event) => pool.fail(event.message || "its script did not load"));
        worker.postMessage(start);
        pool.stops.push(() => worker.terminate());
      }
    });
    return pool;
  }

  private fail(message: string): void {
    this.failed++;
    this.failure ??= `a worker thread did not start (${message}): ${this.size} thread${this.size === 1 ? "" : "s"}`;
  }

  /** Workers that have come up. */
  get readyWorkers(): number {
    let ready = 0;
    for (let i = 0; i < this.workers; i++) ready += Atomics.load(this.control, READY + i);
    return ready;
  }

  /** Resolves once every worker is up (or rejects after `timeoutMs`). */
  async whenReady(timeoutMs = 20_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.readyWorkers < this.workers - this.failed) {
      if (Date.now() > until) throw new Error(`threads: ${this.workers - this.readyWorkers} worker(s) did not start within ${timeoutMs} ms`);
      await new Promise((done) => setTimeout(done, 2));
    }
  }

  /** Threads in all: the caller's and the workers' (less any that did not start). */
  get size(): number {
    return this.workers - this.failed + 1;
  }

  /**
   * C (=|+=) op(A)·op(B) in blocks of C, then the epilogue (bias, clamp: engine.gemm's), or false
   * (nothing done) when C is too narrow to cut.
   * `own` runs one block on the calling thread, with its own scratch.
   */
  gemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    a: number, lda: number, b: number, ldb: number, c: number, ldc: number, accumulate: boolean,
    [bias, lo, hi]: [number, number, number], own: (call: Call) => void,
  ): boolean {
    // Cut C along its longer side, on the register tile's boundaries.
    const byRows = m >= n;
    const [extent, tile] = byRows ? [m, MR] : [n, NR];
    const blocks = this.cuts(extent, tile).map(([from, to]): Call[] => [byRows
      // Row r of op(A) starts at a + r·lda (not transposed) or a + r (transposed); likewise columns of op(B).
      ? ["sgemm", +transA, +transB, to - from, n, k, a + 4 * from * (transA ? 1 : lda), lda, b, ldb, c + 4 * from * ldc, ldc, +accumulate, bias, lo, hi]
      : ["sgemm", +transA, +transB, m, to - from, k, a, lda, b + 4 * from * (transB ? ldb : 1), ldb, c + 4 * from, ldc, +accumulate, bias && bias + 4 * from, lo, hi]]);
    return this.run(blocks, own);
  }

  /**
   * Work over `count` items (elements, rows, images) cut into ranges of whole `unit`s, one per
   * thread: `calls(from, to)` are a range's kernel calls. False (nothing done) when there is only
   * one range or the calls do not fit the table.
   */
  split(count: number, unit: number, calls: (from: number, to: number) => Call[], own: (call: Call) => void): boolean {
    return this.run(this.cuts(count, unit).map(([from, to]) => calls(from, to)), own);
  }

  /** [from, to) ranges of `extent`, cut on multiples of `unit`, one per thread (fewer if it is short). */
  private cuts(extent: number, unit: number): [number, number][] {
    const units = Math.ceil(extent / unit);
    const parts = Math.min(this.size, units, MAX_BLOCKS);
    const cut = (i: number) => Math.min(extent, Math.round((units * i) / parts) * unit);
    const ranges: [number, number][] = [];
    for (let i = 0; i < parts; i++) if (cut(i + 1) > cut(i)) ranges.push([cut(i), cut(i + 1)]);
    return ranges;
  }

  /**
   * Posts the blocks, claims and runs blocks on this thread too, and returns true when all are
   * done; false (nothing done) for fewer than two blocks or more than the table holds.
   */
  private run(blocks: Call[][], own: (call: Call) => void): boolean {
    const { control, program } = this;
    if (blocks.length < 2 || blocks.length > MAX_BLOCKS) return false;
    let at = 0;
    for (let i = 0; i < blocks.length; i++) {
      control[STARTS + i] = at;
      for (const [kernel, ...args] of blocks[i]) {
        if (at + 2 + args.length > PROGRAM_FLOATS) return false;
        program[at] = KERNEL_NAMES.indexOf(kernel);
        program[at + 1] = args.length;
        program.set(args, at + 2);
        at += 2 + args.length;
      }
    }
    control[STARTS + blocks.length] = at;
    control[BLOCKS] = blocks.length;
    Atomics.store(control, FINISHED, 0);
    Atomics.store(control, FAULT, 0);
    const deadline = performance.now() + this.deadlineMs;
    Atomics.store(control, CLAIM, openClaim(blocks.length)); // the table is written: open the job
    Atomics.notify(control, CLAIM);
    let ownError: unknown = null;
    for (let block = claim(control, 0); block >= 0; block = claim(control, 0)) {
      try {
        for (const call of blocks[block]) own(call);
      } catch (e) {
        ownError = e; // this thread's own trap: thrown once the workers are done with the job (the next one must not start under them)
      }
      Atomics.add(control, FINISHED, 1);
      if (ownError) break;
    }
    // Poll first (a worker's block usually ends within microseconds of ours), then sleep if it
    // has not: Atomics.wait's wake-up costs tens of microseconds. A worker that gives no answer by
    // the deadline (it hangs, or it died) is given up on.
    for (let spin = 1, finished = Atomics.load(control, FINISHED); finished < blocks.length; spin++, finished = Atomics.load(control, FINISHED)) {
      if (spin > CALLER_SPIN || (spin & 1023) === 0) {
        const left = deadline - performance.now();
        if (left <= 0) throw this.giveUp();
        if (this.canWait && spin > CALLER_SPIN) Atomics.wait(control, FINISHED, finished, Math.min(1000, left));
      }
    }
    if (ownError) throw ownError;
    const fault = Atomics.load(control, FAULT);
    if (fault !== 0) {
      let text = "";
      for (let i = 0; i < FAULT_CHARS && control[FAULT_TEXT + i] !== 0; i++) text += String.fromCharCode(control[FAULT_TEXT + i]);
      throw new ThreadError(`worker thread ${fault} failed its part of a shared job (${text}); the operation did not happen, and the engine and its threads go on`, "trap");
    }
    return true;
  }

  /** Stops the workers after a job past its deadline; the error to throw. */
  private giveUp(): ThreadError {
    this.broken = `a job shared between threads had no answer within ${this.deadlineMs} ms (threadDeadlineMs): the worker threads were stopped, one thread from then on`;
    this.dispose();
    return new ThreadError(`${this.broken}; the operation did not happen`, "deadline");
  }

  /** Stops every worker. */
  dispose(): void {
    Atomics.or(this.control, CLAIM, STOP_BIT);
    Atomics.notify(this.control, CLAIM);
    for (const stop of this.stops) stop();
    this.stops.length = 0;
  }
}
