// The import graph of src/: no circles (type-only imports count too), and arrows that run one
// way: backend ← tensor ← autograd ← nn ← train. Read from the source text, as a reviewer would.
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = resolve(__dirname, "../src");

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

/** file → the src files it imports (static import/export … from, and import("…")). */
function graph(): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const file of files(SRC)) {
    const text = readFileSync(file, "utf8");
    const targets = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*"(\.[^"]+)"|(?:^|\n)\s*import\s*"(\.[^"]+)"|declare module "(\.[^"]+)"/g)]
      .map((m) => m[1] ?? m[2] ?? m[3])
      .map((spec) => resolve(dirname(file), spec.replace(/\.js$/, ".ts")));
    edges.set(relative(SRC, file), targets.map((t) => relative(SRC, t)));
  }
  return edges;
}

/** Every import circle, as the list of files around it. */
function circles(edges: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (f: string) => {
    state.set(f, "open");
    path.push(f);
    for (const g of edges.get(f) ?? []) {
      if (state.get(g) === "open") found.push([...path.slice(path.indexOf(g)), g]);
      else if (!state.has(g)) visit(g);
    }
    path.pop();
    state.set(f, "done");
  };
  for (const f of edges.keys()) if (!state.has(f)) visit(f);
  return found;
}

const LAYER: [RegExp, number][] = [
  [/^(check|errors|random)\.ts$/, 0],
  [/^backend\//, 1],
  [/^tensor\.ts$/, 2],
  [/^autograd\//, 3],
  [/^(nn|optim)\//, 4],
  [/^(train|io)\//, 5],
  [/^(index|onnx)\.ts$/, 6],
];
const layerOf = (f: string) => LAYER.find(([re]) => re.test(f))?.[1] ?? -1;

describe("the import graph of src/", () => {
  const edges = graph();

  it("is read: every file, every import resolved to a file", () => {
    expect(edges.size).toBeGreaterThan(30);
    for (const [f, targets] of edges) for (const t of targets) expect(edges.has(t), `${f} imports ${t}`).toBe(true);
  });

  it("has no circle", () => {
    expect(circles(edges).map((c) => c.join(" → "))).toEqual([]);
  });

  it("runs one way: backend ← tensor ← autograd ← nn, optim ← train, io", () => {
    const upward: string[] = [];
    for (const [f, targets] of edges) {
      for (const t of targets) if (layerOf(t) > layerOf(f)) upward.push(`${f} → ${t}`);
    }
    expect(upward).toEqual([]);
  });

  it("the core entry reaches no ONNX or protobuf code (that is wasmgrad/onnx's)", () => {
    const reached = new Set<string>();
    const visit = (f: string) => {
      if (reached.has(f)) return;
      reached.add(f);
      (edges.get(f) ?? []).forEach(visit);
    };
    visit("index.ts");
    expect([...reached].filter((f) => f.startsWith("io/onnx/") || f === "onnx.ts")).toEqual([]);
    // No module imports protobufjs at all: wasmgrad/onnx reads and writes protobuf itself (io/onnx/protobuf.ts).
    const protobuf = [...edges.keys()].filter((f) => /from\s*"protobufjs"/.test(readFileSync(join(SRC, f), "utf8")));
    expect(protobuf).toEqual([]);
  });

  it("the checker finds a circle when there is one", () => {
    expect(circles(new Map([["a.ts", ["b.ts"]], ["b.ts", ["a.ts"]]]))).toEqual([["a.ts", "b.ts", "a.ts"]]);
  });
});
