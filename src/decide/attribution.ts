/**
 * Per-pod swap I/O attribution: Linux 6.13+ has `pswpin`/`pswpout` in each cgroup's
 * `memory.stat`. Where present, each pod's own swap I/O rate names the pod that makes the
 * node thrash, better than PSI can. Pure.
 */
import type { PodStats } from "../sense/pod_stats.ts";

/** Last cumulative per-pod swap I/O reading, keyed by pod UID. */
export type AttributionState = ReadonlyMap<
  string,
  { readonly atMs: number; readonly swapIoPages: number }
>;

export const INITIAL_ATTRIBUTION_STATE: AttributionState = new Map();

/**
 * Each pod's own swap I/O rate since the previous scan, pages/s. `available` is false when
 * no pod carries the counters (kernel < 6.13): the caller falls back to PSI ranking.
 */
export function attributeSwapIo(
  state: AttributionState,
  pods: readonly PodStats[],
  nowMs: number,
): { state: AttributionState; available: boolean; ratesPagesPerSecond: Map<string, number> } {
  const next = new Map<string, { atMs: number; swapIoPages: number }>();
  const rates = new Map<string, number>();
  let available = false;
  for (const pod of pods) {
    if (!pod.swapIo) continue;
    available = true;
    const swapIoPages = pod.swapIo.swapInPages + pod.swapIo.swapOutPages;
    next.set(pod.uid, { atMs: nowMs, swapIoPages });
    const previous = state.get(pod.uid);
    if (!previous || nowMs <= previous.atMs) continue;
    // Counters read at slightly different instants can step back: clamp, never negative.
    const delta = Math.max(0, swapIoPages - previous.swapIoPages);
    rates.set(pod.uid, delta / ((nowMs - previous.atMs) / 1000));
  }
  return { state: next, available, ratesPagesPerSecond: rates };
}
