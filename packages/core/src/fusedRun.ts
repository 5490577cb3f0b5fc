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
   * An output that writes into `t`'s own buffer, ending as `t` itself
   * (`keep`) or as a new handle on its data; undefined when the backend
   * cannot tell that nothing outside the tensors refers to the buffer (the
   * caller has checked that no other tensor shares `t`'s data).
   */
  reuse?(t: tf.Tensor, keep: boolean): Output | undefined;
  /**
   * `pass` compiled to WebAssembly SIMD, when it compiles: over the heap
   * (wasm) or over chunks staged through a memory of its own (cpu).
   * `written`: the arrays the pass stores into.
   */
  simd?(pass: Generated, sums: number, written: ReadonlySet<number>): VectorPass | undefined;
}

/** The SIMD form of a pass, over the first `n` (a multiple of 4) elements of the arrays bound. */
interface VectorPass {
  /** 0, or 1 when checkFinite found a bad update; adds a reduction's sums into `sums`. */
  run(
    n: number,
    arrays: readonly Float32Array[],
    constants: Float64Array,
    sums: Float64Array,
  ): number;
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
  data: {
    get(dataId: object): { values?: unknown } | undefined;
    has(dataId: object): boolean;
  };
  readSync(dataId: object): unknown;
  write(values: unknown, shape: number[], dtype: string): object;
  move(dataId: object, values: unknown, shape: number[], dtype: string, refCount: number): void;
  disposeData(dataId: object, force?: boolean): boolean;
}

/**
 * The cpu backend's float32 buffers that only the fused step and the
 * backend's tensors have seen. tfjs's cpu backend hands its buffers out:
 * `readSync` (behind dataSync, data, arraySync, bufferSync, ...) returns
 * the buffer itself, and a contiguous slice is a tensor on a view of its
 * input. So a buffer may be rewritten in place only when the fused step made
 * it, `readSync` never returned it (or a view of it), and no live tensor of
 * another data id lies in it; anything else gets a new buffer.
 */
interface CpuBuffers {
  /** Buffers the fused step made that no read has handed out. */
  readonly own: WeakSet<ArrayBufferLike>;
  /** The number of live data ids, other than the buffer's own, whose values lie in it. */
  readonly views: WeakMap<ArrayBufferLike, number>;
  /** The buffer that the values of a viewing data id lie in. */
  readonly viewers: WeakMap<object, ArrayBufferLike>;
}

const cpuBuffers = new WeakMap<object, CpuBuffers | null>();

/** The buffer a typed array lies in, or undefined for anything else. */
function bufferOf(values: unknown): ArrayBufferLike | undefined {
  return ArrayBuffer.isView(values) ? values.buffer : undefined;
}

/**
 * Watch `backend`'s reads, writes and frees (once per backend instance) so
 * that {@link CpuBuffers} stays true; null when the backend lacks the methods
 * (nothing is then rewritten in place).
 */
function cpuBuffersOf(backend: tf.KernelBackend): CpuBuffers | null {
  const known = cpuBuffers.get(backend);
  if (known !== undefined) return known;
  const b = backend as unknown as CpuBackend;
  const methods = [b.readSync, b.write, b.move, b.disposeData, b.data?.get, b.data?.has];
  if (!methods.every((m) => typeof m === 'function')) {
    cpuBuffers.set(backend, null);
    return null;
  }
  const tracked: CpuBuffers = { own: new WeakSet(), views: new WeakMap(), viewers: new WeakMap() };
  const { own, views, viewers } = tracked;
  const { readSync, write, move, disposeData } = b;
  const noteView = (dataId: object, values: unknown): void => {
    const buffer = bufferOf(values);
    if (buffer === undefined || !own.has(buffer)) return;
    viewers.set(dataId, buffer);
    views.set(buffer, (views.get(buffer) ?? 0) + 1);
  };
  const forgetView = (dataId: object, buffer: ArrayBufferLike): void => {
    viewers.delete(dataId);
    views.set(buffer, (views.get(buffer) ?? 1) - 1);
  };
  b.readSync = function (this: CpuBackend, dataId) {
    const viewed = viewers.get(dataId);
    if (viewed !== undefined) {
      // A view (a slice) about to be read gets its own copy first: the read then hands out
      // nothing of the buffer, which stays the fused step's (a one-element read-back stays cheap).
      const entry = this.data.get(dataId);
      if (entry !== undefined && ArrayBuffer.isView(entry.values)) {
        entry.values = (entry.values as Float32Array).slice();
      }
      forgetView(dataId, viewed);
    }
    const out = readSync.call(this, dataId);
    const buffer = bufferOf(out);
    if (buffer !== undefined) own.delete(buffer);
    return out;
  };
  b.write = function (this: CpuBackend, values, shape, dtype) {
    const dataId = write.call(this, values, shape, dtype);
    noteView(dataId, values);
    return dataId;
  };
  b.move = function (this: CpuBackend, dataId, values, shape, dtype, refCount) {
    move.call(this, dataId, values, shape, dtype, refCount);
    noteView(dataId, values);
  };
  b.disposeData = function (this: CpuBackend, dataId, force) {
    const out = disposeData.call(this, dataId, force);
    const buffer = viewers.get(dataId);
    if (buffer !== undefined && !this.data.has(dataId)) forgetView(dataId, buffer);
    return out;
  };
  cpuBuffers.set(backend, tracked);
  return tracked;
}

interface WasmBackend {
  dataIdMap: {
    get(dataId: object): { id: number; memoryOffset?: number | null; dtype?: string } | undefined;
  };
  dataIdNextNumber: number;
  wasm: {
    HEAPU8: Uint8Array;
    asm?: { memory?: unknown };
    _malloc?(bytes: number): number;
    _free?(at: number): void;
    tfjs: {
      registerTensor(id: number, size: number, offset: number): void;
      disposeData(id: number): void;
    };
  };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

// On cpu a buffer is rewritten in place only when it is one the fused step made and has not
// been handed out since (see CpuBuffers); otherwise the step writes a new buffer.
function cpuMemory(backend: tf.KernelBackend): Memory {
  const b = backend as unknown as CpuBackend;
  const tracked = cpuBuffersOf(backend);
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
          if (tensor === undefined) {
            tensor = tf.engine().makeTensor(values, [...shape], 'float32', backend);
            // After makeTensor: its own write of the buffer is no view.
            tracked?.own.add(values.buffer);
          }
          return tensor;
        },
        discard: () => tensor?.dispose(),
      };
    },
    simd: (pass, sums, written) => stagedPass(pass, sums, written),
    reuse(t, keep) {
      const values = views.get(t) as Float32Array;
      const buffer = values.buffer;
      if (tracked === null || !tracked.own.has(buffer) || (tracked.views.get(buffer) ?? 0) > 0) {
        return undefined;
      }
      let handle: tf.Tensor | undefined;
      return {
        view: () => values,
        finish: () => {
          if (keep) return t;
          handle ??= share(t);
          return handle;
        },
        discard: () => handle?.dispose(),
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
      const compiled = wasmPassFor(heapMemory, pass, sums);
      const scratch = compiled && heapScratch(b, 4 * pass.constants.length);
      if (compiled === undefined || scratch === undefined) return undefined;
      return {
        run: (n, arrays, constants, out) =>
          addSums(
            compiled.run(
              n,
              pass.arrays.map((a) => (arrays[a] as Float32Array).byteOffset),
              pass.constants.map((c) => constants[c] as number),
              scratch,
            ),
            out,
          ),
      };
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

const scratchBlocks = new WeakMap<object, { readonly at: number; readonly bytes: number }>();

/**
 * The address of a block of at least `bytes` on the wasm heap for the
 * constants of a pass (allocated once per module, outside tfjs's tensors),
 * or undefined when the module exports no allocator.
 */
function heapScratch(b: WasmBackend, bytes: number): number | undefined {
  const known = scratchBlocks.get(b.wasm);
  if (known !== undefined && known.bytes >= bytes) return known.at;
  const { _malloc: malloc, _free: free } = b.wasm;
  if (typeof malloc !== 'function') return undefined;
  const size = Math.max(256, bytes);
  const at = malloc.call(b.wasm, size) >>> 0;
  if (at === 0) return undefined;
  if (known !== undefined) free?.call(b.wasm, known.at);
  scratchBlocks.set(b.wasm, { at, bytes: size });
  return at;
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

/** A compiled pass's result as {@link VectorPass.run} returns it: the sums added into `sums`. */
function addSums(out: readonly number[], sums: Float64Array): number {
  if (sums.length === 0) return out[0] as number;
  out.forEach((v, k) => {
    sums[k] = (sums[k] as number) + v;
  });
  return 0;
}

// cpu: the backend's buffers are plain ArrayBuffers, out of reach of a WebAssembly memory, so the
// SIMD form runs on chunks of every array copied into a memory of its own and back. A chunk of
// each array of a pass stays in the L2 cache, and the copies cost far less than scalar
// JavaScript arithmetic on each element.
const CHUNK = 8192;
// Chunks start 192 bytes apart modulo 4 KiB, so that element i of each array does not fall in
// the same L1 cache set (and loads do not wait on stores to addresses that look alike).
const STRIDE = CHUNK * 4 + 192;
const PAGE = 65536;
let staging: WebAssembly.Memory | null | undefined;

/**
 * The staging memory with room for a chunk of `arrays` arrays and then
 * `constants` float32 constants; undefined without WebAssembly.
 */
function stagingMemory(arrays: number, constants: number): WebAssembly.Memory | undefined {
  if (staging === undefined) {
    try {
      staging = new WebAssembly.Memory({ initial: 1 });
    } catch {
      staging = null;
    }
  }
  if (staging === null) return undefined;
  const pages = Math.ceil((arrays * STRIDE + 4 * constants) / PAGE);
  const have = staging.buffer.byteLength / PAGE;
  if (pages > have) {
    try {
      staging.grow(pages - have);
    } catch {
      return undefined;
    }
  }
  return staging;
}

/** `pass` as WebAssembly SIMD over chunks staged through the staging memory, when it compiles. */
function stagedPass(
  pass: Generated,
  sums: number,
  written: ReadonlySet<number>,
): VectorPass | undefined {
  const memory = stagingMemory(pass.arrays.length, pass.constants.length);
  if (memory === undefined) return undefined;
  const compiled = wasmPassFor(memory, pass, sums);
  if (compiled === undefined) return undefined;
  const pointers = pass.arrays.map((_, j) => j * STRIDE);
  const scratch = pass.arrays.length * STRIDE;
  const reads = pass.arrays.flatMap((a, j) => (written.has(a) ? [] : [[a, j] as const]));
  const writes = pass.arrays.flatMap((a, j) => (written.has(a) ? [[a, j] as const] : []));
  return {
    run(n, arrays, constants, out) {
      // Views made here: nothing grows the memory during a run.
      const stage = pointers.map((at) => new Float32Array(memory.buffer, at, CHUNK));
      const values = pass.constants.map((c) => constants[c] as number);
      for (let start = 0; start < n; start += CHUNK) {
        const size = Math.min(CHUNK, n - start);
        for (const [a, j] of reads) {
          (stage[j] as Float32Array).set((arrays[a] as Float32Array).subarray(start, start + size));
        }
        const result = addSums(compiled.run(size, pointers, values, scratch), out);
        if (result !== 0) return result;
        for (const [a, j] of writes) {
          const chunk = stage[j] as Float32Array;
          (arrays[a] as Float32Array).set(size === CHUNK ? chunk : chunk.subarray(0, size), start);
        }
      }
      return 0;
    },
  };
}

/**
 * Run `pass` over the `n` elements of one leaf bound in `arrays`: the SIMD
 * form over the first multiple of 4 when there is one, the JavaScript form
 * over the rest. Returns the pass's result (0, or 1 when checkFinite found a
 * bad update) and adds a reduction's sums into `sums`.
 */
function runPass(
  pass: Generated,
  vector: VectorPass | undefined,
  n: number,
  arrays: Float32Array[],
  constants: Float64Array,
  sums: Float64Array,
): number {
  const vectorised = vector === undefined ? 0 : n - (n % 4);
  if (vectorised > 0 && vector !== undefined) {
    const result = vector.run(vectorised, arrays, constants, sums);
    if (result !== 0) return result;
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
    const compiled = memory.simd?.(pass, pass.terms.length, new Set());
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

  // Buffers nothing else refers to are rewritten in place where the backend can tell (wasm
  // always, cpu for buffers only the fused step has seen), except with checkFinite, where a
  // failed check must leave every input as it was.
  const refs = new Map<object, number>();
  for (const t of [...inputs, ...collectTensors(context)]) {
    refs.set(t.dataId, (refs.get(t.dataId) ?? 0) + 1);
  }
  const backend = tf.backend();
  // A slot may share its tensor's data with another slot (in egSgdm the previous updates are
  // the momentum trace). The buffer is still the step's to rewrite when these slots hold every
  // reference to it and the others are neither read by the main pass nor written: the
  // reduction passes, which may read them, have run.
  const mainReads = new Set(main.arrays);
  const slotUses = new Map<object, { readonly array: number; readonly quiet: boolean }[]>();
  program.links.forEach((link, j) => {
    const stored = new Set(link.writes);
    if (link.fused.slotIsUpdate !== undefined && link.shares === undefined) {
      stored.add(link.fused.slotIsUpdate);
    }
    link.slots.forEach((slot, k) => {
      const array = program.arrays.get(`${j}:in:${slot}`) as number;
      const quiet = !mainReads.has(array) && !stored.has(slot);
      for (const t of (slotLeaves[j] as tf.Tensor[][])[k] as tf.Tensor[]) {
        const uses = slotUses.get(t.dataId) ?? [];
        uses.push({ array, quiet });
        slotUses.set(t.dataId, uses);
      }
    });
  });
  /** Whether only `input` (read through `array`, for a slot) may see its data after the step. */
  const alone = (input: tf.Tensor, array: number | undefined): boolean => {
    const count = refs.get(input.dataId) ?? 0;
    if (backend.refCount(input.dataId) !== count) return false;
    if (count === 1) return true;
    const uses = slotUses.get(input.dataId) ?? [];
    if (array === undefined || uses.length !== count) return false;
    let self = false;
    return uses.every((use) => {
      if (!self && use.array === array) {
        self = true;
        return true;
      }
      return use.quiet;
    });
  };
  const created: Output[] = [];
  /** The output replacing `input`: its own buffer when allowed, else a new one. */
  const output = (input: tf.Tensor, keep: boolean, inPlace: boolean, array?: number): Output => {
    const reused = inPlace && !checkFinite && alone(input, array);
    const out = (reused ? memory.reuse?.(input, keep) : undefined) ?? memory.allocate(input.shape);
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
        const array = program.arrays.get(`${j}:in:${slot}`);
        outSlots.set(
          `${j}:${slot}`,
          olds.map((t) => output(t, false, true, array)),
        );
      }
    });
    const outIndex = [...outSlots.keys()].map((key) => {
      const [j, slot] = key.split(':') as [string, string];
      return program.arrays.get(`${j}:out:${slot}`) as number;
    });
    const outLists = [...outSlots.values()];
    const noSums = new Float64Array(0);
    const written = new Set<number>([3]);
    for (const [key, at] of program.arrays) if (key.includes(':out:')) written.add(at);
    const compiled = memory.simd?.(main, 0, written);
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
