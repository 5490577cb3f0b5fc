import { describe, expect, it } from 'vitest';
import { shiftRunMetrics, summarizeEgRates, summarizeGrid, summarizeShift } from './summarize.js';
import { taskById } from './tasks.js';
import type { EvalLog, RunResult, RunSpec, StudyName } from './train.js';

const shift = { angles: [0, 90, 180], every: 40 };

function run(
  method: string,
  seed: number,
  evals: EvalLog[],
  testAcc = 0.9,
  lr = 1e-3,
  extra: Partial<RunSpec> = {},
): RunResult {
  const study: StudyName = evals.some((e) => e.phase > 0) ? 'shift' : 'grid';
  const spec: RunSpec = {
    key: `${method}/${seed}`,
    study,
    task: 'mlp',
    method,
    lr,
    seed,
    steps: 120,
    batchSize: 8,
    evalEvery: 10,
    evalSize: 10,
    logEvery: 1,
    shift,
    ...extra,
  };
  const final = { metric: testAcc, accuracy: testAcc, loss: 1 - testAcc };
  return {
    spec,
    steps: [],
    evals,
    final: { val: final, test: final },
    diverged: false,
    stepsDone: 120,
    wallMs: 1,
    evalMs: 0,
    evalItems: 0,
  };
}

/** A hand-made stream: accuracy and scale per (step, phase), evaluated every 10 steps. */
function stream(points: [number, number, number, number][]): EvalLog[] {
  return points.map(([step, phase, accuracy, scale]) => ({
    step,
    phase,
    angle: shift.angles[phase] as number,
    metric: accuracy,
    accuracy,
    loss: 0,
    lrFactor: 1,
    scale,
  }));
}

const evals = stream([
  [0, 0, 0.1, 1],
  [10, 0, 0.5, 1.1],
  [20, 0, 0.8, 1.2],
  [30, 0, 0.9, 1.2],
  [40, 0, 0.9, 1.2], // before shift 1
  [40, 1, 0.2, 1.2], // right after shift 1
  [50, 1, 0.7, 1.32],
  [60, 1, 0.85, 1.4], // 0.85 >= 0.9 * 0.9: recovered 20 steps after the shift
  [70, 1, 0.9, 1.4],
  [80, 1, 0.92, 1.4], // before shift 2
  [80, 2, 0.3, 1.4],
  [90, 2, 0.5, 1.4],
  [100, 2, 0.6, 1.4],
  [110, 2, 0.7, 1.4],
  [120, 2, 0.8, 1.4], // never reaches 0.828
]);

describe('shiftRunMetrics', () => {
  it('reads accuracy around each shift, recovery steps and the scale trend', () => {
    const m = shiftRunMetrics(run('eg-adam', 1, evals), shift, 0.9);
    expect(m.preShift.slice(1)).toEqual([0.9, 0.92]);
    expect(m.postShift.slice(1)).toEqual([0.2, 0.3]);
    expect(m.recovery).toEqual([null, 20, null]);
    expect(m.phaseMean[1]).toBeCloseTo((0.2 + 0.7 + 0.85 + 0.9 + 0.92) / 5, 12);
    // Window of 10 steps: scale 1.2 -> 1.2 before shift 1, 1.2 -> 1.32 after it.
    expect(m.scaleTrendBefore[1]).toBeCloseTo(0, 12);
    expect(m.scaleTrendAfter[1]).toBeCloseTo(0.1, 12);
    expect(m.scaleTrendAfter[2]).toBeCloseTo(0, 12);
  });

  it('summarises over seeds, counting a run that never recovers as the whole phase', () => {
    const [s] = summarizeShift([run('eg-adam', 1, evals), run('eg-adam', 2, evals)], shift, 0.9, [
      'adam',
      'eg-adam',
    ]);
    expect(s?.method.id).toBe('eg-adam');
    expect(s?.recovery[1]?.steps.mean).toBe(20);
    expect(s?.recovery[2]).toEqual({
      steps: expect.objectContaining({ mean: 40, n: 2 }),
      censored: 2,
    });
    expect(s?.meanRecovery.steps.mean).toBe(30);
    expect(s?.meanRecovery.censored).toBe(2);
  });
});

describe('summarizeGrid', () => {
  it('picks the learning rate by validation accuracy and counts grid points near the best method', () => {
    const flat = stream([[0, 0, 0.1, 1]]);
    const results = [
      run('adam', 1, flat, 0.95, 1e-3),
      run('adam', 1, flat, 0.9, 1e-2),
      run('eg-adam', 1, flat, 0.94, 1e-3),
      run('eg-adam', 1, flat, 0.94, 1e-2),
    ];
    const grids = summarizeGrid(results, taskById('mlp'), ['adam', 'eg-adam']);
    expect(grids.map((g) => [g.method.id, g.best?.lr, g.worst?.lr, g.nearBest])).toEqual([
      ['adam', 1e-3, 1e-2, 1],
      ['eg-adam', 1e-3, 1e-3, 2],
    ]);
    expect(grids[0]?.atDefault?.lr).toBe(1e-3);
  });

  it('takes a lower-is-better metric the other way round (bits per character)', () => {
    const flat = stream([[0, 0, 0.1, 1]]);
    // Validation = test here: bits/char 2.1 at 1e-3, 1.9 at 3e-3, 2.5 at 1e-2.
    const results = [
      run('adam', 1, flat, 2.1, 1e-3, { task: 'lm' }),
      run('adam', 1, flat, 1.9, 3e-3, { task: 'lm' }),
      run('adam', 1, flat, 2.5, 1e-2, { task: 'lm' }),
      run('eg-adam', 1, flat, 1.93, 1e-3, { task: 'lm' }),
    ];
    const [adam, eg] = summarizeGrid(results, taskById('lm'), ['adam', 'eg-adam']);
    expect(adam?.best?.lr).toBe(3e-3);
    expect(adam?.worst?.lr).toBe(1e-2);
    // Within 0.05 bits of the best tuned 1.9: adam's 1.9 only; eg-adam's 1.93.
    expect(adam?.nearBest).toBe(1);
    expect(eg?.nearBest).toBe(1);
  });
});

describe('summarizeEgRates', () => {
  it('pools seeds per (scale rate, gain rate) pair and picks the best pair on validation', () => {
    const flat = stream([[0, 0, 0.1, 1]]);
    const at = (scale: number, gain: number, seed: number, acc: number) =>
      run('eg-adam', seed, flat, acc, 1e-3, {
        study: 'eg-rates',
        egRates: { scaleLearningRate: scale, gainLearningRate: gain },
      });
    const summary = summarizeEgRates(
      [
        at(1e-3, 1e-2, 1, 0.9),
        at(1e-3, 1e-2, 2, 0.92),
        at(1e-1, 1e-2, 1, 0.95),
        at(1e-1, 1e-2, 2, 0.93),
      ],
      taskById('mlp'),
    );
    expect(summary?.scaleRates).toEqual([1e-3, 1e-1]);
    expect(summary?.gainRates).toEqual([1e-2]);
    expect(summary?.best?.scaleRate).toBe(1e-1);
    // (0.95 + 0.93) / 2 and (0.9 + 0.92) / 2.
    expect(summary?.best?.test.mean).toBeCloseTo(0.94, 12);
    expect(summary?.worst?.test.mean).toBeCloseTo(0.91, 12);
    expect(summary?.cells.map((c) => c.runs)).toEqual([2, 2]);
  });
});
