/**
 * What a termination came to ({@linkcode Outcome}) and the words the loop's bookkeeping
 * reads from it (cooldown, kill-once): decide/'s own vocabulary, below act/ (which maps the
 * API client's answers to it, act/outcome.ts) and observe/. Pure, types and predicates only.
 */

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

/** A DELETE sent because every eviction stayed blocked past `--evict-fallback-after`. */
export function isFallbackDelete(outcome: Outcome): boolean {
  return outcome.kind === "deleted" && outcome.fallback === true;
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
