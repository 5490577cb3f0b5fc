import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
// tfjs-core alone registers no gradients; tf.grads and tf.train need them.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { beforeAll, describe } from 'vitest';

/** Backends every numerical suite runs on. */
export const BACKENDS = ['cpu', 'wasm'] as const;
export type BackendName = (typeof BACKENDS)[number];

let silenced = false;
/** Switch to `name`, silencing tfjs's one-time console banner. */
export async function useBackend(name: BackendName): Promise<void> {
  if (!silenced) {
    // tfjs prints a "use tfjs-node" banner on first use in Node; it is noise here.
    tf.env().set('IS_TEST', true);
    silenced = true;
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`backend ${name} failed to initialise`);
  await tf.ready();
}

/** `describe` once per backend, with the backend selected before the suite. */
export function describeEachBackend(title: string, body: (backend: BackendName) => void): void {
  for (const backend of BACKENDS) {
    describe(`${title} [${backend}]`, () => {
      beforeAll(async () => {
        await useBackend(backend);
      });
      body(backend);
    });
  }
}
