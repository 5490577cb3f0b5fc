import { Worker } from 'node:worker_threads';
import { type BackendName, initBackend } from './backend.js';
import { type DataConfig, prepareData, type StudyData } from './tasks.js';
import { type RunResult, type RunSpec, runOne } from './train.js';

/** A run that threw instead of finishing. */
export interface RunFailure {
  readonly spec: RunSpec;
  readonly message: string;
}

/** What the caller hears while runs proceed; `slot` numbers the worker (0-based). */
export interface PoolEvents {
  onStart?(slot: number, spec: RunSpec): void;
  onProgress?(slot: number, spec: RunSpec, stepsDone: number): void;
  onResult?(slot: number, result: RunResult): void;
  onFailure?(slot: number, failure: RunFailure): void;
}

/** Runs specs on one or more tfjs instances, each with its own copy of the data. */
export interface RunPool {
  /** The backend every slot ended up on. */
  readonly backend: BackendName;
  readonly slots: number;
  /**
   * Run `specs` (in order, `slots` at a time) until done or `signal` aborts;
   * runs cut short by an abort are dropped, finished ones are returned. Results
   * and failures come back in the order of `specs`, whatever order the runs
   * finished in, so the raw files of two runs of a study line up.
   */
  run(
    specs: readonly RunSpec[],
    events: PoolEvents,
    signal?: AbortSignal,
  ): Promise<{
    results: RunResult[];
    failures: RunFailure[];
  }>;
  close(): Promise<void>;
}

/** Messages between the pool and a worker. */
export type ToWorker = { readonly type: 'run'; readonly spec: RunSpec };
export type FromWorker =
  | { readonly type: 'ready'; readonly backend: BackendName }
  | { readonly type: 'progress'; readonly stepsDone: number }
  | { readonly type: 'result'; readonly result: RunResult }
  | { readonly type: 'failure'; readonly message: string }
  | { readonly type: 'fatal'; readonly message: string };

/** What a worker is started with. */
export interface WorkerInit {
  readonly backend: BackendName;
  readonly data: DataConfig;
}

class Aborted extends Error {}

/** `items` (each naming the spec it ran) sorted into the order of `specs`, by spec key. */
export function inSpecOrder<T extends { readonly spec: RunSpec }>(
  specs: readonly RunSpec[],
  items: readonly T[],
): T[] {
  const position = new Map(specs.map((spec, i) => [spec.key, i]));
  const at = (item: T): number => position.get(item.spec.key) ?? specs.length;
  return [...items].sort((a, b) => at(a) - at(b));
}

/**
 * A pool of `slots` workers, or the current thread when `slots` is 1 (which
 * is what tests use: no compiled worker file is needed).
 */
export async function createPool(slots: number, init: WorkerInit): Promise<RunPool> {
  return slots <= 1 ? inProcessPool(init) : workerPool(slots, init);
}

async function inProcessPool(init: WorkerInit): Promise<RunPool> {
  const backend = await initBackend(init.backend);
  const data: StudyData = prepareData(init.data);
  return {
    backend,
    slots: 1,
    async run(specs, events, signal) {
      const results: RunResult[] = [];
      const failures: RunFailure[] = [];
      for (const spec of specs) {
        if (signal?.aborted) break;
        events.onStart?.(0, spec);
        try {
          const result = await runOne(spec, data, (done) => {
            if (signal?.aborted) throw new Aborted();
            events.onProgress?.(0, spec, done);
          });
          results.push(result);
          events.onResult?.(0, result);
        } catch (e) {
          if (e instanceof Aborted) break;
          const failure = { spec, message: e instanceof Error ? e.message : String(e) };
          failures.push(failure);
          events.onFailure?.(0, failure);
        }
      }
      return { results, failures };
    },
    close: async () => {},
  };
}

async function workerPool(slots: number, init: WorkerInit): Promise<RunPool> {
  const url = new URL('./worker.js', import.meta.url);
  const workers: Worker[] = [];
  const backends = await Promise.all(
    Array.from({ length: slots }, () => {
      const worker = new Worker(url, { workerData: init });
      workers.push(worker);
      return new Promise<BackendName>((resolve, reject) => {
        const onMessage = (message: FromWorker) => {
          if (message.type === 'ready') {
            worker.off('message', onMessage);
            resolve(message.backend);
          } else if (message.type === 'fatal') reject(new Error(message.message));
        };
        worker.on('message', onMessage);
        worker.once('error', reject);
      });
    }),
  ).catch(async (e) => {
    await Promise.all(workers.map((w) => w.terminate()));
    throw e;
  });
  const backend = backends[0] as BackendName;
  if (backends.some((b) => b !== backend)) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw new Error(`workers ended up on different backends (${backends.join(', ')})`);
  }
  let alive = workers;

  return {
    backend,
    slots,
    async run(specs, events, signal) {
      const results: RunResult[] = [];
      const failures: RunFailure[] = [];
      let next = 0;
      await new Promise<void>((resolve, reject) => {
        let active = 0;
        let finished = false;
        const finish = () => {
          if (!finished) {
            finished = true;
            resolve();
          }
        };
        const onAbort = () => {
          // A run in a worker cannot be paused; stopping the workers is the only way to stop at once.
          const stopping = alive;
          alive = [];
          void Promise.all(stopping.map((w) => w.terminate())).then(finish);
        };
        if (signal?.aborted) return onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
        const dispatch = (slot: number, worker: Worker): void => {
          if (signal?.aborted || finished) return;
          const spec = specs[next++];
          if (spec === undefined) {
            if (active === 0) {
              signal?.removeEventListener('abort', onAbort);
              finish();
            }
            return;
          }
          active++;
          events.onStart?.(slot, spec);
          const onMessage = (message: FromWorker) => {
            if (message.type === 'progress') {
              events.onProgress?.(slot, spec, message.stepsDone);
              return;
            }
            worker.off('message', onMessage);
            worker.off('error', onError);
            active--;
            if (message.type === 'result') {
              results.push(message.result);
              events.onResult?.(slot, message.result);
            } else if (message.type === 'failure') {
              const failure = { spec, message: message.message };
              failures.push(failure);
              events.onFailure?.(slot, failure);
            }
            dispatch(slot, worker);
          };
          const onError = (error: Error) => {
            worker.off('message', onMessage);
            signal?.removeEventListener('abort', onAbort);
            reject(error);
          };
          worker.on('message', onMessage);
          worker.once('error', onError);
          worker.postMessage({ type: 'run', spec } satisfies ToWorker);
        };
        workers.forEach((worker, slot) => {
          dispatch(slot, worker);
        });
      });
      return { results: inSpecOrder(specs, results), failures: inSpecOrder(specs, failures) };
    },
    close: async () => {
      const stopping = alive;
      alive = [];
      await Promise.all(stopping.map((w) => w.terminate()));
    },
  };
}
