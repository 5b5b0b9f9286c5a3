/**
 * One vocabulary for what a termination came to: the API client's answer
 * (`DeleteResult`/`EvictResult`) becomes an {@linkcode Outcome}, and every reader (the
 * loop's bookkeeping, the decision log, the Event, the metrics, replay) reads its words
 * from here instead of spelling its own. Pure.
 */
import type { DeleteResult, EvictResult } from "./kube_client.ts";

/** What the action came to. */
export type Outcome =
  /**
   * The API accepted the DELETE: the pod gets SIGTERM and its own grace period. `fallback`:
   * sent in evict mode because every eviction stayed blocked past `--evict-fallback-after`.
   */
  | { readonly kind: "deleted"; readonly code: number; readonly fallback?: boolean }
  /** The API accepted the eviction: as deleted, after the PodDisruptionBudgets allowed it. */
  | { readonly kind: "evicted"; readonly code: number }
  /** The Eviction API refused this pod now (429: a PodDisruptionBudget; 500: several). */
  | { readonly kind: "blocked"; readonly code: number; readonly message: string }
  /** Dry run: nothing destructive was sent. */
  | { readonly kind: "dry-run" }
  /** The re-check found nothing to do. */
  | { readonly kind: "skipped"; readonly why: string }
  /** 404: the pod was already gone. */
  | { readonly kind: "gone" }
  /** 409: the name now belongs to a new pod, which is left alone. */
  | { readonly kind: "conflict"; readonly message: string }
  /**
   * The server may have acted (a 5xx, a timeout or a lost connection after sending, an odd
   * 2xx): counted as possibly done, so the cooldown starts and the pod is read back later.
   */
  | { readonly kind: "unknown"; readonly code: number | null; readonly message: string }
  /** Refused outright (4xx, or nothing was sent); the loop goes on, after Retry-After if any. */
  | {
    readonly kind: "failed";
    readonly code: number | null;
    readonly message: string;
    readonly retryAfterMs?: number;
  };

/** What became of one Event: counted in `soomkiller_events_total{result}`. */
export type EventResult = "sent" | "failed";

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

/** True when the outcome is a known action (logged as one, with an Event). */
export function isAction(outcome: Outcome): boolean {
  return outcome.kind === "deleted" || outcome.kind === "evicted" || outcome.kind === "dry-run";
}

/**
 * True when the outcome starts the cooldown: a known action, or a write whose outcome is
 * unknown (it may have happened: never try another pod right after it).
 */
export function startsCooldown(outcome: Outcome): boolean {
  return isAction(outcome) || outcome.kind === "unknown";
}

/** True when a DELETE or eviction went out and may have taken effect (kill-once records it). */
export function mayHaveWritten(outcome: Outcome): boolean {
  return outcome.kind === "deleted" || outcome.kind === "evicted" || outcome.kind === "unknown";
}

/**
 * True when the API answered the write, whatever it said (a streak of refused writes ends);
 * false for a refusal, a write whose answer was lost, and when nothing was sent.
 */
export function apiAnswered(outcome: Outcome): boolean {
  return outcome.kind !== "failed" && outcome.kind !== "skipped" &&
    outcome.kind !== "dry-run" && outcome.kind !== "unknown";
}

/** A DELETE sent because every eviction stayed blocked past `--evict-fallback-after`. */
export function isFallbackDelete(outcome: Outcome): boolean {
  return outcome.kind === "deleted" && outcome.fallback === true;
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

/**
 * What kill-once records for a write that may have happened: an eviction, or a write of
 * unknown outcome sent in evict mode (not the fallback DELETE); a DELETE otherwise.
 */
export function writtenAction(
  outcome: Outcome,
  terminationMode: "delete" | "evict",
  fellBack: boolean,
): "delete" | "evict" {
  return outcome.kind === "evicted" ||
      (outcome.kind === "unknown" && terminationMode === "evict" && !fellBack)
    ? "evict"
    : "delete";
}
