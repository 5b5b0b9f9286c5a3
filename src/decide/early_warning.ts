/**
 * The early warning: which pods to warn, once per episode, because a container's swap is
 * projected to reach its limit within the look-ahead (well before the headroom trigger's
 * grace period plus margin). Built on the headroom estimator's interface only
 * (`ContainerHeadroom`), never its internals. Pure.
 */
import type { ContainerHeadroom } from "./headroom.ts";

/** Where a container's swap is heading, as the estimator sees it. */
export type HeadroomCase = "growing" | "levelling off" | "flat";

/** The case of one estimate: a plateau seen, growth projected, or neither. */
export function headroomCase(container: ContainerHeadroom): HeadroomCase {
  if (container.plateauBytes !== null) return "levelling off";
  if (container.growthBytesPerSecond !== null) return "growing";
  return "flat";
}

/** Pods warned in their current episode, by cgroup UID: when last seen within the look-ahead. */
export type EarlyWarningState = ReadonlyMap<string, { readonly lastSeenMs: number }>;

export const INITIAL_EARLY_WARNING_STATE: EarlyWarningState = new Map();

/**
 * A pod's episode ends once none of its containers was projected within the look-ahead for
 * this long (and at least a minute): the projection of a server that churns comes and
 * goes between scans, and one episode is one Event.
 */
const MIN_QUIET_MS = 60_000;

/** One pod to warn: its most urgent container within the look-ahead. */
export interface EarlyWarning {
  readonly container: ContainerHeadroom;
}

/**
 * The pods to warn at this scan (most urgent first, one per pod), and the state that
 * remembers them. `warned` is applied by {@linkcode markWarned} once the warning went out
 * (or could not be addressed), so a pod the API could not name yet is tried again.
 */
export function dueWarnings(
  state: EarlyWarningState,
  containers: readonly ContainerHeadroom[],
  lookaheadMs: number,
  nowMs: number,
): { readonly state: EarlyWarningState; readonly due: readonly EarlyWarning[] } {
  if (lookaheadMs <= 0) return { state, due: [] };
  const within = containers
    .filter((c) => c.secondsLeft !== null && c.secondsLeft * 1000 <= lookaheadMs)
    .sort((a, b) => a.secondsLeft! - b.secondsLeft! || a.podUid.localeCompare(b.podUid));
  const quietMs = Math.max(MIN_QUIET_MS, lookaheadMs);
  const seen = new Set(containers.map((c) => c.podUid));
  const next = new Map<string, { readonly lastSeenMs: number }>();
  // Episodes go on while the pod is there and was within the look-ahead lately.
  for (const [uid, episode] of state) {
    if (seen.has(uid) && nowMs - episode.lastSeenMs <= quietMs) next.set(uid, episode);
  }
  const due: EarlyWarning[] = [];
  for (const container of within) {
    const uid = container.podUid;
    if (next.has(uid) || due.some((d) => d.container.podUid === uid)) {
      if (next.has(uid)) next.set(uid, { lastSeenMs: nowMs });
      continue;
    }
    due.push({ container });
  }
  return { state: next, due };
}

/** Remembers that `podUid` was warned (its episode starts now). */
export function markWarned(
  state: EarlyWarningState,
  podUid: string,
  nowMs: number,
): EarlyWarningState {
  return new Map(state).set(podUid, { lastSeenMs: nowMs });
}
