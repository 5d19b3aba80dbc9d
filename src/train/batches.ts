// Batches for a hand-written training loop, as PyTorch's DataLoader gives them:
//   for (const [xb, yb] of batches(x, y, { batchSize: 64, shuffle: true })) { … }
// The iterator owns the batch tensors it hands out and frees each pair when the next is asked
// for (and the last when the loop ends), so a loop that never calls dispose() stays flat in
// memory even when it never yields. Copy (or detach) a batch to keep it past its iteration.
import { checkBoolean, checkCount, checkNumber, checkOptions, describe } from "../check.js";
import { ArgumentError, ShapeError } from "../errors.js";
import { Random } from "../random.js";
import { Tensor, formatShape } from "../tensor.js";

export interface BatchOptions {
  /** Default 32. */
  batchSize?: number;
  /** A new order every pass over the data. Default false. */
  shuffle?: boolean;
  /** Seeds the shuffling. Default 0. */
  seed?: number;
  /** Leave out a last batch smaller than batchSize. Default false. */
  dropLast?: boolean;
}

/** Rows of every tensor in `data` (all with the same number of rows), a batch at a time. */
export function batches(...args: [...data: Tensor[], options: BatchOptions] | Tensor[]): IterableIterator<Tensor[]> {
  const last = args[args.length - 1];
  const hasOptions = args.length > 0 && !Tensor.isTensor(last);
  const data = (hasOptions ? args.slice(0, -1) : args) as unknown[];
  const { batchSize = 32, shuffle = false, seed = 0, dropLast = false } = checkOptions("batches", hasOptions ? (last as BatchOptions) : undefined);
  checkCount("batches", "batchSize", batchSize);
  checkBoolean("batches", "shuffle", shuffle);
  checkBoolean("batches", "dropLast", dropLast);
  checkNumber("batches", "seed", seed, { integer: true });
  if (data.length === 0) throw new ArgumentError("batches: expected at least one tensor (x, or x and y)");
  const tensors = data.map((t, i) => {
    if (!Tensor.isTensor(t)) throw new ArgumentError(`batches: argument ${i} must be a Tensor, got ${describe(t)}`);
    t.assertLive();
    if (t.rank < 1) throw new ShapeError(`batches: argument ${i} needs a first axis to batch along, got a scalar`);
    return t;
  });
  const n = tensors[0].shape[0];
  const engine = tensors[0].engine;
  for (const [i, t] of tensors.entries()) {
    if (t.shape[0] !== n) throw new ShapeError(`batches: every tensor needs ${n} rows, argument ${i} has shape ${formatShape(t.shape)}`);
    if (t.engine !== engine) throw new ArgumentError(`batches: argument ${i} lives in another engine's memory`);
  }
  const order = Int32Array.from({ length: n }, (_, i) => i);
  if (shuffle) new Random(seed).shuffle(order);
  const count = dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
  let b = 0;
  let handedOut: Tensor[] = [];
  const free = () => {
    for (const t of handedOut) t.releaseBy("when batches() moved on to the next batch (copy or detach a batch to keep it)");
    handedOut = [];
  };
  const iterator: IterableIterator<Tensor[]> = {
    [Symbol.iterator]: () => iterator,
    next(): IteratorResult<Tensor[]> {
      free();
      if (b >= count) return { done: true, value: undefined };
      const start = b++ * batchSize;
      const rows = order.subarray(start, Math.min(start + batchSize, n));
      handedOut = tensors.map((t) => gatherRows(t, rows));
      return { done: false, value: handedOut };
    },
    return(): IteratorResult<Tensor[]> {
      free(); // a loop left by break or an exception frees its last batch too
      b = count;
      return { done: true, value: undefined };
    },
  };
  return iterator;
}

/** t's rows at `rows`, as a new tensor. */
function gatherRows(t: Tensor, rows: Int32Array): Tensor {
  const per = t.size / t.shape[0];
  const out = Tensor.persistent([rows.length, ...t.shape.slice(1)], t.engine);
  const memory = t.engine.memory;
  const index = Tensor.persistent([rows.length], t.engine); // i32 row indices, stored in a float tensor's memory
  memory.i32(index.ptr, rows.length).set(rows);
  t.engine.kernels.gatherRows(t.ptr, index.ptr, rows.length, per, out.ptr);
  index.dispose();
  return out;
}
