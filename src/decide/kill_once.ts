/**
 * Kill-once bookkeeping: the pods the agent deleted or evicted, by UID, until their cgroup
 * is gone. A pod acted on is never acted on again while it terminates, even when the API's
 * list is stale and still shows it without a deletionTimestamp; one that outlives its
 * deadline is reported as stuck, once, and still not acted on again. Pure: time comes in
 * as monotonic milliseconds.
 */

/** One pod the agent acted on. */
export interface ActedPod {
  /** `metadata.uid` (for ordinary pods also the UID in the cgroup path). */
  readonly uid: string;
  /** `namespace/name`, for the log. */
  readonly name: string;
  /** What was done to it. */
  readonly action: "delete" | "evict";
  /** When (monotonic ms). */
  readonly atMs: number;
  /** Still there this long after the action → stuck terminating, ms. */
  readonly stuckAfterMs: number;
  /** True once "stuck terminating" was reported (it is reported once). */
  readonly stuckReported: boolean;
}

export interface KillOnceState {
  /** Pods acted on whose cgroup was still there at the last scan, by UID. */
  readonly acted: ReadonlyMap<string, ActedPod>;
}

export const INITIAL_KILL_ONCE_STATE: KillOnceState = { acted: new Map() };

/** What happened to a pod, for {@linkcode recordAction}. */
export interface Action {
  readonly uid: string;
  readonly name: string;
  readonly action: "delete" | "evict";
  /** Monotonic ms. */
  readonly atMs: number;
  /** The pod's `terminationGracePeriodSeconds`; null: the Kubernetes default of 30 s. */
  readonly gracePeriodSeconds: number | null;
}

/** Slack on top of the grace period before a pod counts as stuck (kubelet sync, cgroup removal), ms. */
export const STUCK_SLACK_MS = 10_000;

/** Kubernetes' default `terminationGracePeriodSeconds`. */
const DEFAULT_GRACE_SECONDS = 30;

/**
 * Records an action. The pod counts as stuck when it is still there after the cooldown or
 * after its own grace period plus {@linkcode STUCK_SLACK_MS}, whichever is later: a pod
 * with a long grace period is not stuck while it shuts down as asked.
 */
export function recordAction(
  state: KillOnceState,
  action: Action,
  cooldownPeriodMs: number,
): KillOnceState {
  const graceMs = (action.gracePeriodSeconds ?? DEFAULT_GRACE_SECONDS) * 1000;
  const acted = new Map(state.acted);
  acted.set(action.uid, {
    uid: action.uid,
    name: action.name,
    action: action.action,
    atMs: action.atMs,
    stuckAfterMs: Math.max(cooldownPeriodMs, graceMs + STUCK_SLACK_MS),
    stuckReported: false,
  });
  return { acted };
}

/** The UIDs the agent must not act on again. */
export function actedOnUids(state: KillOnceState): ReadonlySet<string> {
  return new Set(state.acted.keys());
}

/**
 * After a pod scan: forgets pods whose cgroup is gone (`present` lacks their UID) and
 * returns the pods still there past their deadline that were not reported yet, marking
 * them reported. `present` must hold every pod cgroup the scan saw, those it could not
 * read included; pass null when the walk itself failed (nothing is forgotten then).
 */
export function reviewActed(
  state: KillOnceState,
  present: ReadonlySet<string> | null,
  nowMs: number,
): { readonly state: KillOnceState; readonly stuck: readonly ActedPod[] } {
  if (state.acted.size === 0) return { state, stuck: [] };
  const acted = new Map<string, ActedPod>();
  const stuck: ActedPod[] = [];
  for (const [uid, pod] of state.acted) {
    if (present !== null && !present.has(uid)) continue;
    if (present !== null && !pod.stuckReported && nowMs - pod.atMs >= pod.stuckAfterMs) {
      const reported = { ...pod, stuckReported: true };
      stuck.push(reported);
      acted.set(uid, reported);
    } else acted.set(uid, pod);
  }
  const unchanged = acted.size === state.acted.size && stuck.length === 0;
  return { state: unchanged ? state : { acted }, stuck };
}

/**
 * Forgets one pod: a write whose outcome was unknown turned out not to have happened (the
 * same pod still runs), so it may be chosen again.
 */
export function forgetAction(state: KillOnceState, uid: string): KillOnceState {
  if (!state.acted.has(uid)) return state;
  const acted = new Map(state.acted);
  acted.delete(uid);
  return { acted };
}
