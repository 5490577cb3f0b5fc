/**
 * Per-step cost of tfopt optimizers against tf.train's own on tf.Variables,
 * measured in the same process on each backend and reported as ratios.
 *
 * Gradients are fixed tensors so only the optimizer step is timed. Each
 * measurement is the median of several timed blocks after a warm-up.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { type GradientTransformation, stepVariables, treeDispose } from '@tfopt/core';
import { egAdam, egSgdm } from '@tfopt/eg';
import { adam, sgd } from '@tfopt/transforms';

interface Args {
  backends: string[];
  steps: number;
  blocks: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { backends: ['cpu', 'wasm'], steps: 50, blocks: 5 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--help') {
      console.log('usage: npm run bench -- [--backends cpu,wasm] [--steps 50] [--blocks 5]');
      process.exit(0);
    }
    if (value === undefined) throw new Error(`${flag}: missing value`);
    if (flag === '--backends') args.backends = value.split(',');
    else if (flag === '--steps') args.steps = Number(value);
    else if (flag === '--blocks') args.blocks = Number(value);
    else throw new Error(`unknown flag ${flag}; see --help`);
    i++;
  }
  if (!(args.steps >= 1 && args.blocks >= 1)) throw new Error('--steps and --blocks must be >= 1');
  return args;
}

/** Shapes of an MNIST MLP (784-256-10), the size the experiments train. */
const SHAPES: Record<string, number[]> = {
  'dense1/kernel': [784, 256],
  'dense1/bias': [256],
  'dense2/kernel': [256, 10],
  'dense2/bias': [10],
};

interface Setup {
  vars: Record<string, tf.Variable>;
  grads: Record<string, tf.Tensor>;
}

function setup(): Setup {
  const vars: Record<string, tf.Variable> = {};
  const grads: Record<string, tf.Tensor> = {};
  let seed = 1;
  for (const [name, shape] of Object.entries(SHAPES)) {
    vars[name] = tf.variable(
      tf.randomNormal(shape, 0, 0.05, 'float32', seed++),
      true,
      `${name}-${Math.random()}`,
    );
    grads[name] = tf.randomNormal(shape, 0, 0.01, 'float32', seed++);
  }
  return { vars, grads };
}

interface Measurement {
  msPerStep: number;
  stateTensors: number;
  stateBytes: number;
  leakedTensors: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Time `stepFn` in blocks; `sync` forces pending work to finish. */
function measure(
  label: string,
  make: (s: Setup) => { stepFn: () => void; dispose: () => void },
  args: Args,
): Measurement {
  const s = setup();
  const before = tf.memory();
  const { stepFn, dispose } = make(s);
  const sync = () => s.vars['dense2/bias']!.dataSync();
  for (let i = 0; i < 5; i++) stepFn();
  sync();
  const afterWarmup = tf.memory();
  const times: number[] = [];
  for (let b = 0; b < args.blocks; b++) {
    const t0 = performance.now();
    for (let i = 0; i < args.steps; i++) stepFn();
    sync();
    times.push((performance.now() - t0) / args.steps);
  }
  const after = tf.memory();
  const result: Measurement = {
    msPerStep: median(times),
    stateTensors: afterWarmup.numTensors - before.numTensors,
    stateBytes: afterWarmup.numBytes - before.numBytes,
    leakedTensors: after.numTensors - afterWarmup.numTensors,
  };
  dispose();
  treeDispose([s.vars, s.grads]);
  if (result.leakedTensors !== 0)
    console.error(`warning: ${label} leaked ${result.leakedTensors} tensors`);
  return result;
}

function trainRef(optimizer: tf.Optimizer) {
  return (s: Setup) => ({
    stepFn: () =>
      optimizer.applyGradients(
        Object.fromEntries(Object.entries(s.grads).map(([k, g]) => [s.vars[k]!.name, g])),
      ),
    dispose: () => optimizer.dispose(),
  });
}

function tfopt(tx: GradientTransformation<any>) {
  return (s: Setup) => {
    let state = tx.init(s.vars);
    return {
      stepFn: () => {
        state = stepVariables(tx, s.vars, s.grads, state);
      },
      dispose: () => treeDispose(state),
    };
  };
}

interface Row {
  backend: string;
  name: string;
  reference: string;
  m: Measurement;
  ratio: number;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  tf.env().set('IS_TEST', true); // silences the "use tfjs-node" banner
  const rows: Row[] = [];
  for (const backend of args.backends) {
    if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} is not available`);
    await tf.ready();
    const lr = 1e-3;
    const refAdam = measure('tf.train.adam', trainRef(tf.train.adam(lr, 0.9, 0.999, 1e-7)), args);
    const refMomentum = measure('tf.train.momentum', trainRef(tf.train.momentum(lr, 0.9)), args);
    const cases: [
      string,
      string,
      Measurement,
      (s: Setup) => { stepFn: () => void; dispose: () => void },
    ][] = [
      ['adam', 'tf.train.adam', refAdam, tfopt(adam(lr, { eps: 1e-7 }))],
      ['egAdam', 'tf.train.adam', refAdam, tfopt(egAdam(lr, { eps: 1e-7 }))],
      ['sgd (momentum 0.9)', 'tf.train.momentum', refMomentum, tfopt(sgd(lr, { momentum: 0.9 }))],
      ['egSgdm', 'tf.train.momentum', refMomentum, tfopt(egSgdm(lr, { momentum: 0.9 }))],
    ];
    rows.push({ backend, name: 'tf.train.adam', reference: '-', m: refAdam, ratio: 1 });
    rows.push({ backend, name: 'tf.train.momentum', reference: '-', m: refMomentum, ratio: 1 });
    for (const [name, refName, ref, make] of cases) {
      const m = measure(name, make, args);
      rows.push({ backend, name, reference: refName, m, ratio: m.msPerStep / ref.msPerStep });
    }
  }
  const header =
    '| backend | optimizer | ms/step | ratio vs reference | reference | state tensors | state MB | leaked |';
  const lines = [header, '|---|---|---:|---:|---|---:|---:|---:|'];
  for (const r of rows) {
    lines.push(
      `| ${r.backend} | ${r.name} | ${r.m.msPerStep.toFixed(3)} | ${r.reference === '-' ? '1.00' : r.ratio.toFixed(2)} | ${r.reference} | ${r.m.stateTensors} | ${(r.m.stateBytes / 2 ** 20).toFixed(2)} | ${r.m.leakedTensors} |`,
    );
  }
  console.log(
    `MLP 784-256-10 (${Object.values(SHAPES).reduce((s, sh) => s + sh.reduce((a, b) => a * b, 1), 0)} parameters), ${args.blocks} blocks x ${args.steps} steps, median\n`,
  );
  console.log(lines.join('\n'));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
