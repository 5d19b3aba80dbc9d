// The control block the pool and its workers share: one slot of SLOT_INTS 32-bit integers per
// worker, in the shared memory. The caller writes a job's arguments, then bumps REQUEST and
// notifies; the worker runs it and stores REQUEST's value in DONE.
export type Slot = Int32Array;

export const SLOT_INTS = 32;
/** Incremented for each job; STOP ends the worker. */
export const REQUEST = 0;
/** The last request done. */
export const DONE = 1;
/** 1 once the worker has instantiated the module and waits for jobs. */
export const READY = 2;
/** ARGS: the job's kind, then its arguments. */
export const ARGS = 4;
export const STOP = -1;

export const JOB_GEMM = 1;
