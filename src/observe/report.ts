/**
 * The periodic summary line (`--report-interval`): what the loop saw and did over the last
 * interval. Pure: fed one tick report at a time with the monotonic time, it hands back a
 * summary once the interval is over and starts the next.
 */
import type { TickReport } from "../decide/decision.ts";

/** One interval in figures; rates are null when no rate was measured. */
export interface IntervalSummary {
  /** Length of the interval, seconds (monotonic). */
  readonly intervalSeconds: number;
  /** Ticks that finished in the interval. */
  readonly ticks: number;
  /** Ticks whose swap counters could not be read. */
  readonly failedSamples: number;
  readonly rateMinPagesPerSecond: number | null;
  readonly rateMedianPagesPerSecond: number | null;
  readonly rateMaxPagesPerSecond: number | null;
  /** Ticks that scanned the pod cgroups (the window was full). */
  readonly scans: number;
  /** Most candidates seen in one scan. */
  readonly candidatesMax: number;
  /** Actions by outcome (`deleted`, `dry-run`, `skipped`, `failed`, …). */
  readonly actions: Readonly<Record<string, number>>;
}

export class ReportAccumulator {
  readonly #intervalMs: number;
  #startMs: number;
  #ticks = 0;
  #failedSamples = 0;
  #rates: number[] = [];
  #scans = 0;
  #candidatesMax = 0;
  #actions: Record<string, number> = {};

  /** `intervalMs` > 0; `startMs` is the monotonic time the first interval starts. */
  constructor(intervalMs: number, startMs: number) {
    this.#intervalMs = intervalMs;
    this.#startMs = startMs;
  }

  /** Adds one tick; returns the summary when the interval is over, else null. */
  add(report: TickReport, nowMs: number): IntervalSummary | null {
    this.#ticks++;
    if (report.observation === null) this.#failedSamples++;
    else {
      const rate = report.observation.reading.ratePagesPerSecond;
      if (rate !== null) this.#rates.push(rate);
    }
    if (report.selection !== undefined) {
      this.#scans++;
      this.#candidatesMax = Math.max(this.#candidatesMax, report.selection.ranked.length);
    }
    if (report.outcome !== undefined) {
      const kind = report.outcome.kind;
      this.#actions[kind] = (this.#actions[kind] ?? 0) + 1;
    }
    if (nowMs - this.#startMs < this.#intervalMs) return null;
    return this.#flush(nowMs);
  }

  #flush(nowMs: number): IntervalSummary {
    const rates = this.#rates.sort((a, b) => a - b);
    const summary: IntervalSummary = {
      intervalSeconds: round1((nowMs - this.#startMs) / 1000),
      ticks: this.#ticks,
      failedSamples: this.#failedSamples,
      rateMinPagesPerSecond: rates.length === 0 ? null : rates[0]!,
      rateMedianPagesPerSecond: median(rates),
      rateMaxPagesPerSecond: rates.length === 0 ? null : rates[rates.length - 1]!,
      scans: this.#scans,
      candidatesMax: this.#candidatesMax,
      actions: this.#actions,
    };
    this.#startMs = nowMs;
    this.#ticks = 0;
    this.#failedSamples = 0;
    this.#rates = [];
    this.#scans = 0;
    this.#candidatesMax = 0;
    this.#actions = {};
    return summary;
  }
}

/** Median of ascending numbers; the mean of the middle two for an even count. */
export function median(sorted: readonly number[]): number | null {
  if (sorted.length === 0) return null;
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
