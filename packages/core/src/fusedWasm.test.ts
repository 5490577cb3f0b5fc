import { describe, expect, it } from 'vitest';
import { compileWasm } from './fusedWasm.js';

// The compiler against JavaScript's own reading of the same loop body: four
// float32 lanes must give what the JavaScript loop gives, rounded to float32,
// including where NaN, infinities and zeros decide a comparison.

const N = 16;
const memory = new WebAssembly.Memory({ initial: 1 });

/** Float32 arrays of N elements at byte offsets 0, 64, 128, ... of `memory`. */
function arraysOf(values: readonly (readonly number[])[]): Float32Array[] {
  return values.map((v, k) => {
    const a = new Float32Array(memory.buffer, k * N * 4, N);
    a.set(v);
    return a;
  });
}

/** Run `loop` over N elements in JavaScript on copies of `inputs`; the arrays after. */
function runJs(
  loop: string,
  inputs: readonly (readonly number[])[],
  constants: readonly number[],
  sums = 0,
): { arrays: Float32Array[]; sums: number[]; result: number } {
  const arrays = inputs.map((v) => Float32Array.from(v));
  const names = arrays.map((_, k) => `const A${k} = arrays[${k}];`).join(' ');
  const ks = constants.map((_, k) => `const K${k} = constants[${k}];`).join(' ');
  const rs = Array.from({ length: sums }, (_, k) => `let r${k} = 0;`).join(' ');
  const out = Array.from({ length: sums }, (_, k) => `out[${k}] = r${k};`).join(' ');
  const fn = new Function(
    'n',
    'arrays',
    'constants',
    'out',
    `${names} ${ks} ${rs} for (let i = 0; i < n; i++) { ${loop} } ${out} return 0;`,
  );
  const total = new Array<number>(sums).fill(0);
  const result = fn(N, arrays, constants, total) as number;
  return { arrays, sums: total, result };
}

function runWasm(
  loop: string,
  inputs: readonly (readonly number[])[],
  constants: readonly number[],
  sums = 0,
): { arrays: Float32Array[]; out: number[] } {
  const arrays = arraysOf(inputs);
  const indices = inputs.map((_, k) => k);
  const pass = compileWasm(
    loop,
    indices,
    constants.map((_, k) => k),
    sums,
    memory,
  );
  if (pass === undefined) throw new Error(`did not compile: ${loop}`);
  // The constants' scratch block: after the arrays.
  const out = pass.run(
    N,
    arrays.map((a) => a.byteOffset),
    constants,
    inputs.length * N * 4,
  );
  return { arrays, out };
}

/** Equal as float32, NaN equal to NaN. */
function expectSame(actual: Float32Array, expected: Float32Array, rtol = 1e-6): void {
  expected.forEach((e, i) => {
    const a = actual[i] as number;
    if (Number.isNaN(e)) expect(a, `[${i}]`).toBeNaN();
    else if (!Number.isFinite(e)) expect(a, `[${i}]`).toBe(e);
    else
      expect(Math.abs(a - e), `[${i}]: ${a} vs ${e}`).toBeLessThanOrEqual(
        rtol * Math.abs(e) + 1e-30,
      );
  });
}

const SPECIAL = [
  0,
  -0,
  1,
  -1,
  2.5,
  -3.75,
  1e-3,
  1e30,
  -1e30,
  Number.NaN,
  Infinity,
  -Infinity,
  0.5,
  7,
  -0.25,
  3,
];
const OTHER = [1, 2, -1, 0, 0.5, -2, 4, 1e-20, 3, 2, Number.NaN, 1, -1, 0, 8, -5];

describe('the WebAssembly SIMD form of a pass', () => {
  it('computes arithmetic, square roots, min, max and abs as float32 JavaScript does', () => {
    const loop = `const x = A0[i]; const y = A1[i];
      const s = Math.sqrt(Math.abs(x)) + K0;
      A2[i] = (x * y - s / (y + K1)) * K2;
      A3[i] = Math.min(x, y) + Math.max(x, -y) + Math.fround(x * 0.5);`;
    const inputs = [SPECIAL, OTHER, new Array(N).fill(0), new Array(N).fill(0)];
    const js = runJs(loop, inputs, [1e-8, 0.5, -2]);
    const wasm = runWasm(loop, inputs, [1e-8, 0.5, -2]);
    expectSame(wasm.arrays[2]!, js.arrays[2]!, 1e-6);
    expectSame(wasm.arrays[3]!, js.arrays[3]!, 1e-6);
  });

  it('selects with ternaries and if as JavaScript compares (NaN compares false)', () => {
    const loop = `let u = A0[i]; const y = A1[i];
      u = u > K0 ? K0 : u < K1 ? K1 : u;
      if (y !== 0) u = u + y;
      A2[i] = y > 0 ? u / Math.sqrt(y) : 0;
      A3[i] = u;`;
    const inputs = [SPECIAL, OTHER, new Array(N).fill(9), new Array(N).fill(9)];
    const js = runJs(loop, inputs, [2, -2]);
    const wasm = runWasm(loop, inputs, [2, -2]);
    expectSame(wasm.arrays[2]!, js.arrays[2]!, 1e-6);
    expectSame(wasm.arrays[3]!, js.arrays[3]!, 1e-6);
  });

  it('picks one of two values as JavaScript does, NaN and signed zeros included', () => {
    // The four ternaries that pick an operand of their comparison (one instruction each), a
    // clamp made of two of them, and a ternary that picks something else.
    const loop = `const x = A0[i]; const y = A1[i];
      A2[i] = (x < y ? y : x) + (x < y ? x : y) * K0;
      A3[i] = (x > y ? y : x) + (x > y ? x : y) * K0;
      const low = x < K1 ? K1 : x; A4[i] = low > K2 ? K2 : low;
      A5[i] = x > y ? y + 1 : x;`;
    const inputs = [SPECIAL, OTHER, ...new Array(4).fill(new Array(N).fill(9))];
    const constants = [1000, -0.5, 2.5];
    const js = runJs(loop, inputs, constants);
    const wasm = runWasm(loop, inputs, constants);
    for (const k of [2, 3, 4, 5]) expectSame(wasm.arrays[k]!, js.arrays[k]!, 1e-6);
    // Signed zeros: min(+0, -0) and max(-0, +0) keep the operand JavaScript keeps.
    const zeros = runWasm(
      'const x = A0[i]; const y = A1[i]; A2[i] = x < y ? x : y; A3[i] = x < y ? y : x;',
      [new Array(N).fill(0), new Array(N).fill(-0), new Array(N).fill(9), new Array(N).fill(9)],
      [],
    );
    expect(Object.is(zeros.arrays[2]![0], -0)).toBe(true);
    expect(Object.is(zeros.arrays[3]![0], 0)).toBe(true);
  });

  it('reads each of many constants where it is used', () => {
    // Sixteen constants, each used once: K_k = k + 1, so the result is sum((k + 1) x) = 136 x.
    const terms = Array.from({ length: 16 }, (_, k) => `x * K${k}`).join(' + ');
    const loop = `const x = A0[i]; A1[i] = ${terms};`;
    const inputs = [OTHER.map((x) => (Number.isFinite(x) ? x : 0)), new Array(N).fill(0)];
    const constants = Array.from({ length: 16 }, (_, k) => k + 1);
    const wasm = runWasm(loop, inputs, constants);
    expectSame(
      wasm.arrays[1]!,
      Float32Array.from(inputs[0]!, (x) => 136 * x),
      1e-6,
    );
  });

  it('ends with 1 where a value is not finite, as the checkFinite test does', () => {
    const loop = `const u = A0[i] * K0; A1[i] = u; { const f = Math.fround(u); if (f - f !== 0) return 1; }`;
    const finite = SPECIAL.map((x) => (Number.isFinite(x) ? x : 1));
    expect(runWasm(loop, [finite, new Array(N).fill(0)], [2]).out).toEqual([0]);
    expect(runWasm(loop, [SPECIAL, new Array(N).fill(0)], [2]).out).toEqual([1]);
    // 1e30 · 1e10 overflows float32: not finite, as the composable path's float32 update is.
    expect(runWasm(loop, [finite, new Array(N).fill(0)], [1e10]).out).toEqual([1]);
  });

  it('sums in float64 what a reduction pass adds up', () => {
    const a = Array.from({ length: N }, (_, i) => Math.sin(i) * 1e3);
    const b = Array.from({ length: N }, (_, i) => Math.cos(3 * i));
    const loop = `const x = A0[i]; { r0 += x * A1[i]; } { r1 += x * x; }`;
    const js = runJs(loop, [a, b], [], 2);
    const wasm = runWasm(loop, [a, b], [], 2);
    expect(wasm.out[0]).toBeCloseTo(js.sums[0] as number, 2);
    expect(wasm.out[1]).toBeCloseTo(js.sums[1] as number, 0);
    expect(Math.abs((wasm.out[1] as number) / (js.sums[1] as number) - 1)).toBeLessThan(1e-6);
  });

  it('sums over many elements in blocks, close to a float64 sum', () => {
    // 1000 elements: three blocks of 256 and a last one of 232, summed as float32 within a block.
    const n = 1000;
    const big = new WebAssembly.Memory({ initial: 1 });
    const x = new Float32Array(big.buffer, 0, n);
    x.set(Array.from({ length: n }, (_, i) => Math.sin(i) * (1 + (i % 13))));
    const pass = compileWasm(
      'const v = A0[i]; { r0 += v; } { r1 += v * v * K0; }',
      [0],
      [0],
      2,
      big,
    );
    const [sum, squares] = pass?.run(n, [0], [0.5], 8 * n) ?? [];
    let sum64 = 0;
    let squares64 = 0;
    for (const v of x) {
      sum64 += v;
      squares64 += v * v * 0.5;
    }
    expect(Math.abs((sum as number) - sum64)).toBeLessThan(1e-4 * squares64 ** 0.5);
    expect(Math.abs((squares as number) / squares64 - 1)).toBeLessThan(1e-6);
  });

  it('keeps block scopes apart, as JavaScript does', () => {
    const loop = `let u = A0[i]; { const t = u * 2; u = t; } { const t = u + 1; u = t; } A1[i] = u;`;
    const inputs = [OTHER.map((x) => (Number.isFinite(x) ? x : 0)), new Array(N).fill(0)];
    expectSame(runWasm(loop, inputs, []).arrays[1]!, runJs(loop, inputs, []).arrays[1]!);
  });

  it('gives up on what it does not know, so the pass runs as JavaScript', () => {
    const compile = (loop: string) => compileWasm(loop, [0, 1], [], 0, memory);
    expect(compile('A1[i] = Math.exp(A0[i]);')).toBeUndefined();
    expect(compile('A1[i] = A0[i] ** 2;')).toBeUndefined();
    expect(compile('A1[i] = A0[i + 1];')).toBeUndefined();
    expect(compile('A1[i] = unknownName;')).toBeUndefined();
    expect(compile('A2[i] = A0[i];')).toBeUndefined(); // A2 is not a parameter
    expect(compile('A1[i] = A0[i];')).toBeDefined();
  });
});
