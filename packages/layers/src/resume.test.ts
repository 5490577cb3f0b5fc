import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import {
  chain,
  type GradientTransformation,
  injectLearningRate,
  stateless,
  withSpec,
} from '@tfopt/core';
import { egAdam, egSgdm, readEgScale } from '@tfopt/eg';
import { describeEachBackend, expectArrayClose, useBackend } from '@tfopt/testing';
import {
  quietWasmLeakCheck,
  REGRESSION_FIT,
  regressionData,
  regressionModel,
  saveWithOptimizer as save,
  modelWeights as weights,
} from '@tfopt/testing/layers';
import { adam, scale, trace } from '@tfopt/transforms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerTransformFactory, TransformOptimizer } from './index.js';

const data = regressionData;
const model = regressionModel;
const FIT = REGRESSION_FIT;

function expectWeightsClose(actual: number[][], expected: number[][]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((w, i) => {
    expectArrayClose(w, expected[i]!, { rtol: 1e-5, atol: 1e-6 }, `weight ${i}`);
  });
}

/** A transform from user code, registered so it can be saved. */
function heavyBall(decay: number, lr: number): GradientTransformation<any> {
  return withSpec(chain(trace({ decay }), scale(-lr)), 'tfoptTestHeavyBall', [decay, lr]);
}
registerTransformFactory('tfoptTestHeavyBall', heavyBall);

const CASES: [string, () => GradientTransformation<any>, number | undefined][] = [
  ['egAdam', () => egAdam(0.02, { scale: { scaleLearningRate: 0.05 } }), undefined],
  [
    'egSgdm with an injected learning rate changed before saving',
    () => injectLearningRate(egSgdm, 0.05, { momentum: 0.8 }),
    0.03,
  ],
  ['a registered user transform', () => heavyBall(0.9, 0.02), undefined],
];

describeEachBackend('save, load and resume', (backend) => {
  quietWasmLeakCheck(backend);

  for (const [title, build, newRate] of CASES) {
    it(`${title}: N steps, save, load, M steps equals N + M steps`, async () => {
      const { xs, ys } = data();
      const a = model();
      const optimizer = new TransformOptimizer(build());
      a.compile({ optimizer, loss: 'meanSquaredError' });
      if (newRate !== undefined) optimizer.learningRate = newRate;
      await a.fit(xs, ys, FIT);
      const artifacts = await save(a);
      await a.fit(xs, ys, FIT);

      const b = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
      const loaded = b.optimizer as TransformOptimizer;
      expect(loaded).toBeInstanceOf(TransformOptimizer);
      expect(loaded.iterations).toBe(6);
      if (newRate !== undefined) expect(loaded.learningRate).toBeCloseTo(newRate, 7);
      // Loaded in the same program, the variables get new unique names; state follows them.
      expect(b.trainableWeights[0]!.name).not.toBe(a.trainableWeights[0]!.name);
      await b.fit(xs, ys, FIT);
      expectWeightsClose(weights(b), weights(a));
      expect(loaded.inactiveVariables).toEqual([]);
      expect(loaded.iterations).toBe(12);

      for (const m of [a, b]) {
        m.optimizer.dispose();
        m.dispose();
      }
      tf.dispose([xs, ys]);
    });
  }

  it('saving a transform without a spec fails with directions, and loses nothing silently', async () => {
    const { xs, ys } = data();
    const m = model();
    m.compile({
      optimizer: new TransformOptimizer(
        chain(
          adam(0.01),
          stateless((u) => u),
        ),
      ),
      loss: 'meanSquaredError',
    });
    await m.fit(xs, ys, { ...FIT, epochs: 1 });
    await expect(save(m)).rejects.toThrow(
      /has no spec, so it cannot be saved.*withSpec\(transform, name, args\).*registerTransformFactory\(name, factory\)/,
    );
    m.optimizer.dispose();
    m.dispose();
    tf.dispose([xs, ys]);
  });
});

// The program that loads imports @tfopt/layers and the package of the
// optimizer's factories (@tfopt/eg for egAdam), as a user's would.
const CHILD = (imports: string) => `
import * as tf from '@tensorflow/tfjs';
import '@tfopt/layers';
${imports}
import { readFileSync } from 'node:fs';
await tf.setBackend('cpu');
const job = JSON.parse(readFileSync(process.env.TFOPT_JOB, 'utf8'));
const bytes = Buffer.from(job.weightData, 'base64');
const artifacts = { ...job.artifacts, weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) };
const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
const xs = tf.tensor2d(job.xs, [job.xs.length / 3, 3]);
const ys = tf.tensor2d(job.ys, [job.ys.length, 1]);
const at = model.optimizer.iterations;
await model.fit(xs, ys, job.fit);
process.stdout.write(JSON.stringify({
  at,
  learningRate: model.optimizer.learningRate,
  names: model.trainableWeights.map((w) => w.name),
  weights: model.getWeights().map((w) => Array.from(w.dataSync())),
}));
`;

describe('resume in a fresh node process', () => {
  let dir = '';
  beforeAll(async () => {
    await useBackend('cpu');
    dir = mkdtempSync(join(tmpdir(), 'tfopt-resume-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('continues from the saved artifacts to the same weights', async () => {
    const { xs, ys } = data();
    const a = model();
    const optimizer = new TransformOptimizer(
      injectLearningRate(egAdam, 0.02, { scale: { scaleLearningRate: 0.05 } }),
    );
    a.compile({ optimizer, loss: 'meanSquaredError' });
    await a.fit(xs, ys, FIT);
    optimizer.learningRate = 0.01;
    const artifacts = await save(a);
    await a.fit(xs, ys, FIT);
    expect(readEgScale(optimizer.getState())[0]).not.toBe(1);

    const { weightData, ...json } = artifacts;
    const job = join(dir, 'job.json');
    writeFileSync(
      job,
      JSON.stringify({
        artifacts: json,
        weightData: Buffer.from(weightData as ArrayBuffer).toString('base64'),
        xs: Array.from(xs.dataSync()),
        ys: Array.from(ys.dataSync()),
        fit: FIT,
      }),
    );
    const { stdout } = await runChild(job, "import '@tfopt/eg';");
    const child = JSON.parse(stdout) as {
      at: number;
      learningRate: number;
      names: string[];
      weights: number[][];
    };
    expect(child.at).toBe(6);
    expect(child.learningRate).toBeCloseTo(0.01, 8);
    expect(child.names).toEqual(a.trainableWeights.map((w) => w.name));
    expectWeightsClose(child.weights, weights(a));

    // Its registration module alone (what a bundle imports) is enough too.
    const registered = await runChild(job, "import '@tfopt/eg/register';");
    expectWeightsClose(
      (JSON.parse(registered.stdout) as { weights: number[][] }).weights,
      weights(a),
    );

    // Without @tfopt/eg the loading program is told which module to import.
    const failed = await runChild(job, '').then(
      () => '',
      (error: { stderr: string }) => error.stderr,
    );
    expect(failed).toMatch(
      /no factory is registered under "egAdam"; it was saved from @tfopt\/eg: add `import '@tfopt\/eg\/register';`/,
    );
    optimizer.dispose();
    a.dispose();
    tf.dispose([xs, ys]);
  });
});

function runChild(job: string, imports: string) {
  const packageDir = fileURLToPath(new URL('..', import.meta.url));
  return promisify(execFile)(process.execPath, ['--input-type=module', '-e', CHILD(imports)], {
    cwd: packageDir,
    env: { ...process.env, TFOPT_JOB: job },
    maxBuffer: 16 * 1024 * 1024,
  });
}
