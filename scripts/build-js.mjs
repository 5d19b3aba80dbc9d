// Builds the package's JavaScript: one bundled ES module per entry (dist/index.js, dist/onnx.js,
// and the chunk they share, so Tensor is one class), because loading ~40 small modules was most of
// the cold start; and the declarations beside them, from tsc. No source maps are shipped.
import { execFileSync } from "node:child_process";
import { readFile, readdir, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { build } from "esbuild";

await rm("dist", { recursive: true, force: true });
execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json", "--emitDeclarationOnly"], { stdio: "inherit" });

// src/backend/load.ts finds the .wasm files relative to itself (src/backend/ → ../../build/); the
// bundles sit one folder higher (dist/ → ../build/). The literal stays a literal, so bundlers that
// take the package in (Vite, webpack) still see new URL("…", import.meta.url) and emit the files.
const wasmNextToBundle = {
  name: "wasm-next-to-bundle",
  setup(b) {
    b.onLoad({ filter: /src[\\/]backend[\\/]load\.ts$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      if (!source.includes('"../../build/')) throw new Error("load.ts no longer names ../../build/: update scripts/build-js.mjs");
      return { contents: source.replaceAll('"../../build/', '"../build/'), loader: "ts" };
    });
  },
};

// The vendored onnx.proto keeps its comments in the source (it is the ONNX project's text,
// verbatim); the bundle needs only the schema: comment lines out, ~30 kB less to ship.
const protoWithoutComments = {
  name: "proto-without-comments",
  setup(b) {
    b.onLoad({ filter: /src[\\/]io[\\/]onnx[\\/]onnx-proto\.ts$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      const start = source.indexOf("String.raw`") + "String.raw`".length, end = source.lastIndexOf("`");
      const schema = source.slice(start, end).split("\n").map((line) => line.replace(/\s*\/\/.*$/, "")).filter((line) => line.trim()).join("\n");
      return { contents: `export const ONNX_PROTO = ${JSON.stringify(schema)};`, loader: "js" };
    });
  },
};

await build({
  entryPoints: ["src/index.ts", "src/onnx.ts", { in: "src/backend/worker.ts", out: "worker" }],
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  minify: process.env.WASMGRAD_NO_MINIFY !== "1",
  keepNames: true, // messages name classes (Sequential, Dense, …) by constructor.name
  legalComments: "none",
  external: ["protobufjs", "protobufjs/*", "node:*"],
  chunkNames: "shared-[hash]",
  plugins: [wasmNextToBundle, protoWithoutComments],
  logLevel: "warning",
});
// Declarations the two entries' types never reach (kernels, threads, the worker) are not shipped.
const reached = new Set();
const walk = async (file) => {
  if (reached.has(file)) return;
  reached.add(file);
  const text = await readFile(file, "utf8");
  for (const [, spec] of text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)\.js"/g)) await walk(join(dirname(file), `${spec}.d.ts`));
};
await walk("dist/index.d.ts");
await walk("dist/onnx.d.ts");
const all = (await readdir("dist", { recursive: true })).map((f) => join("dist", f)).filter((f) => f.endsWith(".d.ts"));
const unreached = all.filter((f) => !reached.has(f));
await Promise.all(unreached.map((f) => rm(f)));
// A private member's doc comment reaches no user (its declaration has no type to hover): drop it.
await Promise.all([...reached].filter((f) => all.includes(f)).map(async (f) => {
  const text = await readFile(f, "utf8");
  await writeFile(f, text.replace(/\n\s*\/\*\*(?:[^*]|\*(?!\/))*\*\/(?=\n\s*(?:private |#private))/g, ""));
}));
console.error(`built dist/index.js, dist/onnx.js (${unreached.length} unreachable declaration files left out: ${unreached.map((f) => relative("dist", f)).join(", ")})`);
