/** The command line of `npm run bench`. Pure: parsing only. */

/** One parameter layout: `tensors` tensors of `size` floats each. */
export interface SizeCase {
  readonly tensors: number;
  readonly size: number;
}

/** Settings of a run after defaults. */
export interface BenchArgs {
  readonly quick: boolean;
  readonly sizes: readonly SizeCase[];
  readonly backends: readonly string[];
  readonly models: readonly string[];
  /** Timed blocks per contender (the median is reported). */
  readonly blocks: number;
  /** Target length of one block in ms; steps per block follow from the warm-up. */
  readonly blockMs: number;
  readonly out: string | undefined;
  /** Also write `docs/benchmarks.md` from this run. */
  readonly writeDocs: boolean;
}

export const USAGE = `usage: npm run bench -- [flags]

  --quick              small sizes and few short blocks (checks the harness, ~1 min)
  --sizes LIST         parameter layouts: N (one tensor of N floats) or KxN (K tensors of N);
                       default 1e4,1e5,1e6,1e7,100x1e4 (quick: 1e4,1e5,10x1e4)
  --backends LIST      default cpu,wasm
  --models LIST        whole-training-step models: mlp,cnn or none; default mlp,cnn (quick: mlp)
  --blocks N           timed blocks per contender; default 7 (quick 3)
  --block-ms N         target length of one block in ms; default 200 (quick 20)
  --out DIR            where bench.json and bench.md go; default packages/bench/results
  --write-docs         also write docs/benchmarks.md from this run
  --help`;

const FULL_SIZES = '1e4,1e5,1e6,1e7,100x1e4';
const QUICK_SIZES = '1e4,1e5,10x1e4';

/** Parse `N` or `KxN` (numbers in any JS notation, e.g. `1e6`) into a layout. */
export function parseSize(text: string): SizeCase {
  const [a, b, ...rest] = text.split('x');
  const tensors = b === undefined ? 1 : Number(a);
  const size = Number(b ?? a);
  if (rest.length > 0 || !Number.isInteger(tensors) || !Number.isInteger(size)) {
    throw new Error(`--sizes: "${text}" is not N or KxN with integers (e.g. 1e6 or 100x1e4)`);
  }
  if (tensors < 1 || size < 1) throw new Error(`--sizes: "${text}" must be at least 1x1`);
  return { tensors, size };
}

function positiveInteger(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${flag}: expected an integer >= 1, got "${value}"`);
  return n;
}

const list = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** Parse the flags; throws with the offending flag named. Returns `undefined` for `--help`. */
export function parseArgs(argv: readonly string[]): BenchArgs | undefined {
  let quick = false;
  let writeDocs = false;
  const given: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    if (flag === '--help' || flag === '-h') return undefined;
    if (flag === '--quick') quick = true;
    else if (flag === '--write-docs') writeDocs = true;
    else if (
      ['--sizes', '--backends', '--models', '--blocks', '--block-ms', '--out'].includes(flag)
    ) {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw new Error(`${flag}: missing value`);
      given[flag] = value;
      i++;
    } else throw new Error(`unknown flag "${flag}"; see --help`);
  }
  const sizes = list(given['--sizes'] ?? (quick ? QUICK_SIZES : FULL_SIZES)).map(parseSize);
  const backends = list(given['--backends'] ?? 'cpu,wasm');
  for (const b of backends) {
    if (b !== 'cpu' && b !== 'wasm') throw new Error(`--backends: "${b}" is not cpu or wasm`);
  }
  const modelList = list(given['--models'] ?? (quick ? 'mlp' : 'mlp,cnn'));
  const models = modelList.length === 1 && modelList[0] === 'none' ? [] : modelList;
  for (const m of models) {
    if (m !== 'mlp' && m !== 'cnn') throw new Error(`--models: "${m}" is not mlp, cnn or none`);
  }
  return {
    quick,
    sizes,
    backends,
    models,
    blocks: positiveInteger('--blocks', given['--blocks'] ?? (quick ? '3' : '7')),
    blockMs: positiveInteger('--block-ms', given['--block-ms'] ?? (quick ? '20' : '200')),
    out: given['--out'],
    writeDocs,
  };
}

/** A layout's label: `1 × 1e6`, `100 × 1e4`. */
export function sizeLabel({ tensors, size }: SizeCase): string {
  return `${tensors} × ${formatCount(size)}`;
}

/** `1e6` for powers of ten, the plain number otherwise. */
export function formatCount(n: number): string {
  const exponent = Math.log10(n);
  return Number.isInteger(exponent) && exponent >= 3 ? `1e${exponent}` : String(n);
}
