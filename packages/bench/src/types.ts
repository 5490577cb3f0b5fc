/**
 * The shape of one benchmark run as written to `bench.json`: everything the
 * markdown report, the targets and `docs/benchmarks.md` are rendered from.
 */

/** How an optimizer step ran: tf.train's own optimizer, or tfopt's two paths. */
export type StepPath = 'tf.train' | 'fused' | 'composable';

/** The machine and software the run measured. */
export interface Machine {
  readonly os: string;
  readonly cpuModel: string;
  readonly cpuCount: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly tfjs: string;
  readonly backends: readonly string[];
}

/** Copy bandwidth of the machine: a large `Float32Array.set`, bytes read plus written per second. */
export interface CopyBandwidth {
  /** Size of the copied array in bytes. */
  readonly arrayBytes: number;
  /** Median over all copies, in GB/s (1e9 bytes). */
  readonly gbPerSec: number;
  /** Every copy's rate, in GB/s, in the order measured (some at the start, some at the end). */
  readonly samples: readonly number[];
}

/** Median and spread of the blocks of one contender. */
export interface Timing {
  /** Median over the timed blocks of the block's milliseconds per step. */
  readonly msPerStep: number;
  /** Each block's milliseconds per step, in block order. */
  readonly blockMs: readonly number[];
  readonly stepsPerBlock: number;
  /** `tf.memory().numTensors` gained over all timed steps (0 when nothing leaks). */
  readonly tensorGrowth: number;
}

/** One contender of the optimizer-step benchmark on one case. */
export interface StepRow extends Timing {
  readonly backend: string;
  /** The parameter layout, e.g. `1 × 1e6` or `100 × 1e4`. */
  readonly case: string;
  readonly params: number;
  readonly tensors: number;
  /** Contenders of one group are timed interleaved and compared with each other only. */
  readonly group: string;
  readonly optimizer: string;
  readonly path: StepPath;
  /** The group's tf.train optimizer, which `ratio` divides by. */
  readonly reference: string;
  /** `msPerStep / reference's msPerStep` (below 1: faster than tf.train). */
  readonly ratio: number;
  /** Bytes per parameter the step must read and write (see `traffic.ts`). */
  readonly bytesPerParam: number;
  /** `bytesPerParam · params / time`, in GB/s. */
  readonly gbPerSec: number;
  /** `gbPerSec` over the copy bandwidth. */
  readonly fractionOfCopy: number;
  /** Optimizer state in bytes per parameter: its distinct buffers (tf.train: `tf.memory().numBytes`). */
  readonly stateBytesPerParam: number;
}

/** One contender of the whole-training-step benchmark. */
export interface TrainRow extends Timing {
  readonly backend: string;
  readonly model: string;
  readonly description: string;
  readonly params: number;
  readonly batchSize: number;
  readonly optimizer: string;
  readonly path: StepPath;
  /** `msPerStep` over adam's on the same path (tf.train.adam: over fused adam). */
  readonly ratioVsAdam: number;
}

/** Whether a target was met, with the number it was judged on. */
export type TargetStatus = 'MET' | 'NOT MET' | 'NOT MEASURED';

/** One target and its verdict. */
export interface TargetRow {
  readonly target: string;
  readonly backend: string;
  /** What the measured value is, e.g. `tf.train.adam / adam`. */
  readonly measure: string;
  readonly value: number | null;
  /** The bound, e.g. `>= 20`. */
  readonly bound: string;
  readonly status: TargetStatus;
}

/** A whole run. */
export interface BenchResult {
  readonly version: 1;
  readonly startedAt: string;
  readonly durationSec: number;
  readonly quick: boolean;
  /** The command-line flags after defaults. */
  readonly settings: Readonly<Record<string, unknown>>;
  readonly machine: Machine;
  /** Each optimizer's settings, by name. */
  readonly optimizers: Readonly<Record<string, string>>;
  /** True when this build of `stepVariables` has the `fused` option; otherwise fused rows ran composable. */
  readonly fusedAvailable: boolean;
  readonly bandwidth: CopyBandwidth;
  readonly steps: readonly StepRow[];
  readonly training: readonly TrainRow[];
  readonly targets: readonly TargetRow[];
  readonly notes: readonly string[];
}
