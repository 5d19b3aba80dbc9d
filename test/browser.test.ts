// wasmgrad in a real browser: Debian's Chromium, driven headless by playwright-core, loading the
// built package from a local HTTP server. Needs /usr/bin/chromium (.ci/run installs it); outside
// CI the test is skipped, saying so, where Chromium is missing.
import { existsSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { threadsJob } from "./browser/threads-job.js";
import { serveStatic } from "./static-server.js";

const CHROMIUM = "/usr/bin/chromium";
const root = fileURLToPath(new URL("..", import.meta.url));
const available = existsSync(CHROMIUM);
if (!available && process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs it with apt-get`);

/** dist/, build/ and test/browser/ (page.html at /); `isolated` adds the COOP/COEP headers. */
const serve = (isolated: boolean) =>
  serveStatic((path) => {
    const file = join(root, path === "/" ? "test/browser/page.html" : path);
    return file.startsWith(root) && /^\/(dist|build|test\/browser)\/|^\/$/.test(path) ? file : null;
  }, isolated);

describe.skipIf(!available)(`in Chromium (${available ? CHROMIUM : "not installed: apt-get install chromium"})`, () => {
  let server: Server;
  let isolatedServer: Server;
  let browser: Browser;
  let base = "";
  let isolatedBase = "";

  beforeAll(async () => {
    [server, base] = await serve(false);
    [isolatedServer, isolatedBase] = await serve(true);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((done) => server?.close(done));
    await new Promise((done) => isolatedServer?.close(done));
  });

  it("loads the module by URL, picks the relaxed-SIMD build, backpropagates and trains", async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    await page.waitForFunction(() => (window as unknown as { result?: unknown }).result, null, { timeout: 30_000 });
    const result = await page.evaluate(() => (window as unknown as { result: Record<string, unknown> }).result);
    expect(result.error).toBeUndefined();
    expect(result.build).toBe("relaxed"); // Chromium has relaxed SIMD, so init() chose it
    expect(result.B).toBe(220);
    expect(result.dBdx).toBe(Math.fround(2.2));
    expect(result.dBdy).toBe(110);
    expect(result.dBdz).toBe(200);
    expect(result.accuracy).toBeGreaterThan(0.9);
    expect((result.memory as { arenaBytes: number }).arenaBytes).toBe(0);
    await page.close();
  });

  const runThreadsPage = async (at: string) => {
    const page = await browser.newPage();
    await page.goto(`${at}/test/browser/threads.html`);
    await page.waitForFunction(() => (window as unknown as { result?: unknown }).result, null, { timeout: 60_000 });
    const result = await page.evaluate(() => (window as unknown as { result: Record<string, unknown> }).result);
    await page.close();
    return result as { error?: string; threads: number; note: string | null; isolated: boolean; weights: number[] };
  };

  it("cross-origin isolated: trains on 2 threads (module Workers over shared memory) with the bits of Node's one thread", async () => {
    const node = await threadsJob(await import("../dist/index.js"), 1);
    const browserRun = await runThreadsPage(isolatedBase);
    expect(browserRun.error).toBeUndefined();
    expect(browserRun.isolated).toBe(true);
    expect(browserRun.threads).toBe(2);
    expect(browserRun.note).toBeNull();
    expect(browserRun.weights.length).toBe(node.weights.length);
    expect(browserRun.weights.every((w, i) => Object.is(w, node.weights[i]))).toBe(true);
  }, 120_000);

  it("not isolated: one thread, and engine.threadsNote says why", async () => {
    const browserRun = await runThreadsPage(base);
    expect(browserRun.error).toBeUndefined();
    expect(browserRun.isolated).toBe(false);
    expect(browserRun.threads).toBe(1);
    expect(browserRun.note).toMatch(/not cross-origin isolated .*Cross-Origin-Opener-Policy/);
  }, 120_000);
});
