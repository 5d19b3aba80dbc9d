// A static file server for the browser tests: `locate` maps a request path to a file (or null for
// 404); `isolated` adds the headers that make a page cross-origin isolated (COOP/COEP).
import { readFile } from "node:fs/promises";
import { type Server, createServer } from "node:http";
import { extname, normalize } from "node:path";

const TYPES: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".wasm": "application/wasm" };

/** Listens on a free local port; returns the server and its base URL (no trailing slash). */
export async function serveStatic(locate: (path: string) => string | null, isolated: boolean): Promise<[Server, string]> {
  const server = createServer(async (req, res) => {
    const file = locate(normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)));
    const body = file ? await readFile(file).catch(() => null) : null;
    if (!file || !body) return void res.writeHead(404).end();
    const headers: Record<string, string> = { "content-type": TYPES[extname(file)] ?? "application/octet-stream" };
    if (isolated) Object.assign(headers, { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" });
    res.writeHead(200, headers).end(body);
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const address = server.address();
  return [server, `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`];
}
