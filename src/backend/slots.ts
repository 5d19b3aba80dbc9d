// The control block the pool and its workers share: one slot of SLOT_BYTES per worker, in the
// shared memory. The caller writes a job, then bumps REQUEST and notifies; the worker runs it and
// stores REQUEST's value in DONE. A job is a kernel (its index in KERNELS) and its arguments, as
// float64s (every kernel argument, address, size or f32, is exact in one).
export type Slot = Int32Array;

export const SLOT_BYTES = 256;
export const SLOT_INTS = SLOT_BYTES / 4;
/** Incremented for each job; STOP ends the worker. */
export const REQUEST = 0;
/** The last request done. */
export const DONE = 1;
/** 1 once the worker has instantiated the module and waits for jobs. */
export const READY = 2;
/** The job's kernel, an index in KERNELS. */
export const KERNEL = 3;
/** How many arguments follow. */
export const ARGC = 4;
/** The arguments: float64s from this byte offset of the slot. */
export const ARGS_BYTE = 64;
export const MAX_ARGS = (SLOT_BYTES - ARGS_BYTE) / 8;
export const STOP = -1;

/** The kernels a worker runs: those the pool splits (by output block or element range). */
export const KERNELS = ["sgemm", "adamStep", "sgdStep"] as const;
export type ParallelKernel = (typeof KERNELS)[number];
