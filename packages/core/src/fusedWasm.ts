// Internal: on the wasm backend, the generated passes compiled to WebAssembly
// with 128-bit SIMD (four float32 lanes), reading and writing the backend's
// heap directly. Not exported from the package.
//
// The input is the JavaScript loop body that fusedCompile.ts generates from
// the links' code: declarations, assignments, stores `A3[i] = ...`, sums
// `r0 += ...`, `if (cond) x = ...;`, ternaries, comparisons, + - * /, and
// Math.sqrt / min / max / abs / fround. Anything else (Math.exp, say) makes
// the compiler give up, and the pass runs as JavaScript. Arithmetic is
// float32, as the composable path's tfjs kernels compute; sums accumulate in
// float64. The last `n mod 4` elements of a tensor run as JavaScript. The
// constants are read from memory where they are used (a scratch block the
// caller provides) rather than held in registers: a pass with a dozen
// constants would otherwise run out of SIMD registers and spill in its loop.

// ---------------------------------------------------------------------------
// Parsing

type Expr =
  | { readonly k: 'num'; readonly v: number }
  | { readonly k: 'name'; readonly name: string }
  | { readonly k: 'load'; readonly array: number }
  | { readonly k: 'bin'; readonly op: string; readonly a: Expr; readonly b: Expr }
  | { readonly k: 'neg'; readonly a: Expr }
  | { readonly k: 'call'; readonly fn: string; readonly args: readonly Expr[] }
  | { readonly k: 'cond'; readonly c: Expr; readonly a: Expr; readonly b: Expr };

type Stmt =
  | { readonly k: 'decl'; readonly name: string; readonly e: Expr }
  | { readonly k: 'assign'; readonly name: string; readonly e: Expr }
  | { readonly k: 'sum'; readonly name: string; readonly e: Expr }
  | { readonly k: 'store'; readonly array: number; readonly e: Expr }
  | { readonly k: 'if'; readonly c: Expr; readonly body: Stmt }
  | { readonly k: 'return'; readonly v: number }
  | { readonly k: 'block'; readonly body: readonly Stmt[] };

class Unsupported extends Error {}

const TOKEN =
  /\s*(?:(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([A-Za-z_$][\w$]*)|(===|!==|>=|<=|\+=|[-+*/()[\]{};?:=<>.,]))/y;

function tokenize(source: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < source.length) {
    if (/^\s*$/.test(source.slice(TOKEN.lastIndex))) break;
    const m = TOKEN.exec(source);
    if (m === null) throw new Unsupported(`unexpected text at ${TOKEN.lastIndex}`);
    out.push((m[1] ?? m[2] ?? m[3]) as string);
  }
  return out;
}

const ARRAY = /^A(\d+)$/;
const COMPARISONS = new Set(['>', '<', '>=', '<=', '===', '!==']);

function parse(source: string): Stmt[] {
  const tokens = tokenize(source);
  let at = 0;
  const peek = () => tokens[at];
  const next = () => {
    const t = tokens[at++];
    if (t === undefined) throw new Unsupported('unexpected end');
    return t;
  };
  const expect = (t: string) => {
    const got = next();
    if (got !== t) throw new Unsupported(`expected ${t}, got ${got}`);
  };
  const indexed = (): number | undefined => {
    const m = ARRAY.exec(peek() ?? '');
    if (m === null || tokens[at + 1] !== '[') return undefined;
    at += 2;
    expect('i');
    expect(']');
    return Number(m[1]);
  };
  const primary = (): Expr => {
    const t = peek();
    if (t === '(') {
      next();
      const e = expression();
      expect(')');
      return e;
    }
    if (t === '-') {
      next();
      return { k: 'neg', a: primary() };
    }
    if (t !== undefined && /^[\d.]/.test(t)) {
      next();
      return { k: 'num', v: Number(t) };
    }
    const array = indexed();
    if (array !== undefined) return { k: 'load', array };
    const name = next();
    if (name === 'Math') {
      expect('.');
      const fn = next();
      expect('(');
      const args: Expr[] = [expression()];
      while (peek() === ',') {
        next();
        args.push(expression());
      }
      expect(')');
      return { k: 'call', fn, args };
    }
    if (!/^[A-Za-z_$][\w$]*$/.test(name)) throw new Unsupported(`unexpected ${name}`);
    return { k: 'name', name };
  };
  const product = (): Expr => {
    let e = primary();
    while (peek() === '*' || peek() === '/') e = { k: 'bin', op: next(), a: e, b: primary() };
    return e;
  };
  const sum = (): Expr => {
    let e = product();
    while (peek() === '+' || peek() === '-') e = { k: 'bin', op: next(), a: e, b: product() };
    return e;
  };
  const comparison = (): Expr => {
    const e = sum();
    const op = peek();
    if (op !== undefined && COMPARISONS.has(op)) {
      next();
      return { k: 'bin', op, a: e, b: sum() };
    }
    return e;
  };
  const expression = (): Expr => {
    const c = comparison();
    if (peek() !== '?') return c;
    next();
    const a = expression();
    expect(':');
    return { k: 'cond', c, a, b: expression() };
  };
  const statement = (): Stmt => {
    const t = peek();
    if (t === '{') {
      next();
      const body: Stmt[] = [];
      while (peek() !== '}') body.push(statement());
      next();
      return { k: 'block', body };
    }
    if (t === 'const' || t === 'let') {
      next();
      const name = next();
      expect('=');
      const e = expression();
      expect(';');
      return { k: 'decl', name, e };
    }
    if (t === 'if') {
      next();
      expect('(');
      const c = expression();
      expect(')');
      return { k: 'if', c, body: statement() };
    }
    if (t === 'return') {
      next();
      const v = Number(next());
      expect(';');
      return { k: 'return', v };
    }
    const array = indexed();
    if (array !== undefined) {
      expect('=');
      const e = expression();
      expect(';');
      return { k: 'store', array, e };
    }
    const name = next();
    const op = next();
    const e = expression();
    expect(';');
    if (op === '=') return { k: 'assign', name, e };
    if (op === '+=') return { k: 'sum', name, e };
    throw new Unsupported(`unexpected ${op}`);
  };
  const out: Stmt[] = [];
  while (at < tokens.length) out.push(statement());
  return out;
}

// ---------------------------------------------------------------------------
// Encoding

const I32 = 0x7f;
const F64 = 0x7c;
const V128 = 0x7b;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function f32Bytes(v: number): number[] {
  return [...new Uint8Array(new Float32Array([v]).buffer)];
}

const simd = (op: number, ...rest: number[]) => [0xfd, ...uleb(op), ...rest];
const OP = {
  load: simd(0x00, 0, 0),
  /** v128.load32_splat of the float32 at `offset` from the address on the stack. */
  loadSplat: (offset: number) => simd(0x09, 2, ...uleb(offset)),
  store: simd(0x0b, 0, 0),
  shuffleHigh: simd(0x0d, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15),
  f32x4Splat: simd(0x13),
  f64x2Splat: simd(0x14),
  f64x2Lane: (lane: number) => simd(0x21, lane),
  bitselect: simd(0x52),
  anyTrue: simd(0x53),
  promoteLow: simd(0x5f),
  abs: simd(0xe0),
  neg: simd(0xe1),
  sqrt: simd(0xe3),
  f64x2Add: simd(0xf0),
} as const;
const BINARY: Readonly<Record<string, number[]>> = {
  '+': simd(0xe4),
  '-': simd(0xe5),
  '*': simd(0xe6),
  '/': simd(0xe7),
  '===': simd(0x41),
  '!==': simd(0x42),
  '<': simd(0x43),
  '>': simd(0x44),
  '<=': simd(0x45),
  '>=': simd(0x46),
};

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function name(s: string): number[] {
  const bytes = [...new TextEncoder().encode(s)];
  return [...uleb(bytes.length), ...bytes];
}

// ---------------------------------------------------------------------------
// Compiling

const PMIN = 0xea;
// Elements per block of a reduction's float32 sums: 64 per lane.
const SUM_BLOCK = 256;
const PMAX = 0xeb;

function sameExpr(x: Expr, y: Expr): boolean {
  if (x.k !== y.k) return false;
  switch (x.k) {
    case 'num':
      return Object.is(x.v, (y as typeof x).v);
    case 'name':
      return x.name === (y as typeof x).name;
    case 'load':
      return x.array === (y as typeof x).array;
    case 'neg':
      return sameExpr(x.a, (y as typeof x).a);
    case 'bin': {
      const o = y as typeof x;
      return x.op === o.op && sameExpr(x.a, o.a) && sameExpr(x.b, o.b);
    }
    case 'call': {
      const o = y as typeof x;
      return (
        x.fn === o.fn &&
        x.args.length === o.args.length &&
        x.args.every((a, i) => sameExpr(a, o.args[i] as Expr))
      );
    }
    case 'cond': {
      const o = y as typeof x;
      return sameExpr(x.c, o.c) && sameExpr(x.a, o.a) && sameExpr(x.b, o.b);
    }
  }
}

/**
 * A ternary that picks one of its comparison's two operands, as one
 * instruction: f32x4.pmin(a, b) is exactly `b < a ? b : a` and pmax(a, b)
 * `a < b ? b : a`, NaN and signed zeros included (f32x4.min and max differ
 * from JavaScript there, and cost several instructions).
 */
function pseudoMinMax(
  e: Extract<Expr, { k: 'cond' }>,
): { op: number; a: Expr; b: Expr } | undefined {
  const c = e.c;
  if (c.k !== 'bin' || (c.op !== '<' && c.op !== '>')) return undefined;
  const [l, r] = [c.a, c.b];
  const keepsLeft = sameExpr(e.a, r) && sameExpr(e.b, l); // l op r ? r : l
  const keepsRight = sameExpr(e.a, l) && sameExpr(e.b, r); // l op r ? l : r
  if (c.op === '<') {
    if (keepsLeft) return { op: PMAX, a: l, b: r }; // l < r ? r : l
    if (keepsRight) return { op: PMIN, a: r, b: l }; // l < r ? l : r
  } else {
    if (keepsLeft) return { op: PMIN, a: l, b: r }; // r < l ? r : l
    if (keepsRight) return { op: PMAX, a: r, b: l }; // r < l ? l : r
  }
  return undefined;
}

/** A pass compiled to WebAssembly: runs over the first `n` (a multiple of 4) elements of a leaf. */
export interface WasmPass {
  /**
   * Main pass: 0, or 1 when checkFinite found a bad update. Reduction pass:
   * the sums. The constants are stored as float32 at byte offset `scratch`
   * of the memory (4-byte aligned, room for all of them) for the run.
   */
  readonly run: (
    n: number,
    pointers: readonly number[],
    constants: readonly number[],
    scratch: number,
  ) => number[];
}

/**
 * `loop` (the statements over `i`) as a WebAssembly function over the heap
 * `memory`, or undefined when it uses something the compiler does not know.
 * `arrays` and `constants` are the indices (ascending) the loop uses; `sums`
 * the number of accumulators (`r0`, `r1`, ... of a reduction pass, 0 for the
 * main pass).
 */
export function compileWasm(
  loop: string,
  arrays: readonly number[],
  constants: readonly number[],
  sums: number,
  memory: WebAssembly.Memory,
): WasmPass | undefined {
  let bytes: Uint8Array;
  try {
    bytes = encode(parse(loop), arrays, constants, sums);
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
  let instance: WebAssembly.Instance;
  try {
    instance = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource), {
      env: { memory },
    });
  } catch {
    return undefined;
  }
  const fn = instance.exports.run as (...args: number[]) => number | number[];
  return {
    run: (n, pointers, values, scratch) => {
      new Float32Array(memory.buffer, scratch, values.length).set(values);
      const out = fn(n, ...pointers, scratch);
      return Array.isArray(out) ? out : [out];
    },
  };
}

function encode(
  body: readonly Stmt[],
  arrays: readonly number[],
  constants: readonly number[],
  sums: number,
): Uint8Array {
  // Locals: params (n, one pointer per array, the constants' address), then i, offset, the
  // end of a block of a reduction, v128s.
  const pointerOf = new Map(arrays.map((a, k) => [a, 1 + k]));
  const constantAt = new Map(constants.map((c, k) => [c, 4 * k]));
  const constantsLocal = 1 + arrays.length;
  const params = 2 + arrays.length;
  const iLocal = params;
  const offLocal = params + 1;
  const endLocal = params + 2;
  let vectors = 0;
  const vector = () => params + 3 + vectors++;
  // Each sum: two f64x2 accumulators (lanes 0-1 and 2-3) and a float32 sum of one block.
  const accumulators = Array.from(
    { length: sums },
    () => ({ lo: vector(), hi: vector(), block: vector() }) as const,
  );
  const scopes: Map<string, number>[] = [new Map()];
  const lookup = (n: string): number => {
    for (let s = scopes.length - 1; s >= 0; s--) {
      const at = scopes[s]?.get(n);
      if (at !== undefined) return at;
    }
    throw new Unsupported(`unknown name ${n}`);
  };
  const code: number[] = [];
  const emit = (...b: number[]) => {
    code.push(...b);
  };
  const address = (array: number) => {
    const p = pointerOf.get(array);
    if (p === undefined) throw new Unsupported(`array A${array} is not a parameter`);
    emit(0x20, ...uleb(p), 0x20, ...uleb(offLocal), 0x6a);
  };
  /** Emit `e`; true when it is a comparison mask rather than four floats. */
  const expr = (e: Expr): boolean => {
    switch (e.k) {
      case 'num':
        emit(0x43, ...f32Bytes(e.v), ...OP.f32x4Splat);
        return false;
      case 'name': {
        const m = /^K(\d+)$/.exec(e.name);
        if (m === null) {
          emit(0x20, ...uleb(lookup(e.name)));
          return false;
        }
        const at = constantAt.get(Number(m[1]));
        if (at === undefined) throw new Unsupported(`constant ${e.name} is not a parameter`);
        emit(0x20, ...uleb(constantsLocal), ...OP.loadSplat(at));
        return false;
      }
      case 'load':
        address(e.array);
        emit(...OP.load);
        return false;
      case 'neg':
        if (expr(e.a)) throw new Unsupported('negated comparison');
        emit(...OP.neg);
        return false;
      case 'bin': {
        const op = BINARY[e.op];
        if (op === undefined) throw new Unsupported(`operator ${e.op}`);
        if (expr(e.a) || expr(e.b)) throw new Unsupported('arithmetic on a comparison');
        emit(...op);
        return COMPARISONS.has(e.op);
      }
      case 'cond': {
        const picked = pseudoMinMax(e);
        if (picked !== undefined) {
          value(picked.a);
          value(picked.b);
          emit(...simd(picked.op));
          return false;
        }
        if (expr(e.a) || expr(e.b)) throw new Unsupported('a comparison as a value');
        if (!expr(e.c)) throw new Unsupported('a condition that is not a comparison');
        emit(...OP.bitselect);
        return false;
      }
      case 'call': {
        const values = e.args.map((a) => {
          if (expr(a)) throw new Unsupported('a comparison as an argument');
          return a;
        });
        if (e.fn === 'fround' && values.length === 1) return false;
        if (e.fn === 'sqrt' && values.length === 1) emit(...OP.sqrt);
        else if (e.fn === 'abs' && values.length === 1) emit(...OP.abs);
        else if ((e.fn === 'min' || e.fn === 'max') && values.length >= 2) {
          for (let k = 1; k < values.length; k++) emit(...simd(e.fn === 'min' ? 0xe8 : 0xe9));
        } else throw new Unsupported(`Math.${e.fn}`);
        return false;
      }
    }
  };
  const value = (e: Expr) => {
    if (expr(e)) throw new Unsupported('a comparison as a value');
  };
  const statement = (s: Stmt): void => {
    switch (s.k) {
      case 'decl': {
        value(s.e);
        const at = vector();
        scopes[scopes.length - 1]?.set(s.name, at);
        emit(0x21, ...uleb(at));
        return;
      }
      case 'assign':
        value(s.e);
        emit(0x21, ...uleb(lookup(s.name)));
        return;
      case 'store':
        address(s.array);
        value(s.e);
        emit(...OP.store);
        return;
      case 'sum': {
        const m = /^r(\d+)$/.exec(s.name);
        const acc = m === null ? undefined : accumulators[Number(m[1])];
        if (acc === undefined) throw new Unsupported(`unknown sum ${s.name}`);
        emit(0x20, ...uleb(acc.block));
        value(s.e);
        emit(...simd(0xe4), 0x21, ...uleb(acc.block));
        return;
      }
      case 'if': {
        const inner = s.body;
        if (inner.k === 'return') {
          if (!expr(s.c)) throw new Unsupported('a condition that is not a comparison');
          emit(...OP.anyTrue, 0x04, 0x40, 0x41, ...sleb(inner.v), 0x0f, 0x0b);
          return;
        }
        if (inner.k !== 'assign') throw new Unsupported('an if around anything but an assignment');
        const at = lookup(inner.name);
        value(inner.e);
        emit(0x20, ...uleb(at));
        if (!expr(s.c)) throw new Unsupported('a condition that is not a comparison');
        emit(...OP.bitselect, 0x21, ...uleb(at));
        return;
      }
      case 'return':
        emit(0x41, ...sleb(s.v), 0x0f);
        return;
      case 'block':
        scopes.push(new Map());
        for (const inner of s.body) statement(inner);
        scopes.pop();
        return;
    }
  };

  /** for (; i < limit; i += 4) { offset = 4 i; body } */
  const loop = (limit: number) => {
    emit(0x02, 0x40, 0x03, 0x40);
    emit(0x20, ...uleb(iLocal), 0x20, ...uleb(limit), 0x4f, 0x0d, 1);
    emit(0x20, ...uleb(iLocal), 0x41, 2, 0x74, 0x21, ...uleb(offLocal));
    for (const s of body) statement(s);
    emit(0x20, ...uleb(iLocal), 0x41, 4, 0x6a, 0x21, ...uleb(iLocal), 0x0c, 0, 0x0b, 0x0b);
  };
  if (sums === 0) {
    loop(0);
    emit(0x41, 0);
  } else {
    // A reduction sums in float32 over blocks of SUM_BLOCK elements and adds each block's sums
    // into float64 (two promotions per block instead of per four elements).
    for (const { lo, hi } of accumulators) {
      emit(0x44, ...new Array<number>(8).fill(0), ...OP.f64x2Splat);
      emit(0x22, ...uleb(lo), 0x21, ...uleb(hi));
    }
    emit(0x02, 0x40, 0x03, 0x40);
    emit(0x20, ...uleb(iLocal), 0x20, 0, 0x4f, 0x0d, 1);
    // end = min(i + SUM_BLOCK, n)
    emit(0x20, ...uleb(iLocal), 0x41, ...sleb(SUM_BLOCK), 0x6a, 0x22, ...uleb(endLocal));
    emit(0x20, 0, 0x20, ...uleb(endLocal), 0x20, 0, 0x49, 0x1b, 0x21, ...uleb(endLocal));
    for (const { block } of accumulators) {
      emit(0x43, ...f32Bytes(0), ...OP.f32x4Splat, 0x21, ...uleb(block));
    }
    loop(endLocal);
    for (const { lo, hi, block } of accumulators) {
      emit(0x20, ...uleb(block), ...OP.promoteLow, 0x20, ...uleb(lo), ...OP.f64x2Add);
      emit(0x21, ...uleb(lo));
      emit(0x20, ...uleb(block), 0x20, ...uleb(block), ...OP.shuffleHigh, ...OP.promoteLow);
      emit(0x20, ...uleb(hi), ...OP.f64x2Add, 0x21, ...uleb(hi));
    }
    emit(0x0c, 0, 0x0b, 0x0b);
    // The four lanes of each sum added.
    for (const { lo, hi } of accumulators) {
      emit(0x20, ...uleb(lo), ...OP.f64x2Lane(0), 0x20, ...uleb(lo), ...OP.f64x2Lane(1), 0xa0);
      emit(0x20, ...uleb(hi), ...OP.f64x2Lane(0), 0xa0);
      emit(0x20, ...uleb(hi), ...OP.f64x2Lane(1), 0xa0);
    }
  }
  emit(0x0b);

  const results = sums === 0 ? [I32] : new Array<number>(sums).fill(F64);
  const paramTypes = [I32, ...arrays.map(() => I32), I32];
  const type = [
    0x60,
    ...uleb(paramTypes.length),
    ...paramTypes,
    ...uleb(results.length),
    ...results,
  ];
  const locals = [...uleb(2), ...uleb(3), I32, ...uleb(vectors), V128];
  const fnBody = [...locals, ...code];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [...uleb(1), ...type]),
    ...section(2, [...uleb(1), ...name('env'), ...name('memory'), 0x02, 0x00, 0x00]),
    ...section(3, [...uleb(1), 0]),
    ...section(7, [...uleb(1), ...name('run'), 0x00, 0]),
    ...section(10, [...uleb(1), ...uleb(fnBody.length), ...fnBody]),
  ]);
}
