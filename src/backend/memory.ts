// The façade owns the Wasm linear memory. Two kinds of allocation live in it:
//  - persistent blocks (parameters, optimiser state, tensors the user holds): alloc/free,
//    first-fit over a free list sorted by address, neighbours coalesced;
//  - a scratch arena (one training step's intermediates): bump allocation, reset as a whole.
// Every block is 16-byte aligned so kernels may use v128 loads, and may read (never write) up to
// OVERREAD bytes past a block's end: the memory always extends that far. Views are made fresh on
// every call: growing the memory detaches the old ArrayBuffer, so a cached view would go stale.
import { ArgumentError, OutOfMemoryError } from "../errors.js";

export const ALIGN = 16;
/** Two vectors: what a kernel filling the lanes of a partial tile may read past the end of its data. */
export const OVERREAD = 32;
export const PAGE_BYTES = 65536;
/** wasm32 addresses 4 GiB at most. */
export const MAX_WASM32_BYTES = 65536 * PAGE_BYTES;

const roundUp = (n: number, to: number) => Math.ceil(n / to) * to;
const blockSize = (bytes: number) => Math.max(ALIGN, roundUp(bytes, ALIGN));

export interface MemoryStats {
  /** Persistent bytes held by the user plus bytes handed out by the arena since its last reset. */
  bytesInUse: number;
  /** The highest bytesInUse seen. */
  peakBytes: number;
  /** Size of the linear memory now. */
  capacityBytes: number;
  /** The most the memory may grow to. */
  maxBytes: number;
  /** Live persistent blocks, arena chunks excluded. */
  persistentBytes: number;
  /** Bytes handed out by the arena since its last reset. */
  arenaBytes: number;
  /** Bytes the arena holds in chunks (kept across resets). */
  arenaReservedBytes: number;
}

interface Span {
  ptr: number;
  size: number;
}

export class Memory {
  private readonly live = new Map<number, number>(); // ptr → size
  private readonly freeList: Span[] = []; // sorted by ptr, no two adjacent
  private top: number; // end of the highest block ever handed out
  private userBytes = 0;
  private peak = 0;
  /** @internal */
  readonly arena: Arena;

  /** @internal */
  constructor(
    /** @internal */
    readonly wasm: WebAssembly.Memory,
    heapBase: number,
    readonly maxBytes: number,
  ) {
    this.top = roundUp(Math.max(heapBase, ALIGN), ALIGN);
    this.arena = new Arena(this);
  }

  /** @internal A 16-byte-aligned block of at least `bytes` bytes. Its contents are unspecified. */
  alloc(bytes: number): number {
    const ptr = this.reserve(bytes);
    this.userBytes += this.live.get(ptr)!;
    this.notePeak();
    return ptr;
  }

  /** @internal */
  free(ptr: number): void {
    this.userBytes -= this.release(ptr);
  }

  /** @internal Size in bytes of the live block at `ptr`. */
  sizeOf(ptr: number): number {
    const size = this.live.get(ptr);
    if (size === undefined) throw new ArgumentError(`no live block at address ${ptr}`);
    return size;
  }

  /** @internal A fresh Float32Array over `length` floats at `ptr`; do not keep it across allocations. */
  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.wasm.buffer, ptr, length);
  }

  /** @internal The same over `length` 32-bit integers (indices, offsets). */
  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.wasm.buffer, ptr, length);
  }

  get capacityBytes(): number {
    return this.wasm.buffer.byteLength;
  }

  stats(): MemoryStats {
    return {
      bytesInUse: this.userBytes + this.arena.usedBytes,
      peakBytes: this.peak,
      capacityBytes: this.capacityBytes,
      maxBytes: this.maxBytes,
      persistentBytes: this.userBytes,
      arenaBytes: this.arena.usedBytes,
      arenaReservedBytes: this.arena.reservedBytes,
    };
  }

  /** @internal Allocation bookkeeping shared by user blocks and arena chunks. */
  reserve(bytes: number): number {
    if (!Number.isFinite(bytes) || bytes < 0) {
      throw new ArgumentError(`allocation size must be a non-negative number of bytes, got ${bytes}`);
    }
    const size = blockSize(bytes);
    const ptr = this.takeFromFreeList(size) ?? this.takeFromTop(size);
    this.live.set(ptr, size);
    return ptr;
  }

  /** @internal Returns the freed block's size. */
  release(ptr: number): number {
    const size = this.live.get(ptr);
    if (size === undefined) throw new ArgumentError(`free(${ptr}): no live block there (freed twice?)`);
    this.live.delete(ptr);
    this.giveBack({ ptr, size });
    return size;
  }

  /** @internal */
  notePeak(): void {
    this.peak = Math.max(this.peak, this.userBytes + this.arena.usedBytes);
  }

  private takeFromFreeList(size: number): number | undefined {
    const i = this.freeList.findIndex((s) => s.size >= size);
    if (i < 0) return undefined;
    const span = this.freeList[i];
    if (span.size === size) this.freeList.splice(i, 1);
    else this.freeList[i] = { ptr: span.ptr + size, size: span.size - size };
    return span.ptr;
  }

  private takeFromTop(size: number): number {
    const ptr = this.top;
    this.ensureCapacity(ptr + size + OVERREAD, size);
    this.top = ptr + size;
    return ptr;
  }

  private giveBack(span: Span): void {
    const list = this.freeList;
    let i = 0;
    while (i < list.length && list[i].ptr < span.ptr) i++;
    list.splice(i, 0, span);
    // Coalesce with the right, then the left neighbour.
    if (i + 1 < list.length && span.ptr + span.size === list[i + 1].ptr) {
      span.size += list[i + 1].size;
      list.splice(i + 1, 1);
    }
    if (i > 0 && list[i - 1].ptr + list[i - 1].size === span.ptr) {
      list[i - 1].size += span.size;
      list.splice(i, 1);
      i--;
    }
    // A free span that ends at the top goes back to the top.
    const last = list[list.length - 1];
    if (last && last.ptr + last.size === this.top) {
      this.top = last.ptr;
      list.pop();
    }
  }

  private ensureCapacity(end: number, requested: number): void {
    const capacity = this.capacityBytes;
    if (end <= capacity) return;
    const fail = (why: string) =>
      new OutOfMemoryError(
        `out of memory: cannot allocate ${requested} bytes (${why}; capacity ${capacity} bytes, ` +
          `${this.userBytes + this.arena.usedBytes} in use, limit ${this.maxBytes})`,
        requested,
        capacity,
        this.maxBytes,
      );
    if (end > this.maxBytes) throw fail("it would pass the memory limit");
    // Grow by at least half the current size, so a run of small allocations grows rarely.
    const needed = Math.ceil((end - capacity) / PAGE_BYTES);
    const generous = Math.min(Math.max(needed, Math.ceil(capacity / 2 / PAGE_BYTES)), Math.floor((this.maxBytes - capacity) / PAGE_BYTES));
    for (const pages of generous > needed ? [generous, needed] : [needed]) {
      try {
        this.wasm.grow(pages);
        return;
      } catch {
        // the host refused this much; try the exact amount, then give up
      }
    }
    throw fail("the host refused to grow the memory");
  }
}

/**
 * @internal Bump allocation for per-step scratch. Chunks come from the persistent allocator; when a step
 * needs more than one chunk, reset() replaces them by one chunk as large as their sum, so from
 * the second step on a step allocates nothing.
 */
export class Arena {
  private chunks: Span[] = [];
  private current = 0; // index of the chunk being filled
  private offset = 0; // bytes used in the current chunk
  private used = 0;
  private generation = 0;

  constructor(private readonly memory: Memory) {}

  /** Counts resets: a block handed out in an earlier epoch is no longer valid. */
  get epoch(): number {
    return this.generation;
  }

  get usedBytes(): number {
    return this.used;
  }

  get reservedBytes(): number {
    return this.chunks.reduce((sum, c) => sum + c.size, 0);
  }

  alloc(bytes: number): number {
    if (!Number.isFinite(bytes) || bytes < 0) {
      throw new ArgumentError(`arena allocation size must be a non-negative number of bytes, got ${bytes}`);
    }
    const size = blockSize(bytes);
    while (this.current < this.chunks.length && this.offset + size > this.chunks[this.current].size) {
      this.current++;
      this.offset = 0;
    }
    if (this.current === this.chunks.length) {
      const last = this.chunks[this.chunks.length - 1];
      const chunkSize = Math.max(size, last ? last.size * 2 : 64 * 1024);
      this.chunks.push({ ptr: this.memory.reserve(chunkSize), size: chunkSize });
      this.offset = 0;
    }
    const ptr = this.chunks[this.current].ptr + this.offset;
    this.offset += size;
    this.used += size;
    this.memory.notePeak();
    return ptr;
  }

  /** Forget everything allocated since the last reset; pointers into the arena become invalid. */
  reset(): void {
    if (this.chunks.length > 1) this.consolidate();
    this.generation++;
    this.current = 0;
    this.offset = 0;
    this.used = 0;
  }

  private consolidate(): void {
    const total = this.reservedBytes;
    let ptr: number;
    try {
      ptr = this.memory.reserve(total);
    } catch {
      return; // no room for one large chunk: keep the several small ones, which still work
    }
    for (const c of this.chunks) this.memory.release(c.ptr);
    this.chunks = [{ ptr, size: total }];
  }
}
