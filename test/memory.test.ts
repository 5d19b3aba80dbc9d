import { beforeEach, describe, expect, it } from "vitest";
import { ALIGN, OVERREAD, PAGE_BYTES } from "../src/backend/memory.js";
import { ArgumentError, type Engine, OutOfMemoryError, init } from "../src/index.js";

describe("memory", () => {
  let engine: Engine;
  beforeEach(async () => {
    engine = await init({ build: "simd", initialBytes: 4 * PAGE_BYTES, maxBytes: 256 * PAGE_BYTES });
  });

  it("hands out 16-byte-aligned, non-overlapping blocks", () => {
    const mem = engine.memory;
    const spans = [1, 3, 16, 17, 100, 4096, 0].map((n) => {
      const ptr = mem.alloc(n);
      return [ptr, ptr + Math.max(n, 1)] as const;
    });
    for (const [p] of spans) expect(p % ALIGN).toBe(0);
    for (const [p, end] of spans) expect(mem.sizeOf(p)).toBeGreaterThanOrEqual(end - p);
    const sorted = [...spans].sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i][0]).toBeGreaterThanOrEqual(sorted[i - 1][1]);
  });

  it("always extends OVERREAD bytes past the highest block, so kernels may read a partial vector whole", () => {
    const mem = engine.memory;
    // Blocks that end just short of, exactly at and just past a page boundary.
    for (const bytes of [1, 16, 32, 48]) {
      const room = mem.capacityBytes - mem.alloc(0);
      const ptr = mem.alloc(room - bytes);
      expect(ptr + mem.sizeOf(ptr) + OVERREAD).toBeLessThanOrEqual(mem.capacityBytes);
    }
  });

  it("reuses freed blocks and coalesces neighbours", () => {
    const mem = engine.memory;
    const a = mem.alloc(64), b = mem.alloc(64), c = mem.alloc(64);
    const guard = mem.alloc(16); // keeps the three off the top of the heap
    mem.free(a);
    mem.free(b);
    // a and b merged into one 128-byte span: a 128-byte block fits exactly there.
    expect(mem.alloc(128)).toBe(a);
    mem.free(c);
    expect(mem.alloc(48)).toBe(c);
    mem.free(guard);
  });

  it("returns the top of the heap when the highest blocks are freed", () => {
    const mem = engine.memory;
    const before = mem.stats().bytesInUse;
    const a = mem.alloc(1000), b = mem.alloc(2000);
    expect(mem.stats().bytesInUse).toBe(before + 1008 + 2000);
    mem.free(b);
    mem.free(a);
    expect(mem.stats().bytesInUse).toBe(before);
    expect(mem.alloc(3000)).toBe(a);
  });

  it("rejects a double free and a bad size with typed errors", () => {
    const mem = engine.memory;
    const a = mem.alloc(32);
    mem.free(a);
    expect(() => mem.free(a)).toThrow(ArgumentError);
    expect(() => mem.free(a)).toThrow(/freed twice/);
    expect(() => mem.alloc(-1)).toThrow(ArgumentError);
    expect(() => mem.alloc(Number.NaN)).toThrow(/non-negative number of bytes/);
  });

  it("grows the memory; data written before the growth survives it", () => {
    const mem = engine.memory;
    const a = mem.alloc(1024);
    mem.f32(a, 256).set(Float32Array.from({ length: 256 }, (_, i) => i * 0.5));
    const capacity = mem.capacityBytes;
    const big = mem.alloc(40 * PAGE_BYTES);
    expect(mem.capacityBytes).toBeGreaterThan(capacity);
    expect(mem.capacityBytes).toBeGreaterThanOrEqual(big + 40 * PAGE_BYTES);
    const view = mem.f32(a, 256);
    for (let i = 0; i < 256; i++) expect(view[i]).toBe(i * 0.5);
  });

  it("throws OutOfMemoryError past the limit and keeps every live block intact", () => {
    const mem = engine.memory;
    const a = mem.alloc(64);
    mem.f32(a, 16).fill(7);
    const before = mem.stats();
    let error: unknown;
    try {
      mem.alloc(300 * PAGE_BYTES);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OutOfMemoryError);
    const oom = error as OutOfMemoryError;
    expect(oom.requestedBytes).toBe(300 * PAGE_BYTES);
    expect(oom.maxBytes).toBe(256 * PAGE_BYTES);
    expect(oom.message).toMatch(/out of memory: cannot allocate 19660800 bytes/);
    expect(mem.stats()).toEqual(before);
    expect(Array.from(mem.f32(a, 16))).toEqual(new Array(16).fill(7));
    // The allocator still works after the failure, up to the limit.
    const b = mem.alloc(100 * PAGE_BYTES);
    mem.free(b);
  });

  it("reports bytes in use, peak and capacity", () => {
    const mem = engine.memory;
    const base = mem.stats();
    const a = mem.alloc(10_000);
    const s1 = mem.stats();
    expect(s1.bytesInUse - base.bytesInUse).toBe(10_000);
    expect(s1.persistentBytes - base.persistentBytes).toBe(10_000);
    expect(s1.peakBytes).toBeGreaterThanOrEqual(s1.bytesInUse);
    mem.free(a);
    const s2 = mem.stats();
    expect(s2.bytesInUse).toBe(base.bytesInUse);
    expect(s2.peakBytes).toBe(s1.peakBytes);
    expect(s2.capacityBytes).toBe(mem.capacityBytes);
  });

  describe("arena", () => {
    it("bump-allocates aligned blocks and resets as a whole", () => {
      const { arena } = engine.memory;
      const base = engine.memory.stats().bytesInUse;
      const p = [5, 16, 33, 1].map((n) => arena.alloc(n));
      for (const x of p) expect(x % ALIGN).toBe(0);
      expect(p[1] - p[0]).toBe(16);
      expect(p[2] - p[1]).toBe(16);
      expect(p[3] - p[2]).toBe(48);
      expect(engine.memory.stats().arenaBytes).toBe(16 + 16 + 48 + 16);
      expect(engine.memory.stats().bytesInUse).toBe(base + 96);
      arena.reset();
      expect(engine.memory.stats().arenaBytes).toBe(0);
      expect(engine.memory.stats().bytesInUse).toBe(base);
      expect(arena.alloc(8)).toBe(p[0]);
    });

    it("after one step that needed several chunks, the next identical step allocates nothing", () => {
      const mem = engine.memory;
      const step = () => {
        for (let i = 0; i < 50; i++) mem.arena.alloc(10_000);
        mem.arena.reset();
      };
      step();
      const afterFirst = mem.stats();
      const reservedAfterFirst = afterFirst.arenaReservedBytes;
      expect(reservedAfterFirst).toBeGreaterThanOrEqual(500_000);
      for (let i = 0; i < 100; i++) step();
      const later = mem.stats();
      expect(later.arenaReservedBytes).toBe(reservedAfterFirst);
      expect(later.capacityBytes).toBe(afterFirst.capacityBytes);
      // One chunk serves the whole step: pointers repeat exactly.
      const first = mem.arena.alloc(10_000);
      mem.arena.reset();
      expect(mem.arena.alloc(10_000)).toBe(first);
    });

    it("never overlaps persistent blocks", () => {
      const mem = engine.memory;
      const spans: [number, number][] = [];
      for (let i = 0; i < 20; i++) {
        const n = 1000 * (i + 1);
        const p = i % 2 ? mem.alloc(n) : mem.arena.alloc(n);
        spans.push([p, p + n]);
      }
      spans.sort((x, y) => x[0] - y[0]);
      for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
    });

    it("throws OutOfMemoryError when a step cannot fit", () => {
      expect(() => engine.memory.arena.alloc(1e9)).toThrow(OutOfMemoryError);
      expect(engine.memory.stats().arenaBytes).toBe(0);
    });
  });
});
