// SGEMM, row-major: C = op(A)·op(B), or C += op(A)·op(B) when `accumulate`, then, when asked,
// an epilogue on each element as its last block is stored: C = min(max(C + bias[j], lo), hi) (a
// conv's or dense layer's bias and ReLU / ReLU6 / Clip, with no second pass over C). The epilogue
// adds the bias to the finished sum, as a separate pass would: the same bits either way.
// op(A) is m×k, op(B) is k×n. NN, NT (A·Bᵀ) and TN (Aᵀ·B) are the three shapes backprop needs;
// all four combinations work because transposition is absorbed by packing.
//
// The structure is the classic Goto/BLIS one: B is packed in KC×NC blocks (kept in L3/L2),
// A in MC×KC blocks (kept in L2), both cut into micro-panels that a 4×8 register-blocked
// micro-kernel streams through. Packed panels are zero-padded to whole tiles, so the
// micro-kernel never branches on edges; edge tiles go through a small scratch tile.
import { clampV, loadLanes, madd, storeLanes, storeRowPart, transposeStore } from "./simd";

// Tile and block sizes (floats). MR×NR is the register tile: 8 f32x4 accumulators.
export const MR: i32 = 4;
export const NR: i32 = 8;
const KC: i32 = 256; // depth of one packed block: a KC×NR B panel (8 KiB) stays in L1
const MC: i32 = 128; // rows of one packed A block: MC×KC floats = 128 KiB, sits in L2
const NC: i32 = 2048; // columns of one packed B block: KC×NC floats = 2 MiB

const PACK_A_FLOATS: i32 = MC * KC;
const PACK_B_FLOATS: i32 = KC * NC;
const TILE_FLOATS: i32 = MR * NR;

/** Bytes of scratch the caller must pass as `work` (16-byte aligned). */
export function gemmWorkspaceBytes(): i32 {
  return (PACK_A_FLOATS + PACK_B_FLOATS + TILE_FLOATS) << 2;
}

/**
 * C[m×n] (=|+=) op(A)[m×k] · op(B)[k×n]. `lda`, `ldb`, `ldc` are row strides in floats of A, B, C
 * as stored. transA: A is stored k×m. transB: B is stored n×k. Then C = min(max(C + bias, lo), hi)
 * per element, with bias[n] (0: none); lo = −∞, hi = ∞ and no bias leave C as the product.
 */
export function sgemm(
  transA: bool, transB: bool, m: i32, n: i32, k: i32,
  a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32,
  accumulate: bool, bias: usize, lo: f32, hi: f32, work: usize,
): void {
  if (m <= 0 || n <= 0) return;
  const epilogue = bias != 0 || lo > -Infinity || hi < Infinity;
  if (k <= 0) {
    if (!accumulate) zeroMatrix(c, m, n, ldc);
    if (epilogue) finishRows(c, ldc, m, n, bias, lo, hi);
    return;
  }
  if (m < MR) {
    // A row or two (inference on one sample): packing B would cost more than the product.
    fewRows(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
    if (epilogue) finishRows(c, ldc, m, n, bias, lo, hi);
    return;
  }
  const loV = f32x4.splat(lo), hiV = f32x4.splat(hi);
  const packA = work;
  const packB = packA + (<usize>PACK_A_FLOATS << 2);
  const tile = packB + (<usize>PACK_B_FLOATS << 2);
  // Element (i, p) of op(A) lives at a + 4·(i·aRow + p·aCol); element (p, j) of op(B) likewise.
  const aRow = transA ? 1 : lda;
  const aCol = transA ? lda : 1;
  const bRow = transB ? 1 : ldb;
  const bCol = transB ? ldb : 1;

  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const into = accumulate || pc > 0;
      const last = epilogue && pc + kc >= k; // this block finishes C: the epilogue goes with its stores
      const bBlock = b + ((<usize>pc * bRow + <usize>jc * bCol) << 2);
      if (transB) packBGather(bBlock, ldb, kc, nc, packB);
      else packBRows(bBlock, ldb, kc, nc, packB);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        const aBlock = a + ((<usize>ic * aRow + <usize>pc * aCol) << 2);
        if (transA) packAColumns(aBlock, lda, mc, kc, packA);
        else packARows(aBlock, lda, mc, kc, packA);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const pb = packB + (<usize>(jr * kc) << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const pa = packA + (<usize>(ir * kc) << 2);
            const cTile = c + ((<usize>(ic + ir) * ldc + <usize>(jc + jr)) << 2);
            const biasAt = bias ? bias + (<usize>(jc + jr) << 2) : 0;
            if (mr == MR && nr == NR) {
              kernel4x8(kc, pa, pb, cTile, ldc, into, last, biasAt, loV, hiV);
            } else {
              kernel4x8(kc, pa, pb, tile, NR, false, false, 0, loV, hiV);
              copyTile(tile, mr, nr, cTile, ldc, into);
              if (last) finishRows(cTile, ldc, mr, nr, biasAt, lo, hi);
            }
          }
        }
      }
    }
  }
}

// The micro-kernel: a 4×8 tile of C from a 4-row A panel and an 8-column B panel, both packed
// k-major. Per k: two B vectors, four broadcast A values, eight multiply-adds. `finish`: the
// epilogue (bias from `bias`, the tile's first column, then the clamp) before the stores.
// @ts-ignore: decorator
@inline
function kernel4x8(kc: i32, pa: usize, pb: usize, c: usize, ldc: i32, into: bool, finish: bool, bias: usize, lo: v128, hi: v128): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let ai = v128.load32_splat(pa);
    c00 = madd(ai, b0, c00); c01 = madd(ai, b1, c01);
    ai = v128.load32_splat(pa, 4);
    c10 = madd(ai, b0, c10); c11 = madd(ai, b1, c11);
    ai = v128.load32_splat(pa, 8);
    c20 = madd(ai, b0, c20); c21 = madd(ai, b1, c21);
    ai = v128.load32_splat(pa, 12);
    c30 = madd(ai, b0, c30); c31 = madd(ai, b1, c31);
    pa += MR << 2;
    pb += NR << 2;
  }
  const row = <usize>ldc << 2;
  // The epilogue's bias, per column of the tile (zeros without one).
  const b0 = finish && bias ? v128.load(bias) : f32x4.splat(0), b1 = finish && bias ? v128.load(bias, 16) : f32x4.splat(0);
  if (into) {
    c00 = f32x4.add(v128.load(c), c00); c01 = f32x4.add(v128.load(c, 16), c01);
    c10 = f32x4.add(v128.load(c + row), c10); c11 = f32x4.add(v128.load(c + row, 16), c11);
    c20 = f32x4.add(v128.load(c + 2 * row), c20); c21 = f32x4.add(v128.load(c + 2 * row, 16), c21);
    c30 = f32x4.add(v128.load(c + 3 * row), c30); c31 = f32x4.add(v128.load(c + 3 * row, 16), c31);
  }
  if (finish) {
    c00 = clampV(f32x4.add(c00, b0), lo, hi); c01 = clampV(f32x4.add(c01, b1), lo, hi);
    c10 = clampV(f32x4.add(c10, b0), lo, hi); c11 = clampV(f32x4.add(c11, b1), lo, hi);
    c20 = clampV(f32x4.add(c20, b0), lo, hi); c21 = clampV(f32x4.add(c21, b1), lo, hi);
    c30 = clampV(f32x4.add(c30, b0), lo, hi); c31 = clampV(f32x4.add(c31, b1), lo, hi);
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  c += row;
  v128.store(c, c10); v128.store(c, c11, 16);
  c += row;
  v128.store(c, c20); v128.store(c, c21, 16);
  c += row;
  v128.store(c, c30); v128.store(c, c31, 16);
}

/** The epilogue on an m×n corner of C: C = min(max(C + bias[j], lo), hi), bias 0 for none. */
function finishRows(c: usize, ldc: i32, m: i32, n: i32, bias: usize, lo: f32, hi: f32): void {
  for (let i = 0; i < m; i++) {
    const row = c + (<usize>(i * ldc) << 2);
    for (let j = 0; j < n; j++) {
      const at = row + (<usize>j << 2);
      const v = load<f32>(at) + (bias ? load<f32>(bias + (<usize>j << 2)) : 0);
      store<f32>(at, v < lo ? lo : v > hi ? hi : v);
    }
  }
}

/**
 * C (=|+=) op(A)·op(B) for m < MR (a sample or two), reading B in place instead of packing it.
 * Every element gets exactly the packed path's arithmetic — per KC block of p, a sum from zero
 * with the same multiply-add, then added to C — so a sample's output does not depend on the
 * batch it came in.
 */
function fewRows(
  transA: bool, transB: bool, m: i32, n: i32, k: i32,
  a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, accumulate: bool,
): void {
  const aStep = <usize>(transA ? lda : 1) << 2;
  // Element (p, j) of op(B) is at b + p·bRow + j·bCol (bytes).
  const bRow = <usize>(transB ? 1 : ldb) << 2;
  const bCol = <usize>(transB ? ldb : 1) << 2;
  for (let i = 0; i < m; i++) {
    const aBase = a + ((<usize>i * <usize>(transA ? 1 : lda)) << 2);
    const cRow = c + (<usize>(i * ldc) << 2);
    let j = 0;
    // Sixteen columns at a time in four accumulators, while they last.
    for (; j + 16 <= n && !transB; j += 16) {
      const cj = cRow + (<usize>j << 2);
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
      for (let pc = 0; pc < k; pc += KC) {
        const end = min(KC, k - pc) + pc;
        let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
        let bp = b + <usize>pc * bRow + (<usize>j << 2);
        let ap = aBase + <usize>pc * aStep;
        for (let p = pc; p < end; p++) {
          const x = v128.load32_splat(ap);
          s0 = madd(x, v128.load(bp), s0);
          s1 = madd(x, v128.load(bp, 16), s1);
          s2 = madd(x, v128.load(bp, 32), s2);
          s3 = madd(x, v128.load(bp, 48), s3);
          ap += aStep;
          bp += bRow;
        }
        if (pc == 0 && !accumulate) {
          c0 = s0; c1 = s1; c2 = s2; c3 = s3;
        } else {
          if (pc == 0) {
            c0 = v128.load(cj); c1 = v128.load(cj, 16); c2 = v128.load(cj, 32); c3 = v128.load(cj, 48);
          }
          c0 = f32x4.add(c0, s0); c1 = f32x4.add(c1, s1); c2 = f32x4.add(c2, s2); c3 = f32x4.add(c3, s3);
        }
      }
      v128.store(cj, c0); v128.store(cj, c1, 16); v128.store(cj, c2, 32); v128.store(cj, c3, 48);
    }
    // Then four at a time (the last group may be partial: its missing lanes read as zero).
    for (; j < n; j += 4) {
      const cols = min(4, n - j);
      let acc = f32x4.splat(0);
      for (let pc = 0; pc < k; pc += KC) {
        const end = min(KC, k - pc) + pc;
        let sum = f32x4.splat(0);
        let ap = aBase + <usize>pc * aStep;
        const bj = b + (<usize>j) * bCol;
        for (let p = pc; p < end; p++) {
          const bp = bj + <usize>p * bRow;
          let bv = f32x4.splat(0);
          if (cols == 4 && !transB) {
            bv = v128.load(bp);
          } else {
            bv = f32x4.replace_lane(bv, 0, load<f32>(bp));
            if (cols > 1) bv = f32x4.replace_lane(bv, 1, load<f32>(bp + bCol));
            if (cols > 2) bv = f32x4.replace_lane(bv, 2, load<f32>(bp + 2 * bCol));
            if (cols > 3) bv = f32x4.replace_lane(bv, 3, load<f32>(bp + 3 * bCol));
          }
          sum = madd(v128.load32_splat(ap), bv, sum);
          ap += aStep;
        }
        acc = pc == 0 && !accumulate ? sum : f32x4.add(pc == 0 ? loadLanes(cRow + (<usize>j << 2), cols) : acc, sum);
      }
      storeLanes(cRow + (<usize>j << 2), cols, acc);
    }
  }
}

/** The valid mr×nr corner of a scratch tile into C, four lanes at a time. */
function copyTile(tile: usize, mr: i32, nr: i32, c: usize, ldc: i32, into: bool): void {
  for (let i = 0; i < mr; i++) {
    const src = tile + (<usize>(i * NR) << 2);
    storeRowPart(c + (<usize>(i * ldc) << 2), v128.load(src), v128.load(src, 16), nr, into);
  }
}

function zeroMatrix(c: usize, m: i32, n: i32, ldc: i32): void {
  for (let i = 0; i < m; i++) memory.fill(c + (<usize>(i * ldc) << 2), 0, <usize>n << 2);
}

// --- Packing A (mc×kc of op(A)) into MR-row panels, k-major: panel[p·MR + i] = op(A)[i, p]. ---

/** op(A) = A: rows of A are contiguous in p; 4×4 blocks are transposed in registers. */
function packARows(a: usize, lda: i32, mc: i32, kc: i32, dst: usize): void {
  const rowBytes = <usize>lda << 2;
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = min(MR, mc - ir);
    const src = a + <usize>ir * rowBytes;
    let p = 0;
    if (rows == MR) {
      for (; p + 4 <= kc; p += 4) {
        const s = src + (<usize>p << 2);
        transposeStore(
          v128.load(s), v128.load(s + rowBytes), v128.load(s + 2 * rowBytes), v128.load(s + 3 * rowBytes),
          dst + (<usize>(p * MR) << 2), MR << 2,
        );
      }
    }
    for (; p < kc; p++) {
      const out = dst + (<usize>(p * MR) << 2);
      for (let i = 0; i < MR; i++) {
        store<f32>(out + (<usize>i << 2), i < rows ? load<f32>(src + <usize>i * rowBytes + (<usize>p << 2)) : 0);
      }
    }
    dst += <usize>(MR * kc) << 2;
  }
}

/** op(A) = Aᵀ: A is stored k×m, so the MR values of one p are contiguous: one vector copy. */
function packAColumns(a: usize, lda: i32, mc: i32, kc: i32, dst: usize): void {
  const rowBytes = <usize>lda << 2;
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = min(MR, mc - ir);
    let src = a + (<usize>ir << 2);
    for (let p = 0; p < kc; p++) {
      const out = dst + (<usize>(p * MR) << 2);
      if (rows == MR) {
        v128.store(out, v128.load(src));
      } else {
        for (let i = 0; i < MR; i++) store<f32>(out + (<usize>i << 2), i < rows ? load<f32>(src + (<usize>i << 2)) : 0);
      }
      src += rowBytes;
    }
    dst += <usize>(MR * kc) << 2;
  }
}

// --- Packing B (kc×nc of op(B)) into NR-column panels, k-major: panel[p·NR + j] = op(B)[p, j]. ---

/** op(B) = B: the NR values of one p are contiguous: two vector copies. */
function packBRows(b: usize, ldb: i32, kc: i32, nc: i32, dst: usize): void {
  const rowBytes = <usize>ldb << 2;
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = min(NR, nc - jr);
    let src = b + (<usize>jr << 2);
    for (let p = 0; p < kc; p++) {
      const out = dst + (<usize>(p * NR) << 2);
      if (cols == NR) {
        v128.store(out, v128.load(src));
        v128.store(out, v128.load(src, 16), 16);
      } else {
        for (let j = 0; j < NR; j++) store<f32>(out + (<usize>j << 2), j < cols ? load<f32>(src + (<usize>j << 2)) : 0);
      }
      src += rowBytes;
    }
    dst += <usize>(NR * kc) << 2;
  }
}

/** op(B) = Bᵀ: B is stored n×k, rows contiguous in p; two 4×4 transposes per 4 values of p. */
function packBGather(b: usize, ldb: i32, kc: i32, nc: i32, dst: usize): void {
  const rowBytes = <usize>ldb << 2;
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = min(NR, nc - jr);
    const src = b + <usize>jr * rowBytes;
    let p = 0;
    if (cols == NR) {
      for (; p + 4 <= kc; p += 4) {
        const s = src + (<usize>p << 2);
        const out = dst + (<usize>(p * NR) << 2);
        transposeStore(
          v128.load(s), v128.load(s + rowBytes), v128.load(s + 2 * rowBytes), v128.load(s + 3 * rowBytes),
          out, NR << 2,
        );
        const s4 = s + 4 * rowBytes;
        transposeStore(
          v128.load(s4), v128.load(s4 + rowBytes), v128.load(s4 + 2 * rowBytes), v128.load(s4 + 3 * rowBytes),
          out + 16, NR << 2,
        );
      }
    }
    for (; p < kc; p++) {
      const out = dst + (<usize>(p * NR) << 2);
      for (let j = 0; j < NR; j++) {
        store<f32>(out + (<usize>j << 2), j < cols ? load<f32>(src + <usize>j * rowBytes + (<usize>p << 2)) : 0);
      }
    }
    dst += <usize>(NR * kc) << 2;
  }
}
