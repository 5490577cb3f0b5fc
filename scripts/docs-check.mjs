// `npm run docs:check`, after `npm run docs`: the built site as a reader gets it. Crawls every
// HTML page of docs/api for internal links (href, src, srcset) to files that do not exist or to
// anchors a page does not define; then serves the site, opens the playground in headless
// Chromium, trains it through its form for a fixed number of steps on cpu (and briefly on webgl
// and wasm), checks that the loss fell, the EG scale stayed finite and no tensor leaked, opens
// the guide that embeds it, and keeps a screenshot in artifacts/playground.png.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { checkLinks } from './docs-check/links.mjs';
import { launchChromium, serveFolder } from './docs-check/serve.mjs';

const root = join(import.meta.dirname, '..');
const site = join(root, 'docs', 'api');
const screenshot = join(root, 'artifacts', 'playground.png');
const PLAYGROUND = 'playground/index.html';
const GUIDE = 'documents/Playground.html';
/** Steps of the cpu run; the loss must end below LOSS_RATIO times its first value. */
const STEPS = 300;
const LOSS_RATIO = 0.5;
/** Steps of the short runs on the other backends. */
const OTHER_STEPS = 30;

const started = performance.now();
const seconds = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
const failures = [];

for (const page of ['index.html', PLAYGROUND, GUIDE]) {
  if (!existsSync(join(site, page))) {
    console.error(`docs:check: no docs/api/${page}; run \`npm run docs\` first`);
    process.exit(1);
  }
}

// 1. Links.
const htmlFiles = readdirSync(site, { recursive: true })
  .filter((f) => f.endsWith('.html'))
  .map((f) => f.split(sep).join('/'))
  .sort();
const pages = new Map(htmlFiles.map((f) => [f, readFileSync(join(site, f), 'utf8')]));
const isFile = (path) => {
  const file = join(site, ...path.split('/'));
  return relative(site, file).split(sep)[0] !== '..' && existsSync(file) && statSync(file).isFile();
};
const links = checkLinks(pages, isFile);
console.log(
  `links: ${links.pages} pages, ${links.links} internal links checked (${links.external} external links not fetched), ${links.broken.length} broken`,
);
for (const b of links.broken) console.log(`  BROKEN ${b.page}: ${b.url} (${b.reason})`);
if (links.broken.length > 0) failures.push(`${links.broken.length} broken links`);

// 2. The playground in headless Chromium.
const server = await serveFolder(site);
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    // A failed request of the page is reported below with its URL; this one also covers the
    // browser's own request for /favicon.ico, which the site does not have.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
      errors.push(m.text());
    }
  });
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`${r.status()} for ${r.url()}`);
  });
  await page.goto(server.url + PLAYGROUND);
  await page.waitForFunction(() => window.__playground !== undefined);
  await page.evaluate(() => window.__playground.ready);

  /** Train through the form until the run stops by itself after `steps`; the run's snapshot. */
  const train = async (steps) => {
    await page.fill('#max-steps', String(steps));
    await page.click('#start');
    await page.waitForFunction(
      (n) => {
        const s = window.__playground.snapshot();
        return !s.running && s.steps >= n;
      },
      steps,
      { timeout: 180_000 },
    );
    return page.evaluate(() => window.__playground.snapshot());
  };
  const describe = (s) =>
    `loss ${s.losses[0].toFixed(4)} -> ${s.losses.at(-1).toFixed(4)} in ${s.steps} steps, ` +
    `EG scale ${s.scales[0].toFixed(4)} -> ${s.scales.at(-1).toFixed(4)} ` +
    `(min ${Math.min(...s.scales).toFixed(4)}, max ${Math.max(...s.scales).toFixed(4)})`;

  const before = await page.evaluate(() => window.__playground.snapshot());
  const trainStart = performance.now();
  const cpu = await train(STEPS);
  const msPerStep = (performance.now() - trainStart) / STEPS;
  console.log(
    `playground on ${cpu.backend}: ${describe(cpu)}; ${msPerStep.toFixed(1)} ms per step with drawing`,
  );
  console.log(
    `tensors: ${before.tensors} before training, ${cpu.tensors} after ${cpu.steps} steps`,
  );
  if (cpu.tensors !== before.tensors) failures.push('the playground leaked tensors');
  const finite = (xs) => xs.every((x) => Number.isFinite(x));
  if (cpu.backend !== 'cpu') failures.push(`the playground trained on ${cpu.backend}, not cpu`);
  if (cpu.steps !== STEPS || cpu.losses.length !== STEPS || cpu.scales.length !== STEPS + 1) {
    failures.push(
      `the playground ran ${cpu.steps} steps (${cpu.losses.length} losses, ${cpu.scales.length} scales), expected ${STEPS}`,
    );
  }
  if (!finite(cpu.losses) || !(cpu.losses.at(-1) < LOSS_RATIO * cpu.losses[0])) {
    failures.push(`the loss did not fall below ${LOSS_RATIO} of its first value: ${describe(cpu)}`);
  }
  if (!finite(cpu.scales) || !cpu.scales.every((s) => s > 0)) {
    failures.push('the EG scale series has a non-finite or non-positive value');
  }
  const status = await page.textContent('#status');
  if (!status.startsWith(`Step ${STEPS} on cpu`))
    failures.push(`the status line reads "${status}"`);

  mkdirSync(join(root, 'artifacts'), { recursive: true });
  await page.screenshot({ path: screenshot, fullPage: true });
  const { width, height } = await page.evaluate(() => ({
    width: document.documentElement.scrollWidth,
    height: document.documentElement.scrollHeight,
  }));
  console.log(
    `screenshot: ${relative(root, screenshot)}, ${(statSync(screenshot).size / 1024).toFixed(1)} KiB, ${width}x${height} px`,
  );

  for (const backend of ['webgl', 'wasm']) {
    await page.selectOption('#backend', backend);
    await page.evaluate(() => window.__playground.ready);
    const s = await page.evaluate(() => window.__playground.snapshot());
    if (s.backend !== backend) {
      console.log(
        `playground on ${backend}: not offered by this browser (fell back to ${s.backend})`,
      );
      continue;
    }
    const run = await train(OTHER_STEPS);
    console.log(`playground on ${backend}: ${describe(run)}`);
    if (!finite(run.losses) || !finite(run.scales) || !(run.losses.at(-1) < run.losses[0])) {
      failures.push(`on ${backend} the loss did not fall: ${describe(run)}`);
    }
  }

  // The guide embeds the playground in a frame, which offers the page on its own.
  await page.goto(server.url + GUIDE);
  const frame = page.frames().find((f) => f.url().endsWith(PLAYGROUND));
  if (frame === undefined) {
    failures.push(`${GUIDE} has no frame of ${PLAYGROUND}`);
  } else {
    await frame.waitForFunction(() => window.__playground !== undefined);
    await frame.evaluate(() => window.__playground.ready);
    const offered = await frame.isVisible('#full-page');
    console.log(
      `guide: ${GUIDE} embeds the playground (ready; "open in its own tab" link ${offered ? 'shown' : 'MISSING'})`,
    );
    if (!offered) failures.push('the framed playground does not offer its own tab');
  }
  if (errors.length > 0) failures.push(`errors in the page:\n${errors.join('\n')}`);
} finally {
  await browser.close();
  await server.close();
}

console.log(`docs:check took ${seconds()}`);
if (failures.length > 0) {
  console.log(`\ndocs check FAILED:\n- ${failures.join('\n- ')}`);
  process.exit(1);
}
console.log('docs check passed');
