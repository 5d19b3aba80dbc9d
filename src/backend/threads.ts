// The worker pool: threads that run the same kernels over the engine's one shared memory. Work big
// enough to pay for the hand-off is divided by output, never by a sum: a GEMM into blocks of C's
// rows (or columns), an elementwise kernel (an optimiser step) into ranges, one per thread, the
// caller's own thread taking the first. Every output element is computed in the one order its
// kernel always uses, so the bits do not depend on how many threads there are. Workers start in
// the background: work runs on the threads that are ready, the caller's always.
import { isNode, nodeBuiltin, nodeProcess } from "./host.js";
import { ARGC, ARGS_BYTE, DONE, KERNEL, KERNELS, MAX_ARGS, type ParallelKernel, READY, REQUEST, SLOT_INTS, STOP, type Slot } from "./slots.js";

/**
 * Below this many multiply-adds a GEMM stays on the calling thread: handing off costs more
 * (measured with npm run bench -- gemm --threads 2: 64·128·64 ran at 0.55× on two threads,
 * 128³ at ~1×, 64·784·128 at 1.6–1.9×).
 */
export const PARALLEL_MIN_MACS = 1 << 21;
const MR = 4, NR = 8; // the kernel's register tile: blocks are cut on its boundaries

interface Worker {
  slot: Slot;
  args: Float64Array;
  request: number;
  stop(): void;
}

/** Below this many elements an elementwise kernel (an optimiser step) stays on the calling thread. */
export const PARALLEL_MIN_ELEMENTS = 1 << 15;

export class ThreadPool {
  private readonly workers: Worker[] = [];
  /** The main thread may not Atomics.wait in browsers: it spins there instead. */
  private readonly canWait: boolean;

  private constructor(canWait: boolean) {
    this.canWait = canWait;
  }

  /**
   * Starts `extra` workers over `memory` (shared), each with its slot and GEMM workspace at the
   * addresses given; returns at once, the workers come up in the background.
   */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, slots: number[], workspaces: number[]): Promise<ThreadPool> {
    const pool = new ThreadPool(isNode());
    type NodeWorkerClass = new (url: URL, options: object) => { unref(): void; terminate(): Promise<number> };
    const NodeWorker = isNode() ? (await nodeBuiltin<{ Worker: NodeWorkerClass }>("node:worker_threads")).Worker : null;
    slots.forEach((at, i) => {
      const slot = new Int32Array(memory.buffer, at, SLOT_INTS);
      slot.fill(0);
      const start = { module, memory, slot: at };
      let stop: () => void;
      if (NodeWorker) {
        // Workers inherit the process's flags, and refuse --input-type (of `node -e`): drop them all
        // then (V8's flags, such as relaxed SIMD's, are the whole process's anyway).
        const inherited = nodeProcess()?.execArgv ?? [];
        const worker = new NodeWorker(new URL("./worker.js", import.meta.url), { workerData: start, ...(inherited.some((f) => f.startsWith("--input-type")) ? { execArgv: [] } : {}) });
        worker.unref(); // a process may end without engine.dispose(): the workers never hold it
        stop = () => void worker.terminate();
      } else {
        // Written out in full, so that bundlers (Vite, webpack) see new Worker(new URL(…)) and bundle the worker.
        const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
        worker.postMessage(start);
        stop = () => worker.terminate();
      }
      pool.workers.push({ slot, args: new Float64Array(memory.buffer, at + ARGS_BYTE, MAX_ARGS), request: 0, stop });
    });
    return pool;
  }

  /** Workers that have come up: the caller plus these share the next job. */
  get readyWorkers(): number {
    return this.workers.filter((w) => Atomics.load(w.slot, READY) === 1).length;
  }

  /** Resolves once every worker is up (or rejects after `timeoutMs`). */
  async whenReady(timeoutMs = 20_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.readyWorkers < this.workers.length) {
      if (Date.now() > until) throw new Error(`threads: ${this.workers.length - this.readyWorkers} worker(s) did not start within ${timeoutMs} ms`);
      await new Promise((done) => setTimeout(done, 2));
    }
  }

  /** Threads in all: the caller's and the workers'. */
  get size(): number {
    return this.workers.length + 1;
  }

  /**
   * C (=|+=) op(A)·op(B) over the ready threads, or false (nothing done) when it is too small to
   * share or no worker is ready. `run` computes one block on the calling thread (with its own GEMM
   * workspace); `workspaces` are the workers', in the pool's order.
   */
  gemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    a: number, lda: number, b: number, ldb: number, c: number, ldc: number, accumulate: boolean,
    run: (transA: boolean, transB: boolean, m: number, n: number, k: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, accumulate: boolean) => void,
    workspaces: number[],
  ): boolean {
    if (m * n * k < PARALLEL_MIN_MACS) return false;
    const ready = this.workers.filter((w) => Atomics.load(w.slot, READY) === 1);
    if (ready.length === 0) return false;
    // Cut C along its longer side, on the register tile's boundaries.
    const byRows = m >= n;
    const [extent, tile] = byRows ? [m, MR] : [n, NR];
    const parts = Math.min(ready.length + 1, Math.floor(extent / tile));
    if (parts < 2) return false;
    const tiles = Math.ceil(extent / tile);
    const cut = (i: number) => Math.min(extent, Math.round((tiles * i) / parts) * tile);
    const blocks: number[][] = [];
    for (let i = 1; i < parts; i++) {
      const [from, to] = [cut(i), cut(i + 1)];
      if (to <= from) continue;
      // Row r of op(A) starts at a + r·lda (not transposed) or a + r (transposed); likewise columns of op(B).
      blocks.push(byRows
        ? [transA ? 1 : 0, transB ? 1 : 0, to - from, n, k, a + 4 * from * (transA ? 1 : lda), lda, b, ldb, c + 4 * from * ldc, ldc, accumulate ? 1 : 0]
        : [transA ? 1 : 0, transB ? 1 : 0, m, to - from, k, a, lda, b + 4 * from * (transB ? ldb : 1), ldb, c + 4 * from, ldc, accumulate ? 1 : 0]);
    }
    const first = cut(1);
    this.share("sgemm", ready, blocks, (i) => workspaces[this.workers.indexOf(ready[i])], () => {
      if (byRows) run(transA, transB, first, n, k, a, lda, b, ldb, c, ldc, accumulate);
      else run(transA, transB, m, first, k, a, lda, b, ldb, c, ldc, accumulate);
    });
    return true;
  }

  /**
   * An elementwise kernel over `count` elements cut into equal ranges, one per ready thread:
   * `args(from, to)` gives a range's arguments, `own(args)` runs one on the calling thread.
   * False (nothing done) when it is too small to share or no worker is ready.
   */
  elementwise(kernel: ParallelKernel, count: number, args: (from: number, to: number) => number[], own: (args: number[]) => void): boolean {
    if (count < PARALLEL_MIN_ELEMENTS) return false;
    const ready = this.workers.filter((w) => Atomics.load(w.slot, READY) === 1);
    if (ready.length === 0) return false;
    const parts = ready.length + 1;
    const cut = (i: number) => Math.min(count, Math.ceil(count / parts / 4) * 4 * i); // whole vectors per range
    const ranges = Array.from({ length: parts - 1 }, (_, i) => args(cut(i + 1), cut(i + 2))).filter((_, i) => cut(i + 2) > cut(i + 1));
    this.share(kernel, ready, ranges, null, () => own(args(0, cut(1))));
    return true;
  }

  /** Posts jobs[i] to ready[i] (with extra(i) appended), runs `mine`, waits for all. */
  private share(kernel: ParallelKernel, ready: Worker[], jobs: number[][], extra: ((i: number) => number) | null, mine: () => void): void {
    const posted: [Worker, number][] = [];
    jobs.forEach((job, i) => {
      const w = ready[i];
      const all = extra ? [...job, extra(i)] : job;
      w.args.set(all);
      w.slot[KERNEL] = KERNELS.indexOf(kernel);
      w.slot[ARGC] = all.length;
      w.request++;
      Atomics.store(w.slot, REQUEST, w.request);
      Atomics.notify(w.slot, REQUEST);
      posted.push([w, w.request]);
    });
    mine();
    for (const [w, request] of posted) {
      for (let done = Atomics.load(w.slot, DONE); done !== request; done = Atomics.load(w.slot, DONE)) {
        if (this.canWait) Atomics.wait(w.slot, DONE, done, 1000);
      }
    }
  }

  /** Stops every worker. */
  dispose(): void {
    for (const w of this.workers) {
      Atomics.store(w.slot, REQUEST, STOP);
      Atomics.notify(w.slot, REQUEST);
      w.stop();
    }
    this.workers.length = 0;
  }
}
