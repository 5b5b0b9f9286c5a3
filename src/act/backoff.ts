/**
 * Backing off after failed API calls: a streak of failures of one kind of call, and the
 * delay before the next (exponential, jittered, at least the server's Retry-After). The
 * randomness comes in as a function; no clock is read here.
 */

/** Nominal backoff ceiling after repeated API failures, ms. */
const MAX_BACKOFF_MS = 64_000;
/** The longest Retry-After honoured, ms (a longer one is cut to this). */
const MAX_RETRY_AFTER_MS = 300_000;

/** How a streak of failures ended: for the summary line. */
export interface StreakSummary {
  readonly failedCalls: number;
  /** From the first failure to the call that worked, s. */
  readonly seconds: number;
  readonly lastError: string;
}

/** Failures in a row of one kind of API call. */
export class FailureStreak {
  failures = 0;
  startMs = 0;
  retryAtMs = -Infinity;
  lastError = "";

  /** Counts one failure; the next call waits `delayMs`. Returns `delayMs`. */
  failed(error: string, nowMs: number, delayMs: number): number {
    if (this.failures === 0) this.startMs = nowMs;
    this.failures++;
    this.lastError = error;
    this.retryAtMs = nowMs + delayMs;
    return delayMs;
  }

  /** A call of this kind worked: the streak before it (null when there was none), reset. */
  ended(nowMs: number): StreakSummary | null {
    if (this.failures === 0) return null;
    const summary = {
      failedCalls: this.failures,
      seconds: Math.round((nowMs - this.startMs) / 1000),
      lastError: this.lastError,
    };
    this.failures = 0;
    this.retryAtMs = -Infinity;
    this.lastError = "";
    return summary;
  }
}

/**
 * The delay after one more failure of `streak`: the poll interval doubled per failure in
 * the streak (at most 64 s), times a jitter in [0.5, 1), never under one poll interval; at
 * least the server's Retry-After (honoured up to 5 minutes).
 */
export function backoffMs(
  streak: FailureStreak,
  retryAfterMs: number | null,
  pollMs: number,
  random: () => number,
): number {
  const nominalMs = Math.min(MAX_BACKOFF_MS, pollMs * 2 ** streak.failures);
  const jittered = Math.max(pollMs, nominalMs * (0.5 + 0.5 * random()));
  return retryAfterMs === null
    ? jittered
    : Math.max(jittered, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS));
}
