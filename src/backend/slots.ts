// The job table the pool and its workers share, in the shared memory. A job is a list of blocks;
// a block is a short program, a list of kernel calls (the kernel's index in KERNEL_NAMES, its
// argument count, its arguments as float64s: every argument, address, size or f32, is exact in
// one). Threads, the caller's included, claim blocks by compare-and-swap until none are left:
// thread t its own block t first (so that the thread that wrote a block's data last time, the
// same range of the same tensors, finds it in its cache), then any other left, so a worker that
// is late (still starting, or descheduled by the host) costs nothing: the others take its block.
// Which thread runs a block never changes what the block computes, so the bits do not depend on it.
export type Control = Int32Array;

/** Each contended word on a 64-byte line of its own. */
const LINE_INTS = 16;
/** The claim word: one bit per block not yet claimed (bits 0–29); STOP_BIT ends the workers. */
export const CLAIM = 0;
/** Blocks finished in the current job. */
export const FINISHED = LINE_INTS;
/** Blocks in the current job. */
export const BLOCKS = 2 * LINE_INTS;
/** 0, or 1 + the index of the worker whose block threw (a Wasm trap) in the current job. */
export const FAULT = 3 * LINE_INTS;
/** The thrown error's message, as UTF-16 code units (0-terminated), FAULT_CHARS of them at most. */
export const FAULT_TEXT = 4 * LINE_INTS;
export const FAULT_CHARS = 128;
/** One int per worker: 1 once it has instantiated the module and waits for jobs. */
export const READY = FAULT_TEXT + FAULT_CHARS;
export const MAX_WORKERS = 255;
/** Most blocks a job has: one per thread, for the first MAX_BLOCKS threads. */
export const MAX_BLOCKS = 30;
/** Where block i's program starts in PROGRAM (in float64s); entry i + 1 is where it ends. */
export const STARTS = READY + MAX_WORKERS + 1;
/** The programs: float64s from this byte offset. */
export const PROGRAM_BYTE = (STARTS + MAX_BLOCKS + 2) * 4;
export const PROGRAM_FLOATS = 1 << 15;
export const CONTROL_BYTES = PROGRAM_BYTE + PROGRAM_FLOATS * 8;

export const STOP_BIT = 1 << 30;
const UNCLAIMED = STOP_BIT - 1;

/** The claim word of a job of `blocks` blocks, none claimed. */
export const openClaim = (blocks: number) => 2 ** blocks - 1;

/**
 * Claims a block of the open job: `own` if it is still unclaimed, else the lowest one left; −1
 * when every block is taken (or the pool stops). A thread arriving late can only claim a block
 * of a job whose table is written: the caller writes it before it opens the job.
 */
export function claim(control: Control, own: number): number {
  for (;;) {
    const word = Atomics.load(control, CLAIM);
    const left = word & UNCLAIMED;
    if (word & STOP_BIT || left === 0) return -1;
    // A thread past the last block has none of its own (and a shift counts modulo 32: test first).
    const block = own < MAX_BLOCKS && (left >>> own) & 1 ? own : 31 - Math.clz32(left & -left);
    if (Atomics.compareExchange(control, CLAIM, word, word & ~(1 << block)) === word) return block;
  }
}

/** True while the job in `word` has blocks left to claim. */
export const hasWork = (word: number) => (word & STOP_BIT) === 0 && (word & UNCLAIMED) !== 0;

/**
 * The kernels a block may call, with whether each takes the calling thread's own scratch (a GEMM
 * workspace) as its last argument.
 */
export const KERNELS = {
  sgemm: true,
  adamStep: false, sgdStep: false, fill: false, add: false, sub: false, mul: false, div: false, scale: false, addScalar: false,
  sigmoid: false, sigmoidBackward: false, tanh: false, tanhBackward: false,
  leakyRelu: false, leakyReluBackward: false, gelu: false, geluBackward: false,
  silu: false, siluBackward: false, elu: false, eluBackward: false,
  softplus: false, softplusBackward: false, hardSigmoid: false, hardSigmoidBackward: false, hardSwish: false, hardSwishBackward: false,
  softmaxRows: false, softmaxBackward: false, logSoftmaxRows: false, logSoftmaxBackward: false,
  addBias: false, mulRows: false, copyRows: false, transposeBlocks: false, clamp: false, clampBackward: false, winogradInput: false, winogradOutput: false, im2col: false, col2im: false, padImage: false, convDirect: false, convOneChannel: false, convWeightGrad: false, depthwiseConv: false, depthwiseConvInputGrad: false, depthwiseConvWeightGrad: false,
  maxPool: false, maxPoolBackward: false, avgPool: false, avgPoolBackward: false, lrn: false, lrnBackward: false, resizeImages: false, resizeImagesBackward: false,
} as const;
export type ParallelKernel = keyof typeof KERNELS;
export const KERNEL_NAMES = Object.keys(KERNELS) as ParallelKernel[];

/** One kernel call of a block: the kernel and its arguments (less the scratch, which each thread adds). */
export type Call = [ParallelKernel, ...number[]];
