// The raw exports of the Wasm module. Every kernel takes byte addresses and sizes, checks
// nothing and allocates nothing: the façade checks arguments before it calls one.
export interface Kernels {
  heapBase(): number;
  isRelaxed(): number;
  gemmWorkspaceBytes(): number;
  sgemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    a: number, lda: number, b: number, ldb: number, c: number, ldc: number,
    accumulate: boolean, work: number,
  ): void;
  add(a: number, b: number, out: number, n: number): void;
  sub(a: number, b: number, out: number, n: number): void;
  mul(a: number, b: number, out: number, n: number): void;
  scale(a: number, s: number, out: number, n: number): void;
  rowSums(x: number, rows: number, cols: number, out: number, accumulate: boolean): void;
  colSums(x: number, rows: number, cols: number, out: number, accumulate: boolean): void;
}
