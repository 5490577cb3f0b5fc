// Fresh consumer projects that install the packed tarballs (and nothing from the workspace),
// type-check where they are TypeScript, and train: plain ESM JavaScript, strict TypeScript with
// node16 resolution, and strict TypeScript with bundler resolution.
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './exec.mjs';

const fixtures = join(import.meta.dirname, 'consumer');

/**
 * The consumers, each a name, the fixture files it gets, whether it is type-checked (and
 * compiled to `out/`) by `tsc -p tsconfig.json`, and the commands that train.
 */
export const consumers = [
  {
    name: 'esm-js',
    files: { 'train.mjs': 'train.mjs' },
    typescript: false,
    commands: [['node', ['train.mjs']]],
  },
  {
    name: 'ts-node16',
    files: { 'train.ts': 'train.ts', 'tsconfig.json': 'tsconfig.node16.json' },
    typescript: true,
    commands: [['node', ['out/train.js']]],
  },
  {
    name: 'ts-bundler',
    files: { 'train.ts': 'train.ts', 'tsconfig.json': 'tsconfig.bundler.json' },
    typescript: true,
    commands: [['node', ['out/train.js']]],
  },
];

/**
 * Make `consumer` in `dir`: a package.json, its fixture files, and an install of
 * `@tensorflow/tfjs` (and TypeScript) at the workspace's pinned versions plus the tarballs.
 */
export async function installConsumer(consumer, dir, tarballs, versions) {
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: `consumer-${consumer.name}`, private: true, type: 'module' }, null, 2)}\n`,
  );
  for (const [to, from] of Object.entries(consumer.files)) {
    copyFileSync(join(fixtures, from), join(dir, to));
  }
  const deps = [`@tensorflow/tfjs@${versions.tfjs}`, ...tarballs];
  if (consumer.typescript) deps.push(`typescript@${versions.typescript}`);
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...deps], {
    cwd: dir,
  });
}

/**
 * Type-check and compile a TypeScript consumer, run its commands, and resolve with the
 * losses its training printed and the number of tfjs declaration errors set aside.
 */
export async function checkConsumer(consumer, dir) {
  const tfjsErrors = consumer.typescript ? await typeCheck(dir) : 0;
  let out = '';
  for (const [cmd, args] of consumer.commands) out = await run(cmd, args, { cwd: dir });
  const losses = JSON.parse(out.trim().split('\n').at(-1));
  for (const [how, series] of Object.entries(losses))
    assertLossFalls(`${consumer.name} ${how}`, series);
  return { losses, tfjsErrors };
}

/** Throw unless the last loss is finite and below half the first. */
export function assertLossFalls(what, losses) {
  const first = losses[0];
  const last = losses.at(-1);
  if (!(Number.isFinite(last) && last < first / 2)) {
    throw new Error(`${what}: loss did not fall (${losses.map((l) => l.toFixed(4)).join(', ')})`);
  }
}

/** `first -> last` of a series of losses. */
export function describeLosses(losses) {
  return `${losses[0].toFixed(4)} -> ${losses.at(-1).toFixed(4)}`;
}

/**
 * `tsc -p tsconfig.json` with `skipLibCheck` off, so that tfopt's declarations are checked
 * as strictly as the consumer's own code. tfjs 4's declarations do not compile under strict
 * TypeScript 5 (its users need `skipLibCheck`); errors inside `node_modules/@tensorflow/` are
 * counted and set aside, any other error fails the check.
 */
async function typeCheck(dir) {
  const { code, stdout } = await run('npx', ['tsc', '-p', 'tsconfig.json'], {
    cwd: dir,
    allowFailure: true,
  });
  const errors = stdout.split('\n').filter((l) => /^\S+\(\d+,\d+\): error TS/.test(l));
  const ours = errors.filter((l) => !l.startsWith('node_modules/@tensorflow/'));
  if (ours.length > 0 || (code !== 0 && errors.length === 0)) {
    throw new Error(`tsc -p tsconfig.json failed:\n${stdout}`);
  }
  return errors.length;
}
