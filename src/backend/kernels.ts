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
  div(a: number, b: number, out: number, n: number): void;
  addScalar(a: number, s: number, out: number, n: number): void;
  fill(out: number, value: number, n: number): void;
  powScalar(a: number, p: number, out: number, n: number): void;
  exp(a: number, out: number, n: number): void;
  log(a: number, out: number, n: number): void;
  sqrt(a: number, out: number, n: number): void;
  sigmoid(x: number, y: number, n: number): void;
  sigmoidBackward(y: number, gy: number, gx: number, n: number): void;
  tanh(x: number, y: number, n: number): void;
  tanhBackward(y: number, gy: number, gx: number, n: number): void;
  leakyRelu(x: number, slope: number, y: number, n: number): void;
  leakyReluBackward(x: number, slope: number, gy: number, gx: number, n: number): void;
  softmaxRows(x: number, y: number, rows: number, cols: number): void;
  softmaxBackward(y: number, gy: number, gx: number, rows: number, cols: number): void;
  logSoftmaxRows(x: number, y: number, rows: number, cols: number): void;
  logSoftmaxBackward(y: number, gy: number, gx: number, rows: number, cols: number): void;
  /** shape, strides: ndim i32s each; 4·ndim more bytes after strides are the kernel's scratch. */
  stridedCopy(src: number, dst: number, ndim: number, shape: number, strides: number): void;
  stridedAccumulate(src: number, dst: number, ndim: number, shape: number, strides: number): void;
}
