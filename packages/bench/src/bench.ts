/**
 * `npm run bench`: the optimizer step alone (tf.train against tfopt's fused
 * and composable paths), the machine's copy bandwidth, and the whole MNIST
 * training step, on each backend; writes bench.json and bench.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
// The Node build of tfjs-core registers no gradients (the training step needs them); the tfjs bundle does.
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import type { ModelKind } from '@tfopt/experiments/dist/models.js';
import { type BenchArgs, parseArgs, USAGE } from './args.js';
import { COPY_BYTES, measureCopyBandwidth } from './bandwidth.js';
import { fusedAvailable, notFusable, OPTIMIZERS } from './contenders.js';
import { describeMachine } from './machine.js';
import { growthSummary, renderMarkdown } from './report.js';
import { type MeasuredStep, runStepCase } from './stepSuite.js';
import { evaluateTargets } from './targets.js';
import { median, stepBandwidth } from './traffic.js';
import { runTrainCase } from './trainSuite.js';
import type { BenchResult, StepRow, TrainRow } from './types.js';
import { DOCS_PATH, PACKAGE_DIR, writeDocs } from './writeDocs.js';

const CNN_NOTE =
  "tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel; the experiments' CNN computes its " +
  'filter gradient as a forward convolution (a tf.customGrad in packages/experiments/src/models.ts), ' +
  "so it trains on wasm too. A CNN built on tf.conv2d's own gradient runs on cpu only.";

async function run(args: BenchArgs): Promise<BenchResult> {
  const started = new Date();
  const log = (line: string) => console.log(line);
  const notes: string[] = [];
  const warmupSteps = args.quick ? 1 : 3;
  const copies = args.quick ? 3 : 7;
  const copySamples = measureCopyBandwidth(copies);
  log(`copy bandwidth: ${median(copySamples).toFixed(2)} GB/s`);

  const measured: MeasuredStep[] = [];
  const training: TrainRow[] = [];
  for (const backend of args.backends) {
    if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} is not available`);
    await tf.ready();
    const leakCheck = tf.memory().numTensors;
    log(`${backend}: optimizer step`);
    for (const layout of args.sizes) {
      measured.push(
        ...runStepCase(layout, backend, {
          blocks: args.blocks,
          blockMs: args.blockMs,
          warmupSteps,
          log,
          onError: (message) => {
            notes.push(message);
            log(`  ${message}`);
          },
        }),
      );
    }
    if (args.models.length > 0) log(`${backend}: whole training step`);
    for (const model of args.models as ModelKind[]) {
      try {
        training.push(
          ...runTrainCase(model, backend, {
            blocks: args.blocks,
            blockMs: args.blockMs * 2,
            warmupSteps,
            log,
          }),
        );
      } catch (e) {
        const message = `${backend} ${model} training step failed: ${e instanceof Error ? e.message : e}`;
        notes.push(message);
        log(`  ${message}`);
      }
    }
    const left = tf.memory().numTensors - leakCheck;
    if (left !== 0) notes.push(`${backend}: ${left} tensors were left alive after the suites`);
  }
  copySamples.push(...measureCopyBandwidth(copies));
  const copyGbPerSec = median(copySamples);

  const steps: StepRow[] = measured.map((r) => ({
    ...r,
    ...stepBandwidth(r.bytesPerParam, r.params, r.msPerStep, copyGbPerSec),
  }));
  const leaking = [...steps, ...training].filter((r) => r.tensorGrowth !== 0);
  for (const r of leaking) {
    const where = 'case' in r ? r.case : r.model;
    notes.push(
      `${r.backend} ${where}: ${r.optimizer} (${r.path}) grew numTensors by ${r.tensorGrowth}`,
    );
  }
  if (args.models.includes('cnn')) notes.push(CNN_NOTE);
  const fused = fusedAvailable();
  if (fused) {
    const used = new Set([...steps, ...training].map((r) => r.optimizer));
    for (const name of used) {
      const why = notFusable(name);
      if (why !== undefined) {
        notes.push(`${name}: ${why}; its "fused" rows ran the composable path`);
      }
    }
  }
  return {
    version: 1,
    startedAt: started.toISOString(),
    durationSec: (Date.now() - started.getTime()) / 1000,
    quick: args.quick,
    settings: {
      sizes: args.sizes.map((s) => `${s.tensors}x${s.size}`),
      backends: args.backends,
      models: args.models,
      blocks: args.blocks,
      blockMs: args.blockMs,
      warmupSteps,
    },
    machine: describeMachine(args.backends),
    optimizers: Object.fromEntries(Object.values(OPTIMIZERS).map((o) => [o.name, o.settings])),
    fusedAvailable: fused,
    bandwidth: { arrayBytes: COPY_BYTES, gbPerSec: copyGbPerSec, samples: copySamples },
    steps,
    training,
    targets: evaluateTargets(steps, training, args.backends),
    notes,
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args === undefined) {
    console.log(USAGE);
    return;
  }
  tf.enableProdMode(); // also silences the "use tfjs-node" banner
  const result = await run(args);
  const out = resolve(args.out ?? join(PACKAGE_DIR, 'results'));
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'bench.json'), `${JSON.stringify(result, null, 2)}\n`);
  const markdown = renderMarkdown(result);
  writeFileSync(join(out, 'bench.md'), markdown);
  console.log(`\nwrote ${join(out, 'bench.json')} and bench.md`);
  if (args.writeDocs) console.log(`wrote ${writeDocs(result, DOCS_PATH)}`);
  console.log(growthSummary(result).replaceAll('`', '').replaceAll('**', ''));
  for (const t of result.targets) {
    const value = t.value === null ? '–' : t.value.toFixed(3);
    console.log(
      `${t.status.padEnd(12)} ${t.target} [${t.backend}]: ${t.measure} = ${value} (${t.bound})`,
    );
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
