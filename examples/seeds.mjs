// The worked examples of ../shared/seed-examples.md, through wasmgrad's public API.
// `npm run example:seeds` prints them; test/seed-examples.test.ts checks every value.
import { fileURLToPath } from "node:url";
import { gradcheck, init, noGrad, tensor, toMermaid } from "../dist/index.js";

const leaf = (value, name) => tensor(value, { requiresGrad: true, name });

/** 1. Buying apples: B = (x·y)·z, and the chain rule back to x, y and z. */
export function apples() {
  const x = leaf(100, "x"), y = leaf(2, "y"), z = leaf(1.1, "z");
  const A = x.mul(y).retainGrad();
  A.name = "A";
  const B = A.mul(z).retainGrad();
  B.name = "B";
  B.backward({ retainGraph: true }); // kept so the graph can be drawn
  return { B: B.item(), dBdx: x.grad.item(), dBdy: y.grad.item(), dBdz: z.grad.item(), dBdA: A.grad.item(), graph: toMermaid(B) };
}

/** 2. The same graph followed by f(t) = t²: C = B². */
export function applesSquared() {
  const x = leaf(100, "x"), y = leaf(2, "y"), z = leaf(1.1, "z");
  const C = x.mul(y).mul(z).square();
  C.backward();
  return { C: C.item(), dCdx: x.grad.item(), dCdy: y.grad.item(), dCdz: z.grad.item() };
}

/** 3. z = (x + y)², and the simple derivatives the tutorials use. */
export function squaredSum() {
  const x = leaf(3), y = leaf(4);
  const z = x.add(y).square();
  z.backward();
  const out = { z: z.item(), dzdx: x.grad.item(), dzdy: y.grad.item() };

  const u = leaf(2); // f(u) = 3u², f'(u) = 6u = 12
  u.square().mul(3).backward();
  const p = leaf(3), q = leaf(5); // f = p·q: ∂f/∂p = q, ∂f/∂q = p
  p.mul(q).backward();
  const s = leaf(3), t = leaf(5); // f = s + t: both partials are 1 (one tutorial's "y" is a slip)
  s.add(t).backward();
  return { ...out, d3u2: u.grad.item(), dpq_dp: p.grad.item(), dpq_dq: q.grad.item(), dsum_ds: s.grad.item(), dsum_dt: t.grad.item() };
}

/** 4. One sigmoid neuron with cross-entropy, and one gradient-descent step. */
export function sigmoidNeuron() {
  const x = tensor(0.5), label = tensor(1);
  const w = leaf(0.8, "w");
  const z = w.mul(x).retainGrad();
  const yHat = z.sigmoid();
  const L = label.mul(yHat.log()).neg(); // L = −y·log(ŷ)
  L.backward();
  const eta = 0.1;
  const updated = noGrad(() => w.sub(w.grad.mul(eta))); // w ← w − η·∂L/∂w
  return { z: z.item(), yHat: yHat.item(), L: L.item(), dLdz: z.grad.item(), dLdw: w.grad.item(), wAfterStep: updated.item() };
}

/**
 * 5. A two-layer network, z = xW⁽¹⁾ + b⁽¹⁾, h = σ(z), o = hW⁽²⁾ + b⁽²⁾, softmax cross-entropy
 * averaged over the batch. Rows are samples, so xW is the tutorials' Wx with W stored transposed.
 */
export function twoLayerNetwork() {
  const data = {
    x: [[0.5, -1.2, 0.3], [1.5, 0.2, -0.7]],
    y: [[0, 1, 0], [1, 0, 0]], // one-hot labels
    W1: [[0.2, -0.4, 0.1, 0.5], [0.3, 0.8, -0.6, 0.1], [-0.5, 0.2, 0.4, -0.3]],
    b1: [0.1, -0.1, 0.05, 0],
    W2: [[0.3, -0.2, 0.5], [0.1, 0.4, -0.3], [-0.6, 0.2, 0.1], [0.2, 0.2, 0.2]],
    b2: [0.01, -0.02, 0.03],
  };
  const x = tensor(data.x), y = tensor(data.y);
  const W1 = leaf(data.W1, "W1"), b1 = leaf(data.b1, "b1"), W2 = leaf(data.W2, "W2"), b2 = leaf(data.b2, "b2");
  const forward = (W1, b1, W2, b2) => {
    const h = x.matmul(W1).add(b1).sigmoid();
    const o = h.matmul(W2).add(b2);
    return { o, L: y.mul(o.logSoftmax()).sum().neg().div(2) };
  };
  const { o, L } = forward(W1, b1, W2, b2);
  o.retainGrad();
  L.backward();
  const check = gradcheck((...p) => forward(...p).L, [W1, b1, W2, b2]);
  const yHat = noGrad(() => o.softmax());
  return {
    data,
    L: L.item(),
    deltaOut: Array.from(o.grad.data()), // ∂L/∂o = (ŷ − y)/batch
    yHatMinusY: Array.from(noGrad(() => yHat.sub(y).div(2)).data()),
    grads: { W1: Array.from(W1.grad.data()), b1: Array.from(b1.grad.data()), W2: Array.from(W2.grad.data()), b2: Array.from(b2.grad.data()) },
    gradcheck: check,
  };
}

const r = (v) => +v.toPrecision(6);

async function main() {
  const engine = await init();
  console.log(`wasmgrad seed examples (${engine.build} build)\n`);

  const a = apples();
  console.log("1. Buying apples: A = x·y, B = A·z with x = 100, y = 2, z = 1.1");
  console.log(`   B = ${r(a.B)}   ∂B/∂x = ${r(a.dBdx)}   ∂B/∂y = ${r(a.dBdy)}   ∂B/∂z = ${r(a.dBdz)}   (∂B/∂A = ${r(a.dBdA)})`);
  console.log("   the graph, as Mermaid:");
  console.log(a.graph.replace(/^/gm, "     "));

  const s = applesSquared();
  console.log("2. The same graph, then C = B²");
  console.log(`   C = ${r(s.C)}   ∂C/∂x = ${r(s.dCdx)}   ∂C/∂y = ${r(s.dCdy)}   ∂C/∂z = ${r(s.dCdz)}\n`);

  const q = squaredSum();
  console.log("3. z = (x + y)² at x = 3, y = 4");
  console.log(`   z = ${r(q.z)}   ∂z/∂x = ${r(q.dzdx)}   ∂z/∂y = ${r(q.dzdy)}`);
  console.log(`   d(3u²)/du at u = 2: ${r(q.d3u2)}   ∂(p·q)/∂p = ${r(q.dpq_dp)} (= q = 5)   ∂(p·q)/∂q = ${r(q.dpq_dq)} (= p = 3)`);
  console.log(`   ∂(s + t)/∂s = ${r(q.dsum_ds)}   ∂(s + t)/∂t = ${r(q.dsum_dt)}   (one tutorial writes y here; the true value is 1)\n`);

  const n = sigmoidNeuron();
  console.log("4. One sigmoid neuron with cross-entropy: x = 0.5, w = 0.8, label 1");
  console.log(`   z = ${r(n.z)}   ŷ = σ(z) = ${r(n.yHat)}   L = −log ŷ = ${r(n.L)}`);
  console.log(`   ∂L/∂z = ŷ − y = ${r(n.dLdz)}   ∂L/∂w = ${r(n.dLdw)}   w after one step (η = 0.1) = ${r(n.wAfterStep)}\n`);

  const t = twoLayerNetwork();
  console.log("5. Two-layer network (3 → 4 sigmoid → 3 softmax, batch of 2), cross-entropy");
  console.log(`   L = ${r(t.L)}`);
  console.log(`   δ at the output, ∂L/∂o = [${t.deltaOut.map(r).join(", ")}]`);
  console.log(`   (ŷ − y)/batch           = [${t.yHatMinusY.map(r).join(", ")}]`);
  for (const [name, g] of Object.entries(t.grads)) console.log(`   ∂L/∂${name} = [${g.map(r).join(", ")}]`);
  console.log(`   gradcheck against finite differences: ${t.gradcheck.ok ? "ok" : "FAILED"}, worst relative error ${t.gradcheck.maxRelError.toExponential(1)} over ${t.gradcheck.checked} elements`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
