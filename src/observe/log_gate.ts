/**
 * Throttling of repeated log lines (the same failure, the same pod passed over): time comes
 * in as monotonic ms from the caller's injected clock, never read here.
 */

/** A repeated log line (the same failure, the same pod passed over) at most this often, ms. */
export const REPEAT_LOG_INTERVAL_MS = 60_000;
/** Keys a gate remembers before it starts afresh (a bound on its memory). */
const MAX_GATE_KEYS = 1_000;

/** Throttling of repeated lines by key: each may be logged once per interval. */
export class LogGate {
  readonly #intervalMs: number;
  /** When each key may be logged again (monotonic ms). */
  readonly #until = new Map<string, number>();

  constructor(intervalMs: number = REPEAT_LOG_INTERVAL_MS) {
    this.#intervalMs = intervalMs;
  }

  /** True when the line `key` may be logged now (then not again for the interval). */
  allows(key: string, nowMs: number): boolean {
    const until = this.#until.get(key);
    if (until !== undefined && nowMs < until) return false;
    if (this.#until.size >= MAX_GATE_KEYS) this.#until.clear();
    this.#until.set(key, nowMs + this.#intervalMs);
    return true;
  }

  /** The condition behind `key` ended: its next occurrence is logged at once. */
  reopen(key: string): void {
    this.#until.delete(key);
  }
}
