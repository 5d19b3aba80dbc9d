// Local response normalisation across channels (AlexNet's, GoogLeNet's; ONNX's LRN) over x laid
// out [outer, C, inner]: channels-last images are [pixels, C, 1], planar ones [n, C, h·w].
// With the window of channel c the channels [c − lo, c + hi] (lo = ⌊(size − 1)/2⌋, hi the rest)
// that exist:
//   d[c] = bias + α/size · Σ_window x[k]²        y[c] = x[c] · d[c]^−β
// and, with t[i] = ∂y[i]·y[i]/d[i], the gradient (channel j is in the window of the channels
// [j − hi, j + lo]):
//   ∂x[j] = ∂y[j] · d[j]^−β − 2αβ/size · x[j] · Σ_{i = j − hi}^{j + lo} t[i]
// Plain loops over the window, then a pass for the power, four lanes at a time where β = ¾
// (AlexNet's and GoogLeNet's: d^−¾ = 1 / (√d · √√d), no pow).

/** d^−β in four lanes: by square roots for β = ¾, else lane by lane. */
// @ts-ignore: decorator
@inline
function powNeg(d: v128, beta: f32): v128 {
  if (beta == 0.75) {
    const root = f32x4.sqrt(d);
    return f32x4.div(f32x4.splat(1), f32x4.mul(root, f32x4.sqrt(root)));
  }
  return f32x4(
    Mathf.pow(f32x4.extract_lane(d, 0), -beta), Mathf.pow(f32x4.extract_lane(d, 1), -beta),
    Mathf.pow(f32x4.extract_lane(d, 2), -beta), Mathf.pow(f32x4.extract_lane(d, 3), -beta),
  );
}

/** d^−β for one float, rounded as powNeg's lanes are. */
// @ts-ignore: decorator
@inline
function powNeg1(d: f32, beta: f32): f32 {
  if (beta == 0.75) {
    const root = Mathf.sqrt(d);
    return 1 / (root * Mathf.sqrt(root));
  }
  return Mathf.pow(d, -beta);
}

/**
 * out[o, c, i] = Σ over c's window [c − lo, c + hi] of v[o, k, i] (squared where `square`), k in
 * order: four positions i at a time, one at a time for the rest (all of them for channels-last
 * images, whose inner is 1).
 */
function windowSums(v: usize, outer: i32, c: i32, inner: i32, lo: i32, hi: i32, square: bool, out: usize): void {
  const plane = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const base = <usize>o * <usize>c * plane;
    for (let ch = 0; ch < c; ch++) {
      const k0 = max(0, ch - lo), k1 = min(c - 1, ch + hi);
      const to = out + base + <usize>ch * plane, from = v + base + <usize>k0 * plane;
      let i = 0;
      for (; i + 4 <= inner; i += 4) {
        let sum = f32x4.splat(0), at = from + (<usize>i << 2);
        for (let k = k0; k <= k1; k++, at += plane) {
          const x = v128.load(at);
          sum = f32x4.add(sum, square ? f32x4.mul(x, x) : x);
        }
        v128.store(to + (<usize>i << 2), sum);
      }
      for (; i < inner; i++) {
        let sum: f32 = 0, at = from + (<usize>i << 2);
        for (let k = k0; k <= k1; k++, at += plane) {
          const x = load<f32>(at);
          sum += square ? x * x : x;
        }
        store<f32>(to + (<usize>i << 2), sum);
      }
    }
  }
}

/** y = x · d^−β with d = bias + α/size · Σ_window x² (kept in `d` for the backward pass). */
export function lrn(x: usize, outer: i32, c: i32, inner: i32, size: i32, alpha: f32, beta: f32, bias: f32, d: usize, y: usize): void {
  const lo = (size - 1) / 2, hi = size - 1 - lo;
  windowSums(x, outer, c, inner, lo, hi, true, d);
  const n = outer * c * inner, a = alpha / <f32>size;
  const av = f32x4.splat(a), bv = f32x4.splat(bias);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = <usize>i << 2;
    const di = f32x4.add(bv, f32x4.mul(av, v128.load(d + at)));
    v128.store(d + at, di);
    v128.store(y + at, f32x4.mul(v128.load(x + at), powNeg(di, beta)));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    const di = bias + a * load<f32>(d + at);
    store<f32>(d + at, di);
    store<f32>(y + at, load<f32>(x + at) * powNeg1(di, beta));
  }
}

/** gx from gy, x, y and lrn's d; `t` is scratch of x's size. */
export function lrnBackward(
  x: usize, y: usize, d: usize, gy: usize, outer: i32, c: i32, inner: i32, size: i32, alpha: f32, beta: f32, t: usize, gx: usize,
): void {
  const lo = (size - 1) / 2, hi = size - 1 - lo;
  const n = outer * c * inner;
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 2;
    store<f32>(t + at, load<f32>(gy + at) * load<f32>(y + at) / load<f32>(d + at));
  }
  // Σ over [j − hi, j + lo]: the window with its two sides swapped. Into gx, then finished in place.
  windowSums(t, outer, c, inner, hi, lo, false, gx);
  const k: f32 = 2 * alpha * beta / <f32>size;
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 2;
    store<f32>(gx + at, load<f32>(gy + at) * powNeg1(load<f32>(d + at), beta) - k * load<f32>(x + at) * load<f32>(gx + at));
  }
}
