/**
 * The startup connectivity check behind `/readyz`: one cheap authenticated call, retried
 * with exponential backoff until it succeeds, then never again. This is the only API call
 * the agent makes while the node is calm (the loop itself calls the API only to act).
 */
import type { Clock } from "../clock.ts";
import type { Logger } from "./log.ts";

/** First retry delay, ms; doubles up to {@linkcode MAX_BACKOFF_MS}. */
export const FIRST_BACKOFF_MS = 1_000;
export const MAX_BACKOFF_MS = 60_000;

export interface ApiCheckDeps {
  readonly clock: Clock;
  readonly log: Logger;
}

/**
 * Calls `check` until it resolves or `signal` aborts. Resolves true once the check
 * succeeded, false when stopped first. Never throws.
 */
export async function checkApiUntilReachable(
  check: () => Promise<void>,
  deps: ApiCheckDeps,
  signal: AbortSignal,
): Promise<boolean> {
  let delayMs = FIRST_BACKOFF_MS;
  for (let attempt = 1; !signal.aborted; attempt++) {
    try {
      await check();
      deps.log.info("API server reachable: readiness check passed after {attempts} attempt(s)", {
        attempts: attempt,
      });
      return true;
    } catch (error) {
      if (signal.aborted) break;
      deps.log.warn(
        "API connectivity check failed (attempt {attempt}), retrying in {retrySeconds} s: {error}",
        {
          attempt,
          retrySeconds: delayMs / 1000,
          error: error instanceof Error ? error.message : String(error),
        },
      );
    }
    await deps.clock.sleep(delayMs, signal);
    delayMs = Math.min(delayMs * 2, MAX_BACKOFF_MS);
  }
  return false;
}
