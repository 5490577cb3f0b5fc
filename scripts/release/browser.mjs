// The browser check: vite bundles `browser/main.js` (tfjs included) from an installed consumer
// project, a local HTTP server serves it, and headless Chromium trains with egAdam on the cpu
// backend (fused, then saved, loaded and resumed) and on webgl when the browser offers it
// (SwiftShader without a GPU).
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { chromium } from 'playwright-core';
import { build } from 'vite';
import { assertLossFalls } from './consumers.mjs';

export const CHROMIUM = '/usr/bin/chromium';

const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };

/** Build the page into `consumerDir/browser/out`; resolve with the output folder. */
export async function buildPage(consumerDir) {
  const dir = join(consumerDir, 'browser');
  mkdirSync(dir, { recursive: true });
  for (const f of ['index.html', 'main.js']) {
    copyFileSync(join(import.meta.dirname, 'browser', f), join(dir, f));
  }
  const outDir = join(dir, 'out');
  await build({
    configFile: false,
    logLevel: 'warn',
    root: dir,
    build: { outDir, minify: true, reportCompressedSize: false, chunkSizeWarningLimit: 1e5 },
  });
  return outDir;
}

/**
 * Serve `outDir`, open it in headless Chromium and resolve with the page's result:
 * `{ renderer, runs: [{ backend, offered, loss }] }`. Throws when a backend that is offered
 * fails to train or its loss does not fall, or when cpu is not offered.
 */
export async function trainInBrowser(outDir) {
  const server = createServer((req, res) => {
    const path = normalize(join(outDir, new URL(req.url, 'http://x').pathname));
    const file = path.endsWith('/') ? join(path, 'index.html') : path;
    if (!file.startsWith(outDir) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    // SwiftShader is the software WebGL without a GPU; recent Chromium offers it only when asked.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--enable-unsafe-swiftshader'],
  });
  const errors = [];
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction(() => window.releaseCheck !== undefined);
    const result = await within(
      180_000,
      page.evaluate(() => window.releaseCheck),
    );
    if (result === undefined || result.error) {
      throw new Error(`the page failed: ${result?.error ?? 'no result'}\n${errors.join('\n')}`);
    }
    for (const r of result.runs) if (r.offered) assertLossFalls(`browser ${r.backend}`, r.loss);
    if (!result.runs[0].offered) throw new Error('browser: the cpu backend was not offered');
    const { loss, resumedLoss } = result.runs[0];
    // The loaded model resumes where the saved one stopped: its next epoch is no worse.
    if (!(Number.isFinite(resumedLoss) && resumedLoss <= loss.at(-1) * 1.5)) {
      throw new Error(`browser cpu: after save and load the loss is ${resumedLoss}`);
    }
    return { ...result, version: browser.version() };
  } finally {
    await browser.close();
    server.close();
  }
}

function within(ms, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`browser: no result after ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
