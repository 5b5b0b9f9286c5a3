/**
 * What a termination came to, as the API client's answer (`DeleteResult`/`EvictResult`)
 * becomes an {@linkcode Outcome} (whose vocabulary lives in decide/outcome.ts, below act/),
 * and the words its readers outside decide/ (the decision log, the Event, the metrics,
 * replay) take from it instead of spelling their own. Pure.
 */
import type { DeleteResult, EvictResult } from "./kube_client.ts";
import { isFallbackDelete, type Outcome } from "../decide/outcome.ts";

// The vocabulary's home is decide/outcome.ts (decide/ never imports act/); act/ and observe/
// read it from here too, with the words only they use.
export {
  type EventResult,
  isAction,
  isFallbackDelete,
  mayHaveWritten,
  type Outcome,
  startsCooldown,
  writtenAction,
} from "../decide/outcome.ts";

/** The outcome of a DELETE or an eviction the API answered (or that failed to be sent). */
export function outcomeOf(result: DeleteResult | EvictResult): Outcome {
  switch (result.kind) {
    case "deleted":
      return { kind: "deleted", code: result.code };
    case "evicted":
      return { kind: "evicted", code: result.code };
    case "blocked":
      return { kind: "blocked", code: result.code, message: result.message };
    case "gone":
      return { kind: "gone" };
    case "conflict":
      return { kind: "conflict", message: result.message };
    case "unknown":
      return { kind: "unknown", code: result.code, message: result.message };
    case "failed":
      return {
        kind: "failed",
        code: result.code,
        message: result.message,
        ...(result.retryAfterMs === undefined ? {} : { retryAfterMs: result.retryAfterMs }),
      };
  }
}

/**
 * True when the API answered the write, whatever it said (a streak of refused writes ends);
 * false for a refusal, a write whose answer was lost, and when nothing was sent.
 */
export function apiAnswered(outcome: Outcome): boolean {
  return outcome.kind !== "failed" && outcome.kind !== "skipped" &&
    outcome.kind !== "dry-run" && outcome.kind !== "unknown";
}

/** `mode` of `soomkiller_terminations_total`. */
export type TerminationMode = "delete" | "evict" | "dry_run";
/** `result` of `soomkiller_terminations_total`. */
export type TerminationResult = "success" | "blocked" | "failed" | "skipped";

/** Result label by outcome kind; by name, so that later outcome kinds slot in. */
const RESULT_BY_OUTCOME: Readonly<Record<string, TerminationResult>> = {
  "deleted": "success",
  "evicted": "success",
  "dry-run": "success",
  "blocked": "blocked",
  "skipped": "skipped",
  "gone": "skipped",
  "conflict": "skipped",
  "failed": "failed",
};

/**
 * The labels of `soomkiller_terminations_total` for one attempt; `configuredMode` names the
 * mode of outcomes that do not name one (skipped, failed).
 */
export function terminationLabels(
  outcome: Outcome,
  configuredMode: TerminationMode,
): { readonly mode: TerminationMode; readonly result: TerminationResult } {
  const kind: string = outcome.kind;
  const mode: TerminationMode = kind === "dry-run"
    ? "dry_run"
    : kind === "evicted" || kind === "blocked"
    ? "evict"
    : kind === "deleted"
    ? "delete"
    : configuredMode;
  return { mode, result: RESULT_BY_OUTCOME[kind] ?? "failed" };
}

/** The verb replay reports for an action the API took; null for anything else. */
export function replayVerb(outcome: Outcome | undefined): "delete" | "evict" | null {
  if (outcome?.kind === "evicted") return "evict";
  if (outcome?.kind === "deleted") return "delete";
  return null;
}

/** The Event's `action`: what was done, or what the configured mode would do (dry-run). */
export function eventAction(
  outcome: Outcome,
  terminationMode: "delete" | "evict" | undefined,
): "Delete" | "Evict" {
  return outcome.kind === "evicted" || (outcome.kind === "dry-run" && terminationMode === "evict")
    ? "Evict"
    : "Delete";
}

/**
 * The `action` of a decision line: `delete`/`evict` (the configured mode), `would …` in
 * dry-run, or the eviction fallback's DELETE.
 */
export function loggedAction(
  outcome: Outcome,
  how: { readonly dryRun: boolean; readonly terminationMode: "delete" | "evict" },
): string {
  const fallback = isFallbackDelete(outcome);
  const mode = fallback ? "delete" : how.terminationMode;
  return how.dryRun ? `would ${mode}` : fallback ? "delete (eviction fallback)" : mode;
}
