/**
 * Missed kills, counted: an increase of a pod cgroup's `memory.events` oom_kill means the
 * kernel killed something the agent did not prevent. Pure.
 */
import type { PodStats } from "../sense/pod_stats.ts";

/** Last oom_kill count per pod UID. */
export type OomWatchState = ReadonlyMap<string, number>;

export const INITIAL_OOM_WATCH_STATE: OomWatchState = new Map();

export interface KernelOomKill {
  readonly pod: PodStats;
  /** How many more oom_kill the kernel counted since the previous scan. */
  readonly newKills: number;
}

/**
 * Compares this scan with the last. A pod seen for the first time sets its baseline
 * (kills before the agent watched are not ours to count); gone pods are forgotten.
 * Note: with `memory.oom.group=1` one victim can count twice (as victim and group member).
 */
export function watchOomKills(
  state: OomWatchState,
  pods: readonly PodStats[],
): { state: OomWatchState; kills: KernelOomKill[] } {
  const next = new Map<string, number>();
  const kills: KernelOomKill[] = [];
  for (const pod of pods) {
    next.set(pod.uid, pod.oomKillCount);
    const previous = state.get(pod.uid);
    if (previous !== undefined && pod.oomKillCount > previous) {
      kills.push({ pod, newKills: pod.oomKillCount - previous });
    }
  }
  return { state: next, kills };
}
