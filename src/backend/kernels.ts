// The raw exports of the Wasm module. Every kernel takes byte addresses and sizes, checks
// nothing and allocates nothing: the façade checks arguments before it calls one.
export interface Kernels {
  heapBase(): number;
  isRelaxed(): number;
  gemmWorkspaceBytes(): number;
  sgemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    a: number, lda: number, b: number, ldb: number, c: number, ldc: number,
    accumulate: boolean, bias: number, lo: number, hi: number, work: number,
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
  winogradWeights(w: number, c: number, m: number, u: number): void;
  winogradInput(x: number, h: number, w: number, c: number, pt: number, pl: number, tw: number, ty0: number, ty1: number, v: number, tiles: number): void;
  winogradOutput(
    mm: number, tiles: number, m: number, oh: number, ow: number, tw: number, ty0: number, ty1: number, bias: number, lo: number, hi: number, y: number,
  ): void;
  transposeBlocks(src: number, batch: number, rows: number, cols: number, inner: number, dst: number, r0: number, r1: number): void;
  copyRows(src: number, srcStride: number, dst: number, dstStride: number, rows: number, cols: number): void;
  stridedAccumulate(src: number, dst: number, ndim: number, shape: number, strides: number): void;
  addBias(x: number, b: number, out: number, rows: number, cols: number): void;
  mulRows(x: number, v: number, out: number, rows: number, cols: number): void;
  softmaxCrossEntropy(logits: number, labels: number, probs: number, rows: number, cols: number): number;
  softmaxCrossEntropyBackward(probs: number, labels: number, g: number, rows: number, cols: number, scale: number): void;
  softmaxCrossEntropyDense(logits: number, targets: number, probs: number, rows: number, cols: number): number;
  softmaxCrossEntropyDenseBackward(probs: number, targets: number, g: number, rows: number, cols: number, scale: number): void;
  crossEntropy(probs: number, labels: number, rows: number, cols: number): number;
  crossEntropyBackward(probs: number, labels: number, g: number, rows: number, cols: number, scale: number): void;
  crossEntropyDense(probs: number, targets: number, n: number): number;
  crossEntropyDenseBackward(probs: number, targets: number, g: number, n: number, scale: number): void;
  bceWithLogits(z: number, targets: number, n: number): number;
  bceWithLogitsBackward(z: number, targets: number, g: number, n: number, scale: number): void;
  squaredError(y: number, targets: number, n: number): number;
  squaredErrorBackward(y: number, targets: number, g: number, n: number, scale: number): void;
  countCorrect(scores: number, labels: number, rows: number, cols: number): number;
  countCorrectDense(scores: number, targets: number, rows: number, cols: number): number;
  sgdStep(p: number, grad: number, velocity: number, n: number, lr: number, momentum: number, nesterov: boolean, weightDecay: number): void;
  adamStep(
    p: number, grad: number, m: number, v: number, n: number,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, decoupled: boolean, c1: number, c2: number,
  ): void;
  sumSquares(x: number, n: number): number;
  firstNonFinite(x: number, n: number): number;
  gatherRows(src: number, idx: number, count: number, cols: number, dst: number): void;
  gelu(x: number, y: number, n: number): void;
  geluBackward(x: number, gy: number, gx: number, n: number): void;
  silu(x: number, y: number, n: number): void;
  siluBackward(x: number, gy: number, gx: number, n: number): void;
  elu(x: number, y: number, n: number): void;
  eluBackward(y: number, gy: number, gx: number, n: number): void;
  softplus(x: number, y: number, n: number): void;
  softplusBackward(y: number, gy: number, gx: number, n: number): void;
  hardSigmoid(x: number, y: number, n: number): void;
  hardSigmoidBackward(y: number, gy: number, gx: number, n: number): void;
  hardSwish(x: number, y: number, n: number): void;
  hardSwishBackward(x: number, gy: number, gx: number, n: number): void;
  absolute(x: number, y: number, n: number): void;
  absoluteBackward(x: number, gy: number, gx: number, n: number): void;
  clamp(x: number, lo: number, hi: number, y: number, n: number): void;
  clampBackward(x: number, lo: number, hi: number, gy: number, gx: number, n: number): void;
  select(cond: number, a: number, b: number, y: number, n: number): void;
  selectBackward(cond: number, g: number, chosen: number, out: number, n: number): void;
  rowExtreme(x: number, rows: number, cols: number, largest: boolean, values: number, indices: number): void;
  rowExtremeBackward(g: number, indices: number, rows: number, cols: number, gx: number): void;
  scatterAddRows(src: number, indices: number, count: number, cols: number, dst: number, rows: number): void;
  dropout(x: number, y: number, mask: number, n: number, keep: number, state: number): void;
  lstmCell(z: number, cPrev: number, c: number, h: number, rows: number, units: number): void;
  lstmCellBackward(gates: number, cPrev: number, c: number, gh: number, gc: number, gz: number, rows: number, units: number): void;
  shiftImages(x: number, n: number, h: number, w: number, c: number, shifts: number, sign: number, y: number): void;
  im2col(
    x: number, n: number, h: number, w: number, c: number,
    kh: number, kw: number, stride: number, dh: number, dw: number, padTop: number, padLeft: number, oh: number, ow: number, cols: number,
  ): void;
  col2im(
    dcols: number, n: number, h: number, w: number, c: number,
    kh: number, kw: number, stride: number, dh: number, dw: number, padTop: number, padLeft: number, oh: number, ow: number, dx: number,
  ): void;
  maxPool(
    x: number, n: number, h: number, w: number, c: number, kh: number, kw: number, stride: number, pt: number, pl: number, oh: number, ow: number,
    r0: number, r1: number, y: number, argmax: number,
  ): void;
  maxPoolBackward(gy: number, argmax: number, n: number, outSize: number, dx: number, inSize: number): void;
  avgPool(
    x: number, n: number, h: number, w: number, c: number, kh: number, kw: number, stride: number,
    pt: number, pl: number, pb: number, pr: number, includePad: number, oh: number, ow: number, r0: number, r1: number, y: number,
  ): void;
  avgPoolBackward(
    gy: number, n: number, h: number, w: number, c: number, kh: number, kw: number, stride: number,
    pt: number, pl: number, pb: number, pr: number, includePad: number, oh: number, ow: number, dx: number,
  ): void;
  padImage(x: number, n: number, h: number, w: number, c: number, top: number, left: number, hp: number, wp: number, out: number): void;
  convDirect(
    x: number, n: number, h: number, w: number, c: number, kh: number, kw: number, stride: number, oh: number, ow: number,
    weights: number, wStride: number, filters: number, bias: number, y: number,
  ): void;
  convOneChannel(
    x: number, n: number, h: number, w: number, kh: number, kw: number, oh: number, ow: number,
    weights: number, wStride: number, filters: number, bias: number, y: number,
  ): void;
  convWeightGrad(
    x: number, n: number, h: number, w: number, c: number, kh: number, kw: number, stride: number, oh: number, ow: number,
    delta: number, filters: number, dw: number, wStride: number,
  ): void;
  depthwiseConv(
    x: number, n: number, h: number, w: number, c: number, mult: number, weights: number, kh: number, kw: number, stride: number, pt: number, pl: number,
    oh: number, ow: number, row0: number, row1: number, bias: number, lo: number, hi: number, y: number,
  ): void;
  depthwiseConvInputGrad(
    delta: number, n: number, h: number, w: number, c: number, mult: number, weights: number, kh: number, kw: number, stride: number, pt: number, pl: number,
    oh: number, ow: number, row0: number, row1: number, gx: number,
  ): void;
  depthwiseConvWeightGrad(
    x: number, n: number, h: number, w: number, c: number, mult: number, kh: number, kw: number, stride: number, pt: number, pl: number,
    oh: number, ow: number, delta: number, dw: number,
  ): void;
  lrn(x: number, outer: number, c: number, inner: number, size: number, alpha: number, beta: number, bias: number, d: number, y: number): void;
  lrnBackward(
    x: number, y: number, d: number, gy: number, outer: number, c: number, inner: number, size: number, alpha: number, beta: number, t: number, gx: number,
  ): void;
  resizeImages(
    x: number, n: number, h: number, w: number, c: number, oh: number, ow: number,
    rows: number, wr: number, cols: number, wc: number, nearest: boolean, r0: number, r1: number, y: number,
  ): void;
  resizeImagesBackward(
    gy: number, n: number, h: number, w: number, c: number, oh: number, ow: number,
    rows: number, wr: number, cols: number, wc: number, nearest: boolean, gx: number,
  ): void;
  erf(x: number, y: number, n: number): void;
  erfBackward(x: number, gy: number, gx: number, n: number): void;
  convPlanes(
    x: number, n: number, c: number, h: number, w: number, weights: number, m: number, kh: number, kw: number, groups: number,
    sh: number, sw: number, dh: number, dw: number, pt: number, pl: number, oh: number, ow: number, y: number,
  ): void;
  convPlanesBackwardData(
    dy: number, n: number, c: number, h: number, w: number, weights: number, m: number, kh: number, kw: number, groups: number,
    sh: number, sw: number, dh: number, dw: number, pt: number, pl: number, oh: number, ow: number, dx: number,
  ): void;
  convPlanesBackwardFilter(
    x: number, n: number, c: number, h: number, w: number, dy: number, m: number, kh: number, kw: number, groups: number,
    sh: number, sw: number, dh: number, dw: number, pt: number, pl: number, oh: number, ow: number, dweights: number,
  ): void;
  maxPoolPlanes(
    x: number, planes: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number, dh: number, dw: number,
    pt: number, pl: number, oh: number, ow: number, y: number, argmax: number,
  ): void;
  maxPoolPlanesBackward(gy: number, argmax: number, planes: number, inSize: number, outSize: number, gx: number): void;
  avgPoolPlanes(
    x: number, planes: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number, dh: number, dw: number,
    pt: number, pl: number, pb: number, pr: number, includePad: boolean, oh: number, ow: number, y: number,
  ): void;
  avgPoolPlanesBackward(
    gy: number, planes: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number, dh: number, dw: number,
    pt: number, pl: number, pb: number, pr: number, includePad: boolean, oh: number, ow: number, gx: number,
  ): void;
}
