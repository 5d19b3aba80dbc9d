// The job table the pool and its workers share, in the shared memory. A job is a list of blocks;
// a block is a short program, a list of kernel calls (the kernel's index in KERNEL_NAMES, its
// argument count, its arguments as float64s: every argument, address, size or f32, is exact in
// one). Threads, the caller's included, claim blocks one at a time from CLAIM by compare-and-swap
// until none are left, so a worker that is late (still starting, or descheduled by the host) costs
// nothing: the others take its blocks. Which thread runs a block never changes what the block
// computes, so the bits do not depend on it.
export type Control = Int32Array;

/** Each contended word on a 64-byte line of its own. */
const LINE_INTS = 16;
/** The claim word: blocks in the job (bits 12–23) and the next unclaimed block (bits 0–11); STOP_BIT ends the workers. */
export const CLAIM = 0;
/** Blocks finished in the current job. */
export const FINISHED = LINE_INTS;
/** One int per worker: 1 once it has instantiated the module and waits for jobs. */
export const READY = 2 * LINE_INTS;
export const MAX_WORKERS = 255;
/** Where block i's program starts in PROGRAM (in float64s); entry i + 1 is where it ends. */
export const STARTS = READY + MAX_WORKERS + 1;
export const MAX_BLOCKS = 256;
/** The programs: float64s from this byte offset. */
export const PROGRAM_BYTE = (STARTS + MAX_BLOCKS + 2) * 4;
export const PROGRAM_FLOATS = 1 << 15;
export const CONTROL_BYTES = PROGRAM_BYTE + PROGRAM_FLOATS * 8;

export const STOP_BIT = 1 << 30;
const INDEX_MASK = 0xfff;

/** The claim word of a job of `blocks` blocks, none claimed. */
export const openClaim = (blocks: number) => blocks << 12;

/** Blocks in the job the claim word describes. */
export const blocksOf = (word: number) => (word >>> 12) & INDEX_MASK;

/**
 * Claims the next block of the open job: its index, or −1 when every block is taken (or the pool
 * stops). The CAS never moves the index past the count, so a thread arriving late can never claim
 * a block of a job whose table is still being written.
 */
export function claim(control: Control): number {
  for (;;) {
    const word = Atomics.load(control, CLAIM);
    const next = word & INDEX_MASK;
    if (word & STOP_BIT || next >= blocksOf(word)) return -1;
    if (Atomics.compareExchange(control, CLAIM, word, word + 1) === word) return next;
  }
}

/** True while the job in `word` has blocks left to claim. */
export const hasWork = (word: number) => (word & STOP_BIT) === 0 && (word & INDEX_MASK) < blocksOf(word);

/**
 * The kernels a block may call, with whether each takes the calling thread's own scratch (a GEMM
 * workspace) as its last argument.
 */
export const KERNELS = {
  sgemm: true,
  adamStep: false, sgdStep: false, fill: false, add: false,
  sigmoid: false, sigmoidBackward: false, tanh: false, tanhBackward: false,
  leakyRelu: false, leakyReluBackward: false, gelu: false, geluBackward: false,
  silu: false, siluBackward: false, elu: false, eluBackward: false,
  softplus: false, softplusBackward: false, hardSigmoid: false, hardSigmoidBackward: false,
  addBias: false, im2col: false, col2im: false, padImage: false, convDirect: false, convOneChannel: false, convWeightGrad: false,
  maxPool: false, maxPoolBackward: false, avgPool: false, avgPoolBackward: false,
} as const;
export type ParallelKernel = keyof typeof KERNELS;
export const KERNEL_NAMES = Object.keys(KERNELS) as ParallelKernel[];

/** One kernel call of a block: the kernel and its arguments (less the scratch, which each thread adds). */
export type Call = [ParallelKernel, ...number[]];
