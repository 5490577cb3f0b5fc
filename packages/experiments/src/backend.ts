import * as tf from '@tensorflow/tfjs-core';
// The Node build of tfjs-core ships no gradient definitions; the tfjs bundle registers them.
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';

/** Backends the studies can run on. */
export const BACKENDS = ['wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

/**
 * Select `preferred`, falling back to `cpu` when it fails to initialise.
 * Returns the backend actually in use. Production mode silences the
 * "use tfjs-node" banner (tfjs-node cannot be installed here) and skips
 * debug checks.
 */
export async function initBackend(preferred: BackendName): Promise<BackendName> {
  tf.enableProdMode();
  const order: BackendName[] = preferred === 'cpu' ? ['cpu'] : [preferred, 'cpu'];
  for (const name of order) {
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return name;
      }
    } catch {
      // try the next one
    }
  }
  throw new Error(`no tfjs backend could be initialised (tried ${order.join(', ')})`);
}
