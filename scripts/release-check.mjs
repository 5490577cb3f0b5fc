// `npm run release:check`: the published packages as consumers get them. Builds them, runs
// publint (strict) and arethetypeswrong (esm-only profile) on each packed tarball, installs the
// tarballs into fresh consumer projects (ESM JavaScript; strict TypeScript with node16 and with
// bundler resolution) that type-check and train, measures the initial load of the minified
// browser bundle of egAdam + stepVariables against its budget (and reports the chunks loaded on
// demand), and trains in headless Chromium on cpu (fused, after loading the fused path) and webgl.
// Every temporary folder is removed at the end, also when a check fails or the run is stopped.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPage, CHROMIUM, trainInBrowser } from './release/browser.mjs';
import { BUNDLE_BUDGET_KB, measureBundle } from './release/bundle-size.mjs';
import { checkConsumer, consumers, describeLosses, installConsumer } from './release/consumers.mjs';
import { inParallel, removeTemporaryFolders, run, temporaryFolder } from './release/exec.mjs';

const root = join(import.meta.dirname, '..');
const published = ['core', 'transforms', 'schedules', 'eg', 'contrib', 'layers'];
const devDependencies = JSON.parse(
  readFileSync(join(root, 'package.json'), 'utf8'),
).devDependencies;
const versions = {
  tfjs: devDependencies['@tensorflow/tfjs'],
  typescript: devDependencies.typescript,
};

const timings = [];
const failures = [];

/** Run one named check, time it, and record (not throw) its failure unless it is `required`. */
async function check(name, fn, { required = false } = {}) {
  const start = performance.now();
  console.log(`\n== ${name}`);
  try {
    return await fn();
  } catch (e) {
    failures.push(name);
    console.log(`FAILED: ${e?.message ?? e}`);
    if (required) throw e;
    return undefined;
  } finally {
    timings.push([name, (performance.now() - start) / 1000]);
  }
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    removeTemporaryFolders();
    process.exit(130);
  });
}

const started = performance.now();
try {
  await check(
    'build',
    async () => {
      const filters = published.map((p) => `--filter=@tfopt/${p}`);
      const out = await run('npx', ['turbo', 'run', 'build', ...filters], { cwd: root });
      console.log(
        out
          .trim()
          .split('\n')
          .filter((l) => /Tasks:|Time:/.test(l))
          .join('\n'),
      );
    },
    { required: true },
  );

  await check('publint --strict', () =>
    inParallel(
      2,
      published.map((p) => async () => {
        const out = await run('npx', ['publint', '--strict', join('packages', p)], { cwd: root });
        console.log(`@tfopt/${p}: ${out.trim().split('\n').at(-1)}`);
      }),
    ),
  );

  const work = temporaryFolder('tfopt-release-');
  const tarballs = await check(
    'npm pack',
    () =>
      inParallel(
        2,
        published.map((p) => async () => {
          const out = await run('npm', ['pack', '--json', '--pack-destination', work], {
            cwd: join(root, 'packages', p),
          });
          const [info] = JSON.parse(out);
          console.log(
            `${info.filename}: ${(info.size / 1024).toFixed(1)} KiB packed, ${info.entryCount} files`,
          );
          return join(work, info.filename);
        }),
      ),
    { required: true },
  );

  await check('arethetypeswrong --profile esm-only', () =>
    inParallel(
      2,
      tarballs.map((tarball, i) => async () => {
        const { code, stdout } = await run(
          'npx',
          ['attw', tarball, '--profile', 'esm-only', '--format', 'json'],
          { cwd: root, allowFailure: true },
        );
        const { analysis } = JSON.parse(stdout);
        const counted = (analysis.problems ?? []).filter(
          (p) => !['node10', 'node16-cjs'].includes(p.resolutionKind),
        );
        const entrypoints = Object.keys(analysis.entrypoints).join(' ');
        if (code !== 0 || counted.length > 0) {
          throw new Error(`@tfopt/${published[i]}: ${JSON.stringify(counted, null, 2)}`);
        }
        console.log(`@tfopt/${published[i]}: no problems (node16 ESM, bundler) in ${entrypoints}`);
      }),
    ),
  );

  const dirs = Object.fromEntries(consumers.map((c) => [c.name, join(work, c.name)]));
  const installed = await check('install the tarballs into fresh consumers', () =>
    inParallel(
      3,
      consumers.map((c) => async () => {
        mkdirSync(dirs[c.name]);
        const start = performance.now();
        await installConsumer(c, dirs[c.name], tarballs, versions);
        console.log(`${c.name}: installed in ${((performance.now() - start) / 1000).toFixed(0)} s`);
        return c.name;
      }),
    ),
  );

  if (installed !== undefined) {
    for (const c of consumers) {
      await check(`consumer ${c.name}: ${c.typescript ? 'type-check, ' : ''}train`, async () => {
        const { losses, tfjsErrors } = await checkConsumer(c, dirs[c.name]);
        if (c.typescript) {
          console.log(
            `tsc (strict, skipLibCheck off): no errors in train.ts or @tfopt/*; ${tfjsErrors} in tfjs's own declarations set aside`,
          );
        }
        console.log(
          `stepVariables(egAdam(0.1)): loss ${describeLosses(losses.stepVariables)} in 10 steps`,
        );
        console.log(
          `model.fit, TransformOptimizer(egAdam(0.05)): loss ${describeLosses(losses.fit)} in 20 epochs`,
        );
      });
    }

    await check(`browser bundle of egAdam + stepVariables <= ${BUNDLE_BUDGET_KB} KiB`, async () => {
      const { bytes, gzipBytes, chunks, shares, lazy } = await measureBundle(dirs['esm-js']);
      const kib = (n) => (n / 1024).toFixed(1);
      console.log(
        `initial load: ${kib(bytes)} KiB minified, ${kib(gzipBytes)} KiB gzipped, ${chunks} chunks (tfjs external)`,
      );
      console.log(
        `by package: ${shares.map(([n, s]) => `${n} ${(100 * s).toFixed(0)}%`).join(', ')}`,
      );
      const lazyBytes = lazy.reduce((sum, c) => sum + c.bytes, 0);
      console.log(
        `loaded on demand (the fused path, from the first step on cpu or wasm): ${kib(lazyBytes)} KiB minified in ${lazy.length} chunks`,
      );
      for (const c of lazy) {
        console.log(
          `  ${kib(c.bytes).padStart(5)} KiB (${kib(c.gzipBytes)} gzipped): ${c.modules.join(', ')}`,
        );
      }
      if (bytes > BUNDLE_BUDGET_KB * 1024) {
        throw new Error(
          `the initial load, ${kib(bytes)} KiB, is over the ${BUNDLE_BUDGET_KB} KiB budget`,
        );
      }
      console.log(`MET: ${kib(bytes)} KiB <= ${BUNDLE_BUDGET_KB} KiB`);
    });

    await check('browser: train with egAdam in headless Chromium', async () => {
      if (!existsSync(CHROMIUM)) {
        throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium`);
      }
      const result = await trainInBrowser(await buildPage(dirs['esm-js']));
      console.log(`Chromium ${result.version}, WebGL renderer: ${result.renderer ?? 'none'}`);
      for (const r of result.runs) {
        if (!r.offered) {
          console.log(`${r.backend}: not offered by this browser`);
          continue;
        }
        const fused = r.fused
          ? ` (fused: true); saved, loaded and resumed at loss ${r.resumedLoss.toFixed(4)}`
          : '';
        console.log(`${r.backend}: model.fit loss ${describeLosses(r.loss)} in 20 epochs${fused}`);
      }
    });
  }
} catch {
  // A required check failed; it is already reported and counted.
} finally {
  removeTemporaryFolders();
}

console.log('\n== timings');
for (const [name, s] of timings) console.log(`${s.toFixed(1).padStart(7)} s  ${name}`);
console.log(`${((performance.now() - started) / 1000).toFixed(1).padStart(7)} s  total`);
if (failures.length > 0) {
  console.log(`\nrelease check FAILED: ${failures.join('; ')}`);
  process.exit(1);
}
console.log('\nrelease check passed');
