import { beforeAll, describe, expect, it } from "vitest";
import { init, tensor, toDot, toMermaid } from "../src/index.js";

beforeAll(async () => {
  await init();
});

function applesGraph() {
  const x = tensor(100, { requiresGrad: true, name: "x" });
  const y = tensor(2, { requiresGrad: true, name: "y" });
  const z = tensor(1.1, { requiresGrad: true, name: "z" });
  const A = x.mul(y).retainGrad();
  A.name = "A";
  const B = A.mul(z).retainGrad();
  B.name = "B";
  return B;
}

describe("graph export", () => {
  it("writes the apple example as Graphviz DOT: values before backward, gradients after", () => {
    const B = applesGraph();
    const before = toDot(B);
    expect(before).not.toMatch(/\\ngrad /);
    expect(before).toContain('t4 [shape=box, label="B\\nvalue 220"];');
    B.backward({ retainGraph: true });
    expect(toDot(B)).toBe(`digraph wasmgrad {
  rankdir=LR;
  node [fontname="Helvetica"];
  t0 [shape=box, label="x\\nvalue 100\\ngrad 2.2"];
  t1 [shape=box, label="y\\nvalue 2\\ngrad 110"];
  t2 [shape=box, label="A\\nvalue 200\\ngrad 1.1"];
  t3 [shape=box, label="z\\nvalue 1.1\\ngrad 200"];
  t4 [shape=box, label="B\\nvalue 220\\ngrad 1"];
  op0 [shape=circle, label="×"];
  t0 -> op0;
  t1 -> op0;
  op0 -> t2;
  op1 [shape=circle, label="×"];
  t2 -> op1;
  t3 -> op1;
  op1 -> t4;
}
`);
  });

  it("shows shapes, small values, scalar arguments, and counts instead of long values", () => {
    const w = tensor([[1, 2], [3, 4]], { requiresGrad: true, name: "w" });
    const big = tensor(new Float32Array(100), { shape: [10, 10], name: "big", requiresGrad: true });
    const out = w.mul(2).sum().add(big.sum());
    const mermaid = toMermaid(out);
    expect(mermaid).toContain('t0["w<br/>shape [2, 2]<br/>value [1, 2, 3, 4]"]');
    expect(mermaid).toContain('(("× 2"))');
    expect(mermaid).toContain('big<br/>shape [10, 10]<br/>value 100 values"]');
    expect(mermaid).toContain('(("sum"))');
    expect(toDot(out, { maxValues: 200 })).toContain("value [0, 0, 0");
  });

  it("escapes quotes in names", () => {
    const t = tensor(1, { requiresGrad: true, name: 'say "hi"' });
    expect(toDot(t.mul(1))).toContain('label="say \\"hi\\"\\nvalue 1"');
    expect(toMermaid(t.mul(1))).toContain("say #quot;hi#quot;");
  });
});
