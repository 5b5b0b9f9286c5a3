/**
 * Liveness and readiness, on the monotonic clock so a test can drive them.
 *
 * - Live: the loop is alive. Between ticks, a tick must finish within 3 poll intervals (a
 *   tick waits at most one interval between ticks; more than three means it is stuck).
 *   While a tick is in progress it may wait on the API, every call bounded by its timeout:
 *   it is stalled only past {@linkcode TICK_IN_PROGRESS_ALLOWANCE_MS} more, so a hung API
 *   server never gets a healthy agent restarted. A frozen event loop answers no probe.
 * - Ready: one swap sample has been read and one API call has succeeded. Readiness stays
 *   once reached: a later API outage is the loop's to report, not a reason to drop the pod
 *   from endpoints.
 */
import type { Clock } from "../clock.ts";
import { API_TIMEOUT_MS } from "../config.ts";

/** A probe's answer: HTTP 200 when `ok`, 503 otherwise, with `detail` as the body. */
export interface ProbeResult {
  readonly ok: boolean;
  readonly detail: string;
}

/** Poll intervals without a finished tick before the loop counts as stalled. */
export const STALL_INTERVALS = 3;

/**
 * Extra time a tick in progress may take, ms: its API calls in a row (LIST, a DELETE or
 * evictions of a few candidates, an Event, a read-back), each bounded by API_TIMEOUT_MS.
 */
export const TICK_IN_PROGRESS_ALLOWANCE_MS = 12 * API_TIMEOUT_MS;

export class Health {
  readonly #clock: Clock;
  readonly #stallLimitMs: number;
  /** When the last tick finished, or when watching began (monotonic ms). */
  #lastTickMs: number;
  #sampled = false;
  /** True while a tick runs (it may be waiting on the API). */
  #inTick = false;
  #apiReachable = false;

  constructor(clock: Clock, pollIntervalMs: number) {
    this.#clock = clock;
    this.#stallLimitMs = STALL_INTERVALS * pollIntervalMs;
    this.#lastTickMs = clock.monotonicMs();
  }

  /** A tick began. */
  tickStarted(): void {
    this.#inTick = true;
  }

  /** A tick finished; `sampled` when it read the swap counters. */
  tickDone(sampled: boolean): void {
    this.#inTick = false;
    this.#lastTickMs = this.#clock.monotonicMs();
    if (sampled) this.#sampled = true;
  }

  /** The startup connectivity check succeeded. */
  apiReachable(): void {
    this.#apiReachable = true;
  }

  /** For `/healthz`. */
  liveness(): ProbeResult {
    const sinceMs = this.#clock.monotonicMs() - this.#lastTickMs;
    const limitMs = this.#stallLimitMs + (this.#inTick ? TICK_IN_PROGRESS_ALLOWANCE_MS : 0);
    if (sinceMs > limitMs) {
      return {
        ok: false,
        detail: `stalled: no tick for ${formatSeconds(sinceMs)} ` +
          `(limit ${formatSeconds(limitMs)}, ${STALL_INTERVALS} poll intervals` +
          `${this.#inTick ? " + the API time of a tick in progress" : ""})`,
      };
    }
    return { ok: true, detail: "ok" };
  }

  /** For `/readyz`. */
  readiness(): ProbeResult {
    const missing: string[] = [];
    if (!this.#sampled) missing.push("no swap sample read yet");
    if (!this.#apiReachable) missing.push("the API server has not answered yet");
    return missing.length === 0
      ? { ok: true, detail: "ok" }
      : { ok: false, detail: `not ready: ${missing.join("; ")}` };
  }
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}
