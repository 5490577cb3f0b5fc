import { describe, expect, it } from 'vitest';
import {
  findings,
  opponentKind,
  runsToMatchFree,
  tally,
  tunedMatrix,
  untunedMatrix,
  verdictSentence,
} from './findings.js';
import { methodById } from './methods.js';
import { compareStats, stats } from './metrics.js';
import type { GridCell, MethodGrid, StudySummaries, TaskGridSummary } from './summarize.js';
import { taskById } from './tasks.js';
import { tuningCost } from './tuningCost.js';

/** A cell whose seeds measured `values` on both validation and test. */
function cell(lr: number, values: number[]): GridCell {
  return {
    lr,
    runs: values.length,
    diverged: 0,
    val: stats(values),
    test: stats(values),
    testLoss: stats([0]),
  };
}

function methodGrid(id: string, task: 'mlp' | 'lm', cells: GridCell[], best: number): MethodGrid {
  const method = methodById(id);
  return {
    task: taskById(task),
    method,
    steps: 100,
    cells,
    best: cells.find((c) => c.lr === best),
    worst: undefined,
    atDefault: cells.find((c) => c.lr === method.defaultLr),
    medianTest: Number.NaN,
    nearBest: 0,
  };
}

function taskGrid(task: 'mlp' | 'lm', grids: MethodGrid[]): TaskGridSummary {
  return { task: taskById(task), grids, tuning: grids.map((g) => tuningCost(g)) };
}

describe('compareStats', () => {
  it('calls a difference within the larger seed spread a tie, and respects the direction', () => {
    const a = stats([0.9, 0.92]); // mean 0.91, std 0.01414
    const b = stats([0.895, 0.895]); // mean 0.895, std 0
    expect(compareStats(a, b, true)?.verdict).toBe('win'); // 0.015 > 0.0141
    expect(compareStats(a, b, true)?.delta).toBeCloseTo(0.015, 12);
    // Lower is better: the same numbers are a loss for a.
    expect(compareStats(a, b, false)?.verdict).toBe('loss');
    expect(compareStats(a, stats([0.9, 0.9]), true)?.verdict).toBe('tie'); // 0.01 <= 0.0141
    expect(compareStats(a, stats([]), true)).toBeUndefined();
  });
});

describe('verdict matrices and sentences', () => {
  // MLP accuracy, one seed each unless given: EG-Adam 0.95 at its default 1e-3 and 0.96 at 3e-3;
  // Adam 0.93 / 0.97; Adam + cosine 0.94 / 0.965; Prodigy (free) 0.955 at 1.
  const tg = taskGrid('mlp', [
    methodGrid('adam', 'mlp', [cell(3e-4, [0.9]), cell(1e-3, [0.93]), cell(3e-3, [0.97])], 3e-3),
    methodGrid(
      'adam-cosine',
      'mlp',
      [cell(3e-4, [0.91]), cell(1e-3, [0.94]), cell(3e-3, [0.965])],
      3e-3,
    ),
    methodGrid(
      'eg-adam',
      'mlp',
      [cell(3e-4, [0.92]), cell(1e-3, [0.95]), cell(3e-3, [0.96])],
      3e-3,
    ),
    methodGrid('eg-adam-global', 'mlp', [cell(1e-3, [0.93])], 1e-3),
    methodGrid('prodigy', 'mlp', [cell(1, [0.955])], 1),
  ]);

  it('puts EG rows in columns and every other row in the rows', () => {
    const m = untunedMatrix(tg);
    expect(m.egs.map((e) => e.id)).toEqual(['eg-adam', 'eg-adam-global']);
    expect(m.opponents.map((o) => o.id)).toEqual(['adam', 'adam-cosine', 'prodigy']);
    // Untuned EG-Adam 0.95 vs 0.93, 0.94, 0.955: win, win, loss.
    expect(m.cells.map((row) => row[0]?.verdict)).toEqual(['win', 'win', 'loss']);
    expect(m.cells[2]?.[0]?.delta).toBeCloseTo(-0.005, 12);
    expect(tally(m, 0)).toEqual({ win: 2, tie: 0, loss: 1 });
  });

  it('compares tuned rows at their best learning rates', () => {
    const m = tunedMatrix(tg);
    // Tuned EG-Adam 0.96 vs 0.97, 0.965, 0.955.
    expect(m.cells.map((row) => row[0]?.verdict)).toEqual(['loss', 'loss', 'win']);
    expect(verdictSentence(m, 0)).toBe(
      'EG-Adam (1 win, 0 ties, 2 losses): against tuned schedules it loses to Adam + warmup-cosine (−0.50); against peers it wins against Prodigy (+0.50); against constant-rate baselines it loses to Adam (−1.00).',
    );
  });

  it('groups opponents by what they are, not by name', () => {
    expect(opponentKind(methodById('sgdm-cosine'))).toBe('tuned schedule');
    expect(opponentKind(methodById('adam-hypergrad'))).toBe('constant-rate baseline');
    expect(opponentKind(methodById('sf-adamw-warmup'))).toBe('peer');
  });

  it('finds how many runs EG needs to match the best learning-rate-free single run', () => {
    const eg = tg.tuning.find((t) => t.method.id === 'eg-adam');
    // Prodigy's one run: 0.955. EG-Adam: 0.95 with 1 run (a loss), 0.96 with 3 (a win).
    const match = runsToMatchFree(eg as never, tg.tuning, tg.task.metric);
    expect(match?.reference.method.id).toBe('prodigy');
    expect(match?.runs).toBe(3);
  });

  it('writes findings for main EG rows only, with lower-is-better tasks the right way round', () => {
    // Bits per char: EG-Adam 2.0 at its default, Adam 2.1, so EG wins by 0.1.
    const lm = taskGrid('lm', [
      methodGrid('adam', 'lm', [cell(1e-3, [2.1])], 1e-3),
      methodGrid('eg-adam', 'lm', [cell(1e-3, [2.0])], 1e-3),
    ]);
    const summaries: StudySummaries = { grid: [tg, lm], egRates: undefined, long: [], shift: [] };
    const out = findings(summaries, { angles: [0, 90], every: 10, recoverFraction: 0.9 });
    const texts = out.map((f) => `${f.scope}: ${f.text}`);
    expect(texts.some((t) => t.includes('EG-Adam (global scale only) ('))).toBe(false);
    expect(texts).toContain(
      'Moby Dick char-LM, no tuning: EG-Adam (1 win, 0 ties, 0 losses): against constant-rate baselines it wins against Adam (+0.100).',
    );
    expect(texts.find((t) => t.startsWith('MNIST MLP, tuning cost: EG-Adam ties or beats'))).toBe(
      "MNIST MLP, tuning cost: EG-Adam ties or beats the best learning-rate-free method's single run (Prodigy, 95.50) with 3 runs.",
    );
  });
});
