// Internal: running one fused step on the cpu or wasm backend's buffers. Not exported from the package.
import * as tf from '@tensorflow/tfjs-core';
import { injectionOf } from './chainLinks.js';
import { TfoptError } from './errors.js';
import type { FusedConstants, FusedLeaf, FusedPrepared } from './fused.js';
import {
  compileFused,
  type Generated,
  type Link,
  passFunction,
  type StateShape,
  type Variant,
} from './fusedCompile.js';
import { compileWasm, type WasmPass } from './fusedWasm.js';
import type { GradientTransformation, UpdateContext } from './transform.js';
import {
  assertSameStructure,
  collectTensors,
  isPlainRecord,
  type Tree,
  treeFlatten,
  treeMap,
} from './tree.js';

interface Memory {
  /** Resolve where a tensor's data lives (may move it to this backend); a reason when it cannot. */
  locate(t: tf.Tensor): string | undefined;
  /** The float32 view of a located tensor; valid until the next allocation. */
  view(t: tf.Tensor): Float32Array;
  /** A new float32 buffer of `shape`. */
  allocate(shape: readonly number[]): Output;
  /**
   * wasm only: an output that writes into `t`'s own buffer (the caller has
   * checked that nothing else refers to it), ending as `t` itself (`keep`)
   * or as a new handle on its data.
   */
  reuse?(t: tf.Tensor, keep: boolean): Output;
  /** wasm only: `pass` compiled to WebAssembly SIMD over the heap, when it compiles. */
  simd?(pass: Generated, sums: number): WasmPass | undefined;
}

interface Output {
  /** The buffer's view; valid until the next allocation. */
  view(): Float32Array;
  /** The tensor holding the buffer. */
  finish(): tf.Tensor;
  /** Free what `allocate` made (after a failure). */
  discard(): void;
}

interface CpuBackend {
  data: { get(dataId: object): { values?: unknown } | undefined };
}

interface WasmBackend {
  dataIdMap: {
    get(dataId: object): { id: number; memoryOffset?: number | null; dtype?: string } | undefined;
  };
  dataIdNextNumber: number;
  wasm: {
    HEAPU8: Uint8Array;
    asm?: { memory?: unknown };
    tfjs: {
      registerTensor(id: number, size: number, offset: number): void;
      disposeData(id: number): void;
    };
  };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

// On cpu the fused step never writes into an existing buffer: tfjs's cpu backend hands its
// buffers out (dataSync returns the buffer itself; a contiguous slice is a view of it), so a
// write in place could change an array or tensor the caller holds.
function cpuMemory(backend: tf.KernelBackend): Memory {
  const b = backend as unknown as CpuBackend;
  const views = new Map<tf.Tensor, Float32Array>();
  return {
    locate(t) {
      const values = b.data?.get(t.dataId)?.values;
      if (!(values instanceof Float32Array) || values.length !== t.size) {
        return 'a tensor of the step is not a float32 buffer of the cpu backend';
      }
      views.set(t, values);
      return undefined;
    },
    view: (t) => views.get(t) as Float32Array,
    allocate(shape) {
      const values = new Float32Array(sizeOf(shape));
      let tensor: tf.Tensor | undefined;
      return {
        view: () => values,
        finish: () => {
          tensor ??= tf.engine().makeTensor(values, [...shape], 'float32', backend);
          return tensor;
        },
        discard: () => tensor?.dispose(),
      };
    },
  };
}

// On wasm a tensor's data is reachable only through the heap (reads copy), so a buffer that
// one handle alone refers to may be rewritten in place. XNNPACK caches packed weights by the
// tensor's id, so a rewritten buffer is registered again under a new id.
function wasmMemory(backend: tf.KernelBackend): Memory {
  const b = backend as unknown as WasmBackend;
  const offsets = new Map<tf.Tensor, number>();
  const heap = () => b.wasm.HEAPU8.buffer;
  const viewAt = (offset: number, size: number) => new Float32Array(heap(), offset, size);
  return {
    locate(t) {
      const entry = b.dataIdMap?.get(t.dataId);
      const offset = entry?.memoryOffset;
      if (typeof offset !== 'number' || entry?.dtype !== 'float32') {
        return 'a tensor of the step is not a float32 buffer of the wasm backend';
      }
      offsets.set(t, offset);
      return undefined;
    },
    view: (t) => viewAt(offsets.get(t) as number, t.size),
    allocate(shape) {
      const info = b.makeOutput([...shape], 'float32');
      const tensor = tf.engine().makeTensorFromTensorInfo(info, backend);
      const offset = b.dataIdMap.get(info.dataId)?.memoryOffset as number;
      const size = sizeOf(shape);
      return {
        view: () => viewAt(offset, size),
        finish: () => tensor,
        discard: () => tensor.dispose(),
      };
    },
    simd(pass, sums) {
      const heapMemory = b.wasm.asm?.memory;
      if (!(heapMemory instanceof WebAssembly.Memory) || heapMemory.buffer !== heap()) {
        return undefined;
      }
      return wasmPassFor(heapMemory, pass, sums);
    },
    reuse(t, keep) {
      const offset = offsets.get(t) as number;
      let handle: tf.Tensor | undefined;
      let rekeyed = false;
      return {
        view: () => viewAt(offset, t.size),
        finish: () => {
          if (!rekeyed) {
            const entry = b.dataIdMap.get(t.dataId) as { id: number };
            b.wasm.tfjs.disposeData(entry.id);
            entry.id = b.dataIdNextNumber++;
            b.wasm.tfjs.registerTensor(entry.id, t.size, offset);
            rekeyed = true;
          }
          if (keep) return t;
          handle ??= share(t);
          return handle;
        },
        discard: () => handle?.dispose(),
      };
    },
  };
}

const compiledPasses = new WeakMap<WebAssembly.Memory, Map<string, WasmPass | null>>();

/** `pass` compiled for `memory`, once per memory and code. */
function wasmPassFor(
  memory: WebAssembly.Memory,
  pass: Generated,
  sums: number,
): WasmPass | undefined {
  let byCode = compiledPasses.get(memory);
  if (byCode === undefined) {
    byCode = new Map();
    compiledPasses.set(memory, byCode);
  }
  const key = `${sums}|${pass.arrays.join(',')}|${pass.constants.join(',')}|${pass.loop}`;
  let compiled = byCode.get(key);
  if (compiled === undefined) {
    compiled = compileWasm(pass.loop, pass.arrays, pass.constants, sums, memory) ?? null;
    byCode.set(key, compiled);
  }
  return compiled ?? undefined;
}

/**
 * Run `pass` over the `n` elements of one leaf bound in `arrays`: the
 * WebAssembly SIMD form over the first multiple of 4 when there is one, the
 * JavaScript form over the rest. Returns the pass's result (0, or 1 when
 * checkFinite found a bad update) and adds a reduction's sums into `sums`.
 */
function runPass(
  pass: Generated,
  compiled: WasmPass | undefined,
  n: number,
  arrays: Float32Array[],
  constants: Float64Array,
  sums: Float64Array,
): number {
  const vectorised = compiled === undefined ? 0 : n - (n % 4);
  if (vectorised > 0 && compiled !== undefined) {
    const out = compiled.run(
      vectorised,
      pass.arrays.map((a) => (arrays[a] as Float32Array).byteOffset),
      pass.constants.map((c) => constants[c] as number),
    );
    if (sums.length === 0) {
      if (out[0] !== 0) return out[0] as number;
    } else {
      out.forEach((v, k) => {
        sums[k] = (sums[k] as number) + v;
      });
    }
  }
  if (vectorised === n) return 0;
  const rest = vectorised === 0 ? arrays : arrays.slice();
  if (vectorised > 0) {
    for (const a of pass.arrays) rest[a] = (arrays[a] as Float32Array).subarray(vectorised);
  }
  const tail = new Float64Array(sums.length);
  const result = pass.fn(n - vectorised, rest, constants, tail);
  tail.forEach((v, k) => {
    sums[k] = (sums[k] as number) + v;
  });
  return result;
}

function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function memoryOf(name: string): Memory | undefined {
  const backend = tf.backend();
  if (name === 'cpu') return cpuMemory(backend);
  if (name === 'wasm') return wasmMemory(backend);
  return undefined;
}

/** What a fused step produced. */
export interface FusedOutcome {
  /** The new state (owned by the caller). */
  readonly state: unknown;
  /** The new params (`tensors` mode only; owned by the caller). */
  readonly params?: Tree;
}

/** The state record at `path` of a chain state checked against `shape`, or a reason. */
function checkShape(state: unknown, shape: StateShape, at: string): string | undefined {
  if (typeof shape === 'number') return undefined;
  if (!Array.isArray(state) || state.length !== shape.length) {
    return `state${at} is not a tuple of ${shape.length} link states`;
  }
  for (let i = 0; i < shape.length; i++) {
    const bad = checkShape(state[i], shape[i] as StateShape, `${at}[${i}]`);
    if (bad !== undefined) return bad;
  }
  return undefined;
}

function recordAt(state: unknown, path: readonly number[]): unknown {
  let node = state;
  for (const i of path) node = (node as unknown[])[i];
  return node;
}

function pathText(path: readonly number[]): string {
  return path.map((i) => `[${i}]`).join('');
}

/**
 * One fused step, or a string saying why it cannot run fused
 * (before anything was changed). The caller has checked the variables and
 * that `grads` matches `params`. `variables`: assign the new values to the
 * variables of `params`; else return new params.
 */
export function runFusedStep(
  transform: GradientTransformation<unknown>,
  params: Tree,
  grads: Tree,
  state: unknown,
  context: UpdateContext | undefined,
  variables: boolean,
  checkFinite: boolean,
): FusedOutcome | string {
  const backendName = tf.getBackend();
  const memory = memoryOf(backendName);
  if (memory === undefined) return `the ${backendName} backend has no fused path (cpu and wasm do)`;
  const injection = injectionOf(transform);
  if (injection !== undefined) {
    // injectHyperparams: the inner transform of this update, on the inner state.
    const { values, inner } = injection.forState(state);
    const { count, inner: innerState } = state as { count: number; inner: unknown };
    const out = runFusedStep(inner, params, grads, innerState, context, variables, checkFinite);
    if (typeof out === 'string') return out;
    return { ...out, state: { hyperparams: values, count: count + 1, inner: out.state } };
  }
  const program = compileFused(transform);
  if (typeof program === 'string') return program;

  const pLeaves = treeFlatten(params, '', 'params');
  const gLeaves = treeFlatten(grads, '', 'grads');
  for (const leaf of pLeaves) {
    if (leaf.tensor.dtype !== 'float32') {
      return `params${leaf.path} is ${leaf.tensor.dtype}; the fused path handles float32`;
    }
  }
  const raw = program.readsGradient ? context?.grads : undefined;
  const rawDistinct = raw !== undefined && raw !== grads;
  let rLeaves = gLeaves;
  if (rawDistinct) {
    try {
      assertSameStructure(grads, raw as Tree, ['grads', 'context.grads'], { dtype: true });
    } catch (e) {
      return `context.grads does not match the gradients (${(e as Error).message})`;
    }
    rLeaves = treeFlatten(raw as Tree, '', 'context.grads');
  }

  const badShape = checkShape(state, program.shape, '');
  if (badShape !== undefined) return badShape;
  const records = program.links.map((link) => recordAt(state, link.path));
  const slotLeaves: tf.Tensor[][][] = [];
  for (let j = 0; j < program.links.length; j++) {
    const link = program.links[j] as Link;
    const record = records[j];
    const perSlot: tf.Tensor[][] = [];
    if (link.slots.length > 0 && !isPlainRecord(record)) {
      return `state${pathText(link.path)} (${link.name}) is not a state record`;
    }
    for (const slot of link.slots) {
      const where = `state${pathText(link.path)}.${slot}`;
      const tree = (record as Record<string, unknown>)[slot];
      let leaves: ReturnType<typeof treeFlatten>;
      try {
        leaves = treeFlatten(tree as Tree, '', where);
      } catch (e) {
        return (e as Error).message;
      }
      if (leaves.length !== gLeaves.length) return `${where} does not have the params' layout`;
      for (let i = 0; i < leaves.length; i++) {
        const s = leaves[i] as { path: string; tensor: tf.Tensor };
        const g = gLeaves[i] as { path: string; tensor: tf.Tensor };
        if (s.path !== g.path || !sameShape(s.tensor.shape, g.tensor.shape)) {
          return `${where} does not have the params' layout (at ${s.path || g.path || '(root)'})`;
        }
        if (s.tensor.dtype !== 'float32') return `${where}${s.path} is ${s.tensor.dtype}`;
      }
      perSlot.push(leaves.map((l) => l.tensor));
    }
    slotLeaves.push(perSlot);
  }

  // Every input buffer, located before anything is allocated.
  const inputs: tf.Tensor[] = [
    ...pLeaves.map((l) => l.tensor),
    ...gLeaves.map((l) => l.tensor),
    ...(rawDistinct ? rLeaves.map((l) => l.tensor) : []),
    ...slotLeaves.flat(2),
  ];
  for (const t of inputs) {
    const bad = memory.locate(t);
    if (bad !== undefined) return bad;
  }

  const variant: Variant = { checkFinite, rawDistinct };
  const main = passFunction(program, undefined, variant);
  if (typeof main === 'string') return main;
  const stageFns: Generated[] = [];
  for (let s = 0; s < program.stages.length; s++) {
    const fn = passFunction(program, s, variant);
    if (typeof fn === 'string') return fn;
    stageFns.push(fn);
  }

  const leafInfo: FusedLeaf[] = pLeaves.map((l) => ({
    path: l.path,
    shape: l.tensor.shape,
    size: l.tensor.size,
  }));
  const scalar = (t: tf.Tensor): number => t.dataSync()[0] as number;
  const prepared: FusedPrepared[] = [];
  for (let j = 0; j < program.links.length; j++) {
    const link = program.links[j] as Link;
    const p = link.fused.prepare({ state: records[j], leaves: leafInfo, params, scalar });
    if (typeof p === 'string') return `state${pathText(link.path)} (${link.name}): ${p}`;
    prepared.push(p);
  }

  // From here on the step runs fused; nothing has been changed yet.
  const values = new Float64Array(program.constants.size);
  const given = new Set<number>();
  const leafValues: [number, number][][] = leafInfo.map(() => []);
  const provide = (j: number, numbers: FusedConstants): void => {
    for (const [name, v] of Object.entries(numbers.constants ?? {})) {
      const at = program.constants.get(`${j}:${name}`);
      if (at === undefined) continue;
      values[at] = v;
      given.add(at);
    }
    numbers.leafConstants?.forEach((record, leaf) => {
      for (const [name, v] of Object.entries(record)) {
        const at = program.constants.get(`${j}:${name}`);
        if (at !== undefined) leafValues[leaf]?.push([at, v]);
      }
    });
  };
  prepared.forEach((p, j) => {
    provide(j, p);
  });
  /** The numbers of one leaf for `pass`; throws when a link left one out. */
  const constantsOf = (leaf: number, pass: Generated): Float64Array => {
    const k = values.slice();
    const own = new Set<number>();
    for (const [at, v] of leafValues[leaf] as [number, number][]) {
      k[at] = v;
      own.add(at);
    }
    for (const at of pass.constants) {
      if (given.has(at) || own.has(at)) continue;
      const key = [...program.constants].find(([, i]) => i === at)?.[0] ?? String(at);
      const [j, name] = key.split(':') as [string, string];
      throw new TfoptError(
        `fused: "${program.links[Number(j)]?.name}" did not provide its number "${name}"`,
      );
    }
    return k;
  };
  const arrays: Float32Array[] = new Array(program.arrays.size + 4);
  const tensorOf = (leaves: readonly { tensor: tf.Tensor }[], i: number): tf.Tensor =>
    (leaves[i] as { tensor: tf.Tensor }).tensor;
  const bindInputs = (leaf: number): void => {
    arrays[0] = memory.view(tensorOf(gLeaves, leaf));
    arrays[1] = rawDistinct ? memory.view(tensorOf(rLeaves, leaf)) : (arrays[0] as Float32Array);
    arrays[2] = memory.view(tensorOf(pLeaves, leaf));
    program.links.forEach((link, j) => {
      link.slots.forEach((slot, k) => {
        const t = (slotLeaves[j] as tf.Tensor[][])[k]?.[leaf] as tf.Tensor;
        arrays[program.arrays.get(`${j}:in:${slot}`) as number] = memory.view(t);
      });
    });
  };

  // Reduction passes: read-only.
  program.stages.forEach((stage, s) => {
    const pass = stageFns[s] as Generated;
    const compiled = memory.simd?.(pass, pass.terms.length);
    const perLeaf: Float64Array[] = leafInfo.map((leaf, i) => {
      const sums = new Float64Array(pass.terms.length);
      if (leaf.size === 0) return sums;
      bindInputs(i);
      runPass(pass, compiled, leaf.size, arrays, constantsOf(i, pass), sums);
      return sums;
    });
    for (const j of stage.reducers) {
      const after = prepared[j]?.afterSums;
      if (after === undefined) continue;
      const mine = pass.terms.flatMap((key, k) => {
        const [link, name] = key.split(':') as [string, string];
        return Number(link) === j ? [[name, k] as const] : [];
      });
      const leafSums = perLeaf.map((sums) =>
        Object.fromEntries(mine.map(([name, k]) => [name, sums[k] as number])),
      );
      const total: Record<string, number> = {};
      for (const [name] of mine) total[name] = 0;
      for (const sums of leafSums) {
        for (const [name] of mine) total[name] = (total[name] as number) + (sums[name] as number);
      }
      provide(j, after({ total, perLeaf: leafSums }));
    }
  });

  // Buffers nothing else refers to are rewritten in place where the backend allows it (wasm),
  // except with checkFinite, where a failed check must leave every input as it was.
  const refs = new Map<object, number>();
  for (const t of [...inputs, ...collectTensors(context)]) {
    refs.set(t.dataId, (refs.get(t.dataId) ?? 0) + 1);
  }
  const backend = tf.backend();
  const inPlace = (t: tf.Tensor): boolean =>
    memory.reuse !== undefined &&
    !checkFinite &&
    refs.get(t.dataId) === 1 &&
    backend.refCount(t.dataId) === 1;
  const created: Output[] = [];
  /** The output replacing `input`: its own buffer when allowed (`inPlace`), else a new one. */
  const output = (input: tf.Tensor, keep: boolean, allowInPlace = true): Output => {
    const out =
      allowInPlace && inPlace(input) && memory.reuse !== undefined
        ? memory.reuse(input, keep)
        : memory.allocate(input.shape);
    created.push(out);
    return out;
  };
  const leafK = leafInfo.map((_, i) => constantsOf(i, main));
  try {
    // Parameters are rewritten in place only when they are variables (step returns new ones).
    const outParams = pLeaves.map((l) => output(l.tensor, true, variables));
    const outSlots = new Map<string, Output[]>();
    program.links.forEach((link, j) => {
      const written = [...link.writes];
      const own = link.fused.slotIsUpdate;
      if (own !== undefined && link.shares === undefined) written.push(own);
      for (const slot of written) {
        const k = link.slots.indexOf(slot);
        const olds = (slotLeaves[j] as tf.Tensor[][])[k] as tf.Tensor[];
        outSlots.set(
          `${j}:${slot}`,
          olds.map((t) => output(t, false)),
        );
      }
    });
    const outIndex = [...outSlots.keys()].map((key) => {
      const [j, slot] = key.split(':') as [string, string];
      return program.arrays.get(`${j}:out:${slot}`) as number;
    });
    const outLists = [...outSlots.values()];
    const noSums = new Float64Array(0);
    const compiled = memory.simd?.(main, 0);
    for (let i = 0; i < leafInfo.length; i++) {
      const n = (leafInfo[i] as FusedLeaf).size;
      if (n === 0) continue;
      bindInputs(i);
      arrays[3] = (outParams[i] as Output).view();
      outLists.forEach((outs, k) => {
        arrays[outIndex[k] as number] = (outs[i] as Output).view();
      });
      if (runPass(main, compiled, n, arrays, leafK[i] as Float64Array, noSums) !== 0) {
        const path = (pLeaves[i] as { path: string }).path;
        throw new TfoptError(`updates${path} contains NaN or Infinity; the step was not applied`);
      }
    }

    // Commit: tensors of the new buffers, the new state, then the parameters.
    const newParams = outParams.map((o) => o.finish());
    const slotTensors = new Map<string, tf.Tensor[]>();
    for (const [key, outs] of outSlots) {
      slotTensors.set(
        key,
        outs.map((o) => o.finish()),
      );
    }
    const like = (tree: Tree, leaves: readonly tf.Tensor[]): Tree => {
      let k = 0;
      return treeMap(() => leaves[k++] as tf.Tensor, tree);
    };
    // Records may create tensors (new scalars); a throw there must leave none behind.
    const nextState = tf.tidy(() => {
      const nextRecords = program.links.map((link, j) => {
        const record = records[j] as Record<string, Tree>;
        const slots: Record<string, Tree> = {};
        for (const slot of link.slots) slots[slot] = record[slot] as Tree;
        for (const slot of link.writes) {
          slots[slot] = like(grads, slotTensors.get(`${j}:${slot}`) as tf.Tensor[]);
        }
        const own = link.fused.slotIsUpdate;
        if (own !== undefined) {
          const from =
            link.shares === undefined
              ? (slotTensors.get(`${j}:${own}`) as tf.Tensor[])
              : (slotTensors.get(`${link.shares.link}:${link.shares.slot}`) as tf.Tensor[]).map(
                  share,
                );
          slots[own] = like(grads, from);
        }
        return (prepared[j] as FusedPrepared).next(slots);
      });
      const assemble = (shape: StateShape): unknown =>
        typeof shape === 'number' ? nextRecords[shape] : shape.map(assemble);
      return assemble(program.shape) as tf.TensorContainer;
    }) as unknown;
    if (variables) {
      pLeaves.forEach((leaf, i) => {
        const next = newParams[i] as tf.Tensor;
        if (next === leaf.tensor) return; // rewritten in place
        (leaf.tensor as tf.Variable).assign(next);
        next.dispose();
      });
      return { state: nextState };
    }
    return { state: nextState, params: like(params, newParams) };
  } catch (e) {
    for (const out of created) out.discard();
    throw e;
  }
}

/** A new tensor on `t`'s data (no copy; wasm's tf.clone copies), as the state's own handle. */
function share(t: tf.Tensor): tf.Tensor {
  const backend = tf.backend();
  const handle = tf
    .engine()
    .makeTensorFromTensorInfo({ dataId: t.dataId, shape: t.shape, dtype: t.dtype }, backend);
  backend.incRef(t.dataId);
  return handle;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
