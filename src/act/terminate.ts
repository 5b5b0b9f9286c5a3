/**
 * Carries out a termination: re-check the victim's cgroup first (it may have recovered
 * or gone since the scan), then DELETE or evict with the uid precondition, or only say
 * what would happen in dry-run.
 */
import type { Config } from "../config.ts";
import type { Candidate } from "../decide/select.ts";
import type { NodeSensor } from "../sense/node_sensor.ts";
import type { Logger } from "../observe/log.ts";
import { markDisruptionTarget } from "./disruption_target.ts";
import type { KubeApi } from "./kube_client.ts";

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

export interface TerminateDeps {
  readonly sensor: NodeSensor;
  readonly kube: KubeApi;
  /** Where a failed DisruptionTarget patch is reported (the agent's deps carry both). */
  readonly log?: Logger;
  readonly clock?: { wallTime(): Date };
}

/** How to terminate: dry-run or not, DELETE or the Eviction API. */
export interface TerminateHow {
  readonly dryRun: boolean;
  readonly mode: Config["terminationMode"];
  /** The rule that fired, for the DisruptionTarget condition's message. */
  readonly trigger?: string;
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

/** Re-checks and terminates one victim (which must carry its API pod). */
export async function terminate(
  victim: Candidate,
  how: TerminateHow,
  deps: TerminateDeps,
): Promise<Outcome> {
  const pod = victim.pod;
  if (pod === null) return { kind: "skipped", why: "the pod is unknown to the API" };

  const recheck = await deps.sensor.recheckSwapBytes(victim.stats.cgroupPath);
  if (recheck === "gone") return { kind: "skipped", why: "its cgroup is gone" };
  if (recheck === 0) return { kind: "skipped", why: "its swap dropped to 0 bytes" };

  if (how.dryRun) return { kind: "dry-run" };

  const ref = { namespace: pod.namespace, name: pod.name, uid: pod.uid };
  // Delete mode: mark the pod DisruptionTarget first (the Eviction API does that itself).
  if (how.mode === "delete") await markDisruptionTarget(victim, ref, how.trigger, deps);
  const result = how.mode === "evict"
    ? await deps.kube.evictPod(ref)
    : await deps.kube.deletePod(ref);
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
