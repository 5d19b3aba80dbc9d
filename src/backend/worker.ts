// One thread of the pool (threads.ts): the same module, instantiated over the engine's shared
// memory, waiting on its slot of the control block for a job, running it, saying it is done.
// Runs as a Node worker_threads worker or a browser module Worker; the first message (or Node's
// workerData) brings the compiled module, the memory and where its slot is.
import { nodeBuiltin } from "./host.js";
import { ARGC, ARGS_BYTE, DONE, KERNEL, KERNELS, MAX_ARGS, READY, REQUEST, SLOT_INTS, STOP, type Slot } from "./slots.js";

interface Start {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  slot: number; // byte address of this worker's slot
}

type Kernel = (...args: number[]) => void;

/** Loads spun before sleeping: in training the next job comes within microseconds, and waking from Atomics.wait takes tens of them. */
const SPIN = 1 << 15;

function serve({ module, memory, slot }: Start): void {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const kernels = KERNELS.map((name) => instance.exports[name] as Kernel);
  // Views over the buffer as it is now: the slot sits low in the memory, and a shared memory's
  // growth never moves what is already there.
  const control: Slot = new Int32Array(memory.buffer, slot, SLOT_INTS);
  const args = new Float64Array(memory.buffer, slot + ARGS_BYTE, MAX_ARGS);
  Atomics.store(control, READY, 1);
  Atomics.notify(control, READY);
  let seen = Atomics.load(control, REQUEST);
  for (;;) {
    for (let spin = 0; spin < SPIN && Atomics.load(control, REQUEST) === seen; spin++);
    Atomics.wait(control, REQUEST, seen);
    seen = Atomics.load(control, REQUEST);
    if (seen === STOP) return;
    kernels[control[KERNEL]](...args.subarray(0, control[ARGC]));
    Atomics.store(control, DONE, seen);
    Atomics.notify(control, DONE);
  }
}

const scope = globalThis as unknown as { WorkerGlobalScope?: unknown; onmessage?: unknown };
if (typeof scope.WorkerGlobalScope !== "undefined") {
  scope.onmessage = (event: { data: Start }) => serve(event.data);
} else {
  serve((await nodeBuiltin<typeof import("node:worker_threads")>("node:worker_threads")).workerData as Start);
}
