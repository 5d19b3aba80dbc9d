// The package as a user installs it: what `npm pack` ships, declarations that compile in a strict
// consumer with and without the DOM lib, the README's own snippets type-checked and run, and init()
// errors that name the fix on hosts that cannot find or compile the module.
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { UnsupportedHostError, init } from "../src/index.js";

const root = resolve(import.meta.dirname, "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const tsc = join(root, "node_modules/typescript/bin/tsc");

/** A directory where `wasmgrad` resolves to this package as installed (its exports, its dist/). */
function consumer(files: Record<string, string>, lib: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "wasmgrad-consumer-"));
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(root, join(dir, "node_modules/wasmgrad"));
  symlinkSync(join(root, "node_modules/@types"), join(dir, "node_modules/@types"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({
    compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", lib, types: ["node"], strict: true, skipLibCheck: false, noEmit: true },
    include: Object.keys(files).filter((f) => f.endsWith(".ts")),
  }));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const paths = (dir: string, pattern: RegExp) => readdirSync(join(root, dir)).filter((f) => pattern.test(f)).map((f) => `${dir}/${f}`);

const typecheck = (dir: string) => execFileSync(process.execPath, [tsc, "-p", dir], { encoding: "utf8" });

/** The README's self-contained snippets: the ```js blocks that import wasmgrad and call init(). */
const snippets = [...readFileSync(join(root, "README.md"), "utf8").matchAll(/```js\n([\s\S]*?)```/g)]
  .map((m) => m[1])
  .filter((code) => code.includes('from "wasmgrad"') && code.includes("await init()"));

describe("the package as installed", () => {
  it("ships bundles, declarations, both .wasm builds, LICENSE and README — no source maps, within size", () => {
    const [packed] = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: root, encoding: "utf8" }));
    const paths: string[] = packed.files.map((f: { path: string }) => f.path);
    for (const needed of ["LICENSE", "README.md", "package.json", "bin/wasmgrad.mjs", "dist/index.js", "dist/onnx.js", "dist/index.d.ts", "dist/onnx.d.ts", "build/simd.wasm", "build/relaxed.wasm"]) {
      expect(paths, needed).toContain(needed);
    }
    expect(paths.filter((p) => p.endsWith(".map") || p.startsWith("src/"))).toEqual([]);
    expect(packed.size, "packed tarball bytes").toBeLessThanOrEqual(200_000);
    for (const f of packed.files.filter((f: { path: string }) => f.path.endsWith(".wasm"))) expect(f.size, f.path).toBeLessThanOrEqual(64 * 1024);
    expect(pkg.repository?.url).toMatch(/^git\+https:/);
    expect(pkg.keywords).toContain("backpropagation");
    expect(pkg.homepage).toBeTruthy();
  });

  const usage = `import { Adam, Dense, Sequential, init, loadModel, tensor, type Tensor } from "wasmgrad";
import { toOnnx } from "wasmgrad/onnx";
const engine = await init();
const model = new Sequential([new Dense(4, { activation: "relu" }), new Dense(2)], { inputShape: [3], seed: 1 });
model.compile({ loss: "crossEntropy", optimizer: new Adam(model.parameters()) });
const history = await model.fit(tensor([[1, 2, 3]]), tensor([1]), { epochs: 1, verbose: false });
const last: number | undefined = history.epochs.at(-1)?.loss;
const out: Tensor = model.predict(tensor([[1, 2, 3]]));
const again = await loadModel(model.save());
const onnx: Uint8Array = toOnnx(model);
export { engine, last, out, again, onnx };
`;
  it.each([[["ES2022"]], [["ES2022", "DOM"]]])("declarations compile in a strict consumer with lib %j and @types/node, skipLibCheck off", (lib) => {
    expect(() => typecheck(consumer({ "main.ts": usage }, lib))).not.toThrow();
  }, 60_000);

  it("the bundles run: no entry imports protobufjs (wasmgrad/onnx has its own codec), the onnx entry's trimmed schema round-trips a model", () => {
    for (const file of ["dist/index.js", "dist/onnx.js", ...paths("dist", /^shared-.*\.js$/)]) expect(readFileSync(join(root, file), "utf8"), file).not.toMatch(/from\s*"protobufjs|require\("protobufjs/);
    expect(pkg.peerDependencies ?? {}).toEqual({});
    const dir = consumer({
      "roundtrip.mjs": `import { Dense, Sequential, init, tensor } from "wasmgrad";
import { fromOnnx, toOnnx } from "wasmgrad/onnx";
await init();
const model = new Sequential([new Dense(3, { activation: "tanh" }), new Dense(2)], { inputShape: [4], seed: 5 });
const x = tensor([[0.1, 0.2, 0.3, 0.4]]);
const back = fromOnnx(toOnnx(model));
console.log(JSON.stringify([model.predict(x).data(), back.forward(x).data()].map((d) => Array.from(d))));
`,
    }, ["ES2022"]);
    const [ours, theirs] = JSON.parse(execFileSync(process.execPath, [join(dir, "roundtrip.mjs")], { encoding: "utf8" }));
    expect(ours).toHaveLength(2);
    expect(theirs).toEqual(ours);
  });

  it("the README's snippets type-check strictly and run as written", () => {
    expect(snippets.length).toBeGreaterThanOrEqual(2);
    const files = Object.fromEntries(snippets.flatMap((code, i) => [[`snippet${i}.ts`, `${code}\nexport {};\n`], [`snippet${i}.mjs`, code]]));
    const dir = consumer(files, ["ES2022"]);
    try {
      typecheck(dir);
    } catch (e) {
      throw new Error(`README snippets fail strict TypeScript:\n${(e as { stdout?: string }).stdout}`);
    }
    for (let i = 0; i < snippets.length; i++) execFileSync(process.execPath, [join(dir, `snippet${i}.mjs`)], { encoding: "utf8" });
  }, 60_000);
});

describe("init() on hosts that cannot find or compile the module", () => {
  it("bytes that are not a module: the error says it was the bytes passed, not a build", async () => {
    const error = await init({ wasm: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 99]) }).catch((e) => e);
    expect(error).toBeInstanceOf(UnsupportedHostError);
    expect(error.message).toMatch(/the bytes passed as options\.wasm/);
    await expect(init({ wasm: 42 as never })).rejects.toThrow(/neither a WebAssembly.Module, bytes nor a URL/);
    await expect(init({ wasm: "file:///nowhere/simd.wasm" })).rejects.toThrow(/could not read the wasmgrad module from file:\/\/\/nowhere\/simd.wasm.*init\(\{ wasm \}\)/);
  });

  it("a WebAssembly.Module compiled in another realm (an edge sandbox's) is recognised", async () => {
    const bytes = readFileSync(join(root, "build/simd.wasm"));
    const foreign = runInNewContext("new WebAssembly.Module(bytes)", { bytes });
    expect(foreign instanceof WebAssembly.Module).toBe(false); // the reason instanceof cannot decide
    const engine = await init({ wasm: foreign });
    expect(engine.build).toBe("simd");
    await init(); // the default engine again, for the tests after
  });
});
