// Builds the package's JavaScript: one bundled ES module per entry (dist/index.js, dist/onnx.js,
// and the chunk they share, so Tensor is one class), because loading ~40 small modules was most of
// the cold start; and the declarations beside them, from tsc. No source maps are shipped.
import { execFileSync } from "node:child_process";
import { readFile, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { build } from "esbuild";
import { generateDtsBundle } from "dts-bundle-generator";

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
  minify: process.env.WASMGRAD_NO_MINIFY !== "1", // WASMGRAD_NO_MINIFY=1: readable names in a profile
  keepNames: true, // messages name classes (Sequential, Dense, …) by constructor.name
  legalComments: "none",
  external: ["protobufjs", "protobufjs/*", "node:*"],
  chunkNames: "shared-[hash]",
  plugins: [wasmNextToBundle, protoWithoutComments],
  logLevel: "warning",
});
// Two declaration files, one per entry, instead of tsc's one per module (the tarball carries a
// header per file): index.d.ts bundled by dts-bundle-generator; onnx.d.ts made of the ONNX
// modules' declarations, taking the library's own types from ./index.js so that Tensor, Model and
// the rest stay one declaration each.
const [indexTypes] = generateDtsBundle([{ filePath: "dist/index.d.ts", output: { noBanner: true, exportReferencedTypes: false } }]);
const onnxEntry = await readFile("dist/onnx.d.ts", "utf8");
const onnxExports = new Set([...onnxEntry.matchAll(/export \{([^}]*)\}/g)].flatMap(([, names]) => names.split(",").map((n) => n.replace(/^\s*type\s+/, "").trim())));
const fromLibrary = new Set(), external = new Set(), onnxBody = [];
const onnxModules = [...onnxEntry.matchAll(/from "\.\/([^"]+)\.js"/g)].map(([, spec]) => spec);
for (const spec of onnxModules) {
  for (const line of (await readFile(join("dist", `${spec}.d.ts`), "utf8")).split("\n")) {
    const local = line.match(/^import \{([^}]*)\} from "\.\.\/\.\.\/[^"]+\.js";$/);
    const sibling = line.match(/^import .* from "\.\/([^"]+)\.js";$/);
    if (local) local[1].split(",").forEach((n) => fromLibrary.add(n.replace(/^\s*type\s+/, "").trim()));
    else if (sibling && onnxModules.includes(`io/onnx/${sibling[1]}`)) continue; // declared in this same file
    else if (/^import .* from "\./.test(line)) throw new Error(`build-js: ${spec}.d.ts imports another ONNX module (${line}): teach onnx.d.ts's assembly about it`);
    else if (line.startsWith("import ")) external.add(line);
    else {
      // What the entry does not re-export stays a local declaration.
      const declared = line.match(/^export (?:declare )?(?:function|class|interface|type|const) (\w+)/);
      onnxBody.push(declared && !onnxExports.has(declared[1]) ? line.replace(/^export /, "") : line);
    }
  }
}
// A private member's doc comment reaches no user (its declaration has no type to hover): drop it.
const withoutPrivateDocs = (text) => text.replace(/\n\s*\/\*\*(?:[^*]|\*(?!\/))*\*\/(?=\n\s*(?:private |#private))/g, "");
const modules = (await readdir("dist", { recursive: true })).map((f) => join("dist", f)).filter((f) => f.endsWith(".d.ts"));
await Promise.all(modules.map((f) => rm(f)));
await Promise.all((await readdir("dist", { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => rm(join("dist", e.name), { recursive: true })));
await writeFile("dist/index.d.ts", withoutPrivateDocs(indexTypes));
await writeFile("dist/onnx.d.ts", withoutPrivateDocs([...external, `import { ${[...fromLibrary].join(", ")} } from "./index.js";`, ...onnxBody].join("\n")));
console.error(`built dist/index.js, dist/onnx.js, dist/worker.js and their declarations, dist/index.d.ts and dist/onnx.d.ts (from ${modules.length} modules)`);
