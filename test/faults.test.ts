// Fault containment in the worker pool: a kernel that traps in a worker thread, and a worker that
// gives no answer within the engine's deadline, each become a typed ThreadError in the caller —
// not a hang, not an untyped crash — and the engine stays usable: its threads go on after a trap,
// and after a deadline it runs on one thread and says why. Faults are injected through the
// engine's own job API: a block that writes past the end of memory, a block that takes too long.
import { describe, expect, it } from "vitest";
// The built package: the pool starts its workers from dist/worker.js.
import { ThreadError, init, tensor } from "../dist/index.js";
import type { Call } from "../src/backend/slots.js";

const N = 1 << 20; // floats per fill

/** A job of two blocks: block 0 (the caller's) `first`, block 1 (the worker's own) `second`. */
const twoBlocks = (first: Call[], second: Call[]) => (from: number): Call[] => (from === 0 ? first : second);

async function engineWithWorker() {
  const engine = await init({ threads: 2 });
  await engine.threadsReady();
  expect(engine.threads).toBe(2);
  return engine;
}

const product = () => tensor(Float32Array.from({ length: 512 * 512 }, (_, i) => (i % 7) - 3), { shape: [512, 512] }).matmul(tensor(Float32Array.from({ length: 512 * 64 }, (_, i) => (i % 5) - 2), { shape: [512, 64] })).data();

describe("a worker thread's fault is a typed error in the caller", () => {
  it("a trap in a worker: ThreadError (reason trap) naming it; the engine and both its threads go on with the same bits", async () => {
    const engine = await engineWithWorker();
    const before = Array.from(product());
    const at = engine.memory.alloc(4 * N);
    const outside = engine.memory.wasm.buffer.byteLength + 4096; // past the end: the fill traps
    // The caller's block is long, so the worker claims its own block (the faulty one) meanwhile.
    const job = twoBlocks(Array.from({ length: 40 }, (): Call => ["fill", at, 0, N]), [["fill", outside, 0, N]]);
    let thrown: unknown = null;
    try {
      engine.share(2, job, { unit: 1, minWork: 0 });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ThreadError);
    expect((thrown as ThreadError).reason).toBe("trap");
    expect((thrown as Error).message).toMatch(/worker thread 1 failed its part of a shared job \(RuntimeError: memory access out of bounds\)/);
    expect(engine.threads).toBe(2);
    expect(Array.from(product())).toEqual(before);
    engine.memory.free(at);
    engine.dispose();
  }, 60_000);

  it("no answer within threadDeadlineMs: ThreadError (reason deadline); the workers stop, the engine runs on one thread, says why, and computes the same bits", async () => {
    const engine = await engineWithWorker();
    const before = Array.from(product());
    engine.threadDeadlineMs = 20;
    const at = engine.memory.alloc(4 * N);
    // The caller's block is long enough that the worker claims its own (the slow one) first: were the
    // worker late, the caller would take that block itself and no deadline would pass.
    const job = twoBlocks(Array.from({ length: 200 }, (): Call => ["fill", at, 0, N]), Array.from({ length: 4000 }, (): Call => ["fill", at, 1, N]));
    expect(() => engine.share(2, job, { unit: 1, minWork: 0 })).toThrow(ThreadError);
    expect(engine.threads).toBe(1);
    expect(engine.threadsNote).toMatch(/no answer within 20 ms \(threadDeadlineMs\): the worker threads were stopped, one thread from then on/);
    expect(Array.from(product())).toEqual(before);
    expect(() => { engine.threadDeadlineMs = 0; }).toThrow(/threadDeadlineMs must be a number of milliseconds > 0/);
    await expect(init({ threadDeadlineMs: -1 })).rejects.toThrow(/init: threadDeadlineMs/);
  }, 60_000);
});
