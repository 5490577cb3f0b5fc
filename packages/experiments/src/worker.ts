import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from './backend.js';
import type { FromWorker, ToWorker, WorkerInit } from './pool.js';
import { prepareData } from './tasks.js';
import { runOne } from './train.js';

// One tfjs instance per worker thread: runs execute one at a time, each in full.
const port = parentPort;
if (port === null) throw new Error('worker.js must be started as a worker thread');
const init = workerData as WorkerInit;
const send = (message: FromWorker) => port.postMessage(message);

try {
  const backend = await initBackend(init.backend);
  const data = prepareData(init.data);
  port.on('message', (message: ToWorker) => {
    runOne(message.spec, data, (stepsDone) => send({ type: 'progress', stepsDone }))
      .then((result) => send({ type: 'result', result }))
      .catch((e: unknown) =>
        send({ type: 'failure', message: e instanceof Error ? e.message : String(e) }),
      );
  });
  send({ type: 'ready', backend });
} catch (e) {
  send({ type: 'fatal', message: e instanceof Error ? e.message : String(e) });
}
