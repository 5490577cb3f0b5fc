// The playground page: wires the form to a trainer (train.js) and redraws the three charts
// (plot.js) after every few steps. `window.__playground` exposes the run for the docs check.
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { drawChart, formatNumber } from './plot.js';
import { checkRate, createTrainer } from './train.js';

// The bundler gives the wasm binaries hashed names; tell the backend where they are.
setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
});

/** Steps between two redraws. */
const STEPS_PER_FRAME = 5;

const $ = (id) => document.getElementById(id);
const form = $('controls');
const inputs = {
  backend: $('backend'),
  learningRate: $('learning-rate'),
  scaleRate: $('scale-rate'),
  maxSteps: $('max-steps'),
};
const buttons = { start: $('start'), stop: $('stop'), reset: $('reset') };
const status = $('status');

let trainer;
/** The latest restart, awaited by the docs check before it drives the form. */
let restarting = Promise.resolve();
let running = false;
/** Bumped by every restart, so that a loop of an older trainer stops by itself. */
let generation = 0;

function setStatus(text, { error = false } = {}) {
  status.textContent = text;
  status.classList.toggle('error', error);
}

function announce(text) {
  $('announce').textContent = text;
}

function readRate(input, name) {
  return checkRate(name, input.valueAsNumber);
}

function readMaxSteps() {
  const n = inputs.maxSteps.valueAsNumber;
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(
      `Stop after must be a whole number of steps of at least 1, got ${inputs.maxSteps.value || 'nothing'}`,
    );
  }
  return n;
}

function setRunning(value) {
  running = value;
  buttons.start.disabled = value;
  buttons.stop.disabled = !value;
}

function describe() {
  const { losses, scales } = trainer;
  if (losses.length === 0) {
    return `Ready on the ${tf.getBackend()} backend: press Start to train.`;
  }
  return (
    `Step ${losses.length} on ${tf.getBackend()}: loss ${formatNumber(losses.at(-1))} ` +
    `(first step ${formatNumber(losses[0])}), EG scale ${scales.at(-1).toFixed(4)}, ` +
    `learning rate ${formatNumber(trainer.learningRate)}.`
  );
}

function draw() {
  const { losses, scales } = trainer;
  drawChart($('loss-chart'), [{ className: 'loss', points: losses.map((l, i) => [i, l]) }], {
    xLabel: 'step',
    yLabel: 'loss',
    logY: true,
  });
  drawChart($('scale-chart'), [{ className: 'scale', points: scales.map((s, i) => [i, s]) }], {
    xLabel: 'step',
    yLabel: 'scale',
  });
  const { x, y, fit } = trainer.curves();
  const xs = Array.from(x);
  drawChart(
    $('fit-chart'),
    [
      { className: 'data', dots: true, points: xs.map((v, i) => [v, y[i]]) },
      { className: 'fit', points: xs.map((v, i) => [v, fit[i]]) },
    ],
    { xLabel: 'x', yLabel: 'y' },
  );
  setStatus(describe());
}

/** A fresh trainer on the selected backend, from the initial weights. */
function restart() {
  restarting = freshTrainer();
  return restarting;
}

async function freshTrainer() {
  setRunning(false);
  generation++;
  trainer?.dispose();
  trainer = undefined;
  try {
    const learningRate = readRate(inputs.learningRate, 'Learning rate');
    const scaleLearningRate = readRate(inputs.scaleRate, 'Scale learning rate');
    const wanted = inputs.backend.value;
    const offered = await tf.setBackend(wanted).catch(() => false);
    if (!offered) {
      inputs.backend.value = 'cpu';
      await tf.setBackend('cpu');
    }
    trainer = createTrainer({ learningRate, scaleLearningRate });
    draw();
    if (!offered) {
      setStatus(`The ${wanted} backend is not available in this browser; using cpu instead.`, {
        error: true,
      });
    }
  } catch (e) {
    setStatus(String(e?.message ?? e), { error: true });
  }
}

function nextFrame() {
  return new Promise((resolve) => requestAnimationFrame(() => resolve()));
}

async function start() {
  let maxSteps;
  try {
    maxSteps = readMaxSteps();
    if (trainer === undefined || trainer.losses.length >= maxSteps) await restart();
    if (trainer === undefined) return;
    trainer.setLearningRate(readRate(inputs.learningRate, 'Learning rate'));
  } catch (e) {
    setStatus(String(e?.message ?? e), { error: true });
    return;
  }
  const mine = ++generation;
  setRunning(true);
  announce('Training started.');
  try {
    while (running && mine === generation && trainer.losses.length < maxSteps) {
      trainer.step(Math.min(STEPS_PER_FRAME, maxSteps - trainer.losses.length));
      draw();
      await nextFrame();
    }
  } catch (e) {
    setStatus(`Training failed: ${e?.message ?? e}`, { error: true });
  }
  if (mine !== generation) return;
  setRunning(false);
  const { losses } = trainer;
  announce(
    `Stopped after ${losses.length} steps: loss ${formatNumber(losses[0])} at the first step, ${formatNumber(losses.at(-1))} at the last.`,
  );
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  start();
});
buttons.stop.addEventListener('click', () => setRunning(false));
buttons.reset.addEventListener('click', () => restart());
inputs.backend.addEventListener('change', () => restart());
inputs.scaleRate.addEventListener('change', () => restart());
inputs.learningRate.addEventListener('change', () => {
  if (trainer === undefined) return;
  try {
    trainer.setLearningRate(readRate(inputs.learningRate, 'Learning rate'));
    if (!running) setStatus(describe());
  } catch (e) {
    setStatus(String(e?.message ?? e), { error: true });
  }
});

// Inside a frame (the guide embeds the page), offer the page on its own.
if (window.self !== window.top) $('full-page').hidden = false;

restart();
window.__playground = {
  /** Resolves when the trainer of the latest restart (first load, Reset, backend) is ready. */
  get ready() {
    return restarting;
  },
  /** The run so far, as plain data. */
  snapshot: () => ({
    backend: tf.getBackend(),
    running,
    steps: trainer?.losses.length ?? 0,
    losses: [...(trainer?.losses ?? [])],
    scales: [...(trainer?.scales ?? [])],
    learningRate: trainer?.learningRate,
    tensors: tf.memory().numTensors,
  }),
};
