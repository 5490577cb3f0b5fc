// A static file server for a built folder and the headless Chromium of the release check
// (scripts/release/browser.mjs), for checks that open pages of their own.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM } from '../release/browser.mjs';

export { CHROMIUM };

const TYPES = {
  '.css': 'text/css',
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain',
  '.wasm': 'application/wasm',
};

/**
 * Serve `dir` on 127.0.0.1 at a free port; resolve with `{ url, close }`. A folder's URL serves
 * its index.html; anything outside `dir` or missing is a 404.
 */
export async function serveFolder(dir) {
  const root = normalize(dir);
  const server = createServer((req, res) => {
    let path;
    try {
      path = normalize(join(root, decodeURIComponent(new URL(req.url, 'http://x').pathname)));
    } catch {
      res.writeHead(400).end();
      return;
    }
    const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'index.html') : path;
    if (!(file === root || file.startsWith(root + sep)) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () =>
      new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      }),
  };
}

/** Headless Chromium with the release check's flags (SwiftShader WebGL without a GPU). */
export function launchChromium() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--enable-unsafe-swiftshader'],
  });
}
