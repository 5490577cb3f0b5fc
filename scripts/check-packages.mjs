// Checks the published packages the way a consumer sees them: publint on each,
// then `npm pack` every package, install the tarballs into an empty project
// with @tensorflow/tfjs, and train a few steps with egAdam through
// TransformOptimizer from the installed copies.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const published = ['core', 'transforms', 'schedules', 'eg', 'contrib', 'layers'];
const run = (cmd, args, cwd) =>
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] }).toString();

for (const p of published) {
  process.stdout.write(`publint @tfopt/${p}: `);
  console.log(
    run('npx', ['publint', '--strict', join('packages', p)], root)
      .trim()
      .split('\n')
      .at(-1),
  );
}

const work = mkdtempSync(join(tmpdir(), 'tfopt-smoke-'));
for (const p of published)
  run('npm', ['pack', '--silent', '--pack-destination', work], join(root, 'packages', p));
const tarballs = readdirSync(work).filter((f) => f.endsWith('.tgz'));
const tfjs = JSON.parse(run('npm', ['pkg', 'get', 'devDependencies'], root))['@tensorflow/tfjs'];
writeFileSync(
  join(work, 'package.json'),
  JSON.stringify({ name: 'smoke', private: true, type: 'module' }),
);
run(
  'npm',
  [
    'install',
    '--no-audit',
    '--no-fund',
    '--prefer-offline',
    `@tensorflow/tfjs@${tfjs}`,
    ...tarballs.map((t) => `./${t}`),
  ],
  work,
);
writeFileSync(
  join(work, 'smoke.mjs'),
  `import * as tf from '@tensorflow/tfjs';
import { egAdam, readEgScale } from '@tfopt/eg';
import { TransformOptimizer } from '@tfopt/layers';
tf.env().set('IS_TEST', true);
const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 1 })] });
const optimizer = new TransformOptimizer(egAdam(0.05));
model.compile({ optimizer, loss: 'meanSquaredError' });
const xs = tf.randomNormal([64, 4], 0, 1, 'float32', 1);
const ys = tf.sum(xs, 1, true);
const h = await model.fit(xs, ys, { epochs: 20, verbose: 0 });
const loss = h.history.loss;
console.log('loss', loss[0].toFixed(4), '->', loss.at(-1).toFixed(4));
if (!(loss.at(-1) < loss[0] / 2)) throw new Error('loss did not fall');
`,
);
console.log(run('node', ['smoke.mjs'], work).trim());
console.log(`smoke install ok in ${work}`);
