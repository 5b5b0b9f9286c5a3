/**
 * The deadline of `--termination-mode=evict`: while every candidate's eviction is blocked
 * (a PodDisruptionBudget answers 429) the agent keeps trying on later ticks; after
 * `--evict-fallback-after` of continuous pressure it DELETEs the top candidate. Pure.
 */

export interface EvictFallbackState {
  /** When a round first found every candidate blocked (monotonic ms); null when not blocked. */
  readonly blockedSinceMs: number | null;
}

export const NOT_BLOCKED: EvictFallbackState = { blockedSinceMs: null };

/**
 * How a tick ended for the fallback clock:
 * - `all-blocked`: a trigger fired and every candidate's eviction was blocked;
 * - `acted`: something was evicted or deleted (or would have been, in dry-run);
 * - `no-pressure`: pods were scanned and no trigger fired;
 * - `inconclusive`: anything else (API errors, a re-check skip, no scan this tick).
 */
export type RoundEnd = "all-blocked" | "acted" | "no-pressure" | "inconclusive";

/** The clock after a tick: starts at the first all-blocked round, stops with the pressure. */
export function afterRound(
  state: EvictFallbackState,
  end: RoundEnd,
  nowMs: number,
): EvictFallbackState {
  switch (end) {
    case "all-blocked":
      return state.blockedSinceMs === null ? { blockedSinceMs: nowMs } : state;
    case "acted":
    case "no-pressure":
      return state.blockedSinceMs === null ? state : NOT_BLOCKED;
    case "inconclusive":
      return state;
  }
}

/** How long every candidate has been blocked, ms (0 when not blocked). */
export function blockedForMs(state: EvictFallbackState, nowMs: number): number {
  return state.blockedSinceMs === null ? 0 : Math.max(0, nowMs - state.blockedSinceMs);
}

/**
 * True when a round that found every candidate blocked at `nowMs` must fall back to
 * DELETE: blocked for at least `fallbackAfterMs` already (0 turns the fallback off).
 */
export function fallbackDue(
  state: EvictFallbackState,
  nowMs: number,
  fallbackAfterMs: number,
): boolean {
  return fallbackAfterMs > 0 && state.blockedSinceMs !== null &&
    nowMs - state.blockedSinceMs >= fallbackAfterMs;
}
