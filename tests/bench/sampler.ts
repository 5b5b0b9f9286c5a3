/**
 * A small timing loop that reports medians (`deno bench --json` gives avg and p75, not the
 * median). A subject and its floor are sampled in alternating rounds, so that load from
 * elsewhere on the machine lands on both alike.
 */

/** Per-call timing of one function, from many samples. */
export interface Timing {
  /** Median time per call, microseconds. */
  readonly medianUs: number;
  /** 10th percentile per call, microseconds. */
  readonly p10Us: number;
  /** 90th percentile per call, microseconds. */
  readonly p90Us: number;
  /** Samples taken. */
  readonly samples: number;
  /** Calls per sample (fast functions are timed in batches). */
  readonly callsPerSample: number;
}

/** How long to sample. Optional fields default as in brackets. */
export interface SampleOptions {
  /** Least total time spent sampling both functions, ms [1,500]. */
  readonly minTimeMs?: number;
  /** Least samples of each function [15]. */
  readonly minSamples?: number;
  /** Most samples of each function [2,000]. */
  readonly maxSamples?: number;
  /** Least duration of one sample, µs; fast functions are batched up to it [500]. */
  readonly sampleUs?: number;
}

/** A function to time; may be async. */
export type BenchFn = () => unknown;

/** The value at quantile `q` (0–1) of sorted `values`. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

/** Time of `calls` calls of `fn`, µs. */
async function batch(fn: BenchFn, calls: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < calls; i++) {
    const result = fn();
    if (result instanceof Promise) await result;
  }
  return (performance.now() - start) * 1000;
}

/** How many calls make one sample of at least `sampleUs`, after a short warm-up. */
async function calibrate(fn: BenchFn, sampleUs: number): Promise<number> {
  let calls = 1;
  // Warm-up: at least 5 calls and 50 ms, so the JIT has seen the function.
  const warmUntil = performance.now() + 50;
  for (let i = 0; i < 5 || performance.now() < warmUntil; i++) await batch(fn, 1);
  while (calls < 1_000_000) {
    const us = await batch(fn, calls);
    if (us >= sampleUs) break;
    calls = us <= 0 ? calls * 10 : Math.max(calls + 1, Math.ceil((calls * sampleUs) / us));
  }
  return calls;
}

/** Summarises per-call samples. */
function summarise(perCallUs: number[], callsPerSample: number): Timing {
  const sorted = [...perCallUs].sort((a, b) => a - b);
  return {
    medianUs: quantile(sorted, 0.5),
    p10Us: quantile(sorted, 0.1),
    p90Us: quantile(sorted, 0.9),
    samples: sorted.length,
    callsPerSample,
  };
}

/**
 * Samples each function in `fns` in alternating rounds until `minTimeMs` has passed and
 * each has `minSamples`; returns one timing per function, in order.
 */
export async function sampleTogether(
  fns: readonly BenchFn[],
  options: SampleOptions = {},
): Promise<Timing[]> {
  const minTimeMs = options.minTimeMs ?? 1_500;
  const minSamples = options.minSamples ?? 15;
  const maxSamples = options.maxSamples ?? 2_000;
  const sampleUs = options.sampleUs ?? 500;
  const calls: number[] = [];
  for (const fn of fns) calls.push(await calibrate(fn, sampleUs));
  const samples: number[][] = fns.map(() => []);
  const start = performance.now();
  while (
    samples[0]!.length < maxSamples &&
    (samples[0]!.length < minSamples || performance.now() - start < minTimeMs)
  ) {
    for (let i = 0; i < fns.length; i++) {
      samples[i]!.push((await batch(fns[i]!, calls[i]!)) / calls[i]!);
    }
  }
  return samples.map((s, i) => summarise(s, calls[i]!));
}

/** Samples one function alone. */
export async function sample(fn: BenchFn, options: SampleOptions = {}): Promise<Timing> {
  const [timing] = await sampleTogether([fn], options);
  return timing!;
}

/** This process's CPU time (utime + stime, all threads), ms; 10 ms steps at 100 Hz. */
export function processCpuMs(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** USER_HZ: 100 on every Linux this runs on (`getconf CLK_TCK`). */
export const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU time per call of `fn`, µs, all threads of the process (an async file read also
 * costs CPU on Deno's blocking-pool threads, which wall time per call does not show).
 * Calls `fn` for at least `minTimeMs`; resolution is 10 ms over the whole run.
 */
export async function cpuPerCallUs(fn: BenchFn, minTimeMs = 1_000): Promise<number> {
  for (let i = 0; i < 3; i++) await batch(fn, 1);
  const startCpu = processCpuMs();
  const start = performance.now();
  let calls = 0;
  while (performance.now() - start < minTimeMs) {
    const result = fn();
    if (result instanceof Promise) await result;
    calls++;
  }
  return ((processCpuMs() - startCpu) * 1000) / calls;
}
