// One thread of the pool (threads.ts): the same module, instantiated over the engine's shared
// memory, claiming blocks of each job posted in the job table (slots.ts) until none are left.
// Runs as a Node worker_threads worker or a browser module Worker; the first message (or Node's
// workerData) brings the compiled module, the memory, where the table is and this thread's scratch.
import { nodeBuiltin } from "./host.js";
import {
  BLOCKS, CLAIM, FAULT, FAULT_CHARS, FAULT_TEXT, FINISHED, KERNEL_NAMES, KERNELS, PROGRAM_BYTE, PROGRAM_FLOATS, READY, STARTS, STOP_BIT, claim, hasWork,
} from "./slots.js";
import type { ThreadStart } from "./threads.js";

/**
 * How long a worker keeps polling for the next job before it sleeps: 100 µs. Waking from
 * Atomics.wait costs ~30 µs, but a polling thread slowed the caller's own work by ~20% on this
 * project's machine (its two vCPUs share a core's resources), so it polls only across the short
 * gaps between a training step's shared jobs (measured: 2 ms of polling trained slower).
 */
const SPIN_MS = 0.1;

function serve({ module, memory, control: at, index, scratch }: ThreadStart): void {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const kernels = KERNEL_NAMES.map((name) => instance.exports[name] as (...args: number[]) => void);
  const takesScratch = KERNEL_NAMES.map((name) => KERNELS[name]);
  // Views over the buffer as it is now: the table sits low in the memory, and a shared memory's
  // growth never moves what is already there.
  const control = new Int32Array(memory.buffer, at, PROGRAM_BYTE / 4);
  const program = new Float64Array(memory.buffer, at + PROGRAM_BYTE, PROGRAM_FLOATS);
  const args: number[] = [];
  Atomics.store(control, READY + index, 1);
  for (;;) {
    // Wait for a job with blocks left: poll for SPIN_MS, then sleep until the claim word changes.
    const until = performance.now() + SPIN_MS;
    for (let spin = 1, word = Atomics.load(control, CLAIM); !hasWork(word); spin++, word = Atomics.load(control, CLAIM)) {
      if (word & STOP_BIT) return;
      if ((spin & 1023) === 0 && performance.now() > until) Atomics.wait(control, CLAIM, word);
    }
    // This worker's own block is the one after the caller's (block 0).
    for (let block = claim(control, index + 1); block >= 0; block = claim(control, index + 1)) {
      // Read while this block is unfinished: the job cannot change under us until we count it.
      const blocks = control[BLOCKS];
      try {
        for (let pc = control[STARTS + block], end = control[STARTS + block + 1]; pc < end; ) {
          const kernel = program[pc];
          args.length = program[pc + 1];
          for (let i = 0; i < args.length; i++) args[i] = program[pc + 2 + i];
          pc += 2 + args.length;
          if (takesScratch[kernel]) args.push(scratch);
          kernels[kernel](...args);
        }
      } catch (e) {
        // A trap (out of bounds, unreachable): say so in the table, for the caller to throw, and
        // count the block finished so that the caller is not left waiting. The thread serves on.
        if (Atomics.compareExchange(control, FAULT, 0, index + 1) === 0) {
          const text = `${(e as Error).name}: ${(e as Error).message}`.slice(0, FAULT_CHARS - 1);
          for (let i = 0; i < text.length; i++) control[FAULT_TEXT + i] = text.charCodeAt(i);
          control[FAULT_TEXT + text.length] = 0;
        }
      }
      if (Atomics.add(control, FINISHED, 1) + 1 === blocks) Atomics.notify(control, FINISHED);
    }
  }
}

const scope = globalThis as unknown as { WorkerGlobalScope?: unknown; onmessage?: unknown };
if (typeof scope.WorkerGlobalScope !== "undefined") {
  scope.onmessage = (event: { data: ThreadStart }) => serve(event.data);
} else {
  serve((await nodeBuiltin<typeof import("node:worker_threads")>("node:worker_threads")).workerData as ThreadStart);
}
