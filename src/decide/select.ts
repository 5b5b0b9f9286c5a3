/**
 * Who is to blame: candidates from the pods' cgroup figures, matched to the API's view,
 * ranked by a chain of comparators. Pure and deterministic.
 */
import type { PodStats } from "../sense/pod_stats.ts";
import type { PodMeta } from "./pod_meta.ts";

/** A pod cgroup with its API object (null before the API was asked, or when it is unknown). */
export interface Candidate {
  readonly stats: PodStats;
  readonly pod: PodMeta | null;
  /** The pod's own swap I/O rate, pages/s, where the kernel attributes it (Linux ≥ 6.13). */
  readonly swapIoPagesPerSecond?: number;
}

/** Why a pod cgroup is not a candidate. */
export type RejectionReason =
  | "no swap in use"
  | "below psi threshold"
  | "unknown to the API"
  | "terminating"
  | "mirror pod of a static pod";

export interface Rejection {
  readonly candidate: Candidate;
  readonly reason: RejectionReason;
}

export interface Selection {
  /** Eligible pods, best victim first. */
  readonly ranked: readonly Candidate[];
  /** Pods with swap that were passed over, with the reason. */
  readonly rejected: readonly Rejection[];
  /** True when candidates were ranked by their own swap I/O rate first. */
  readonly attributed?: boolean;
}

/** How the first cut judges pods beyond swap and PSI. */
export interface PreselectOptions {
  /**
   * Each pod's own swap I/O rate, pages/s (per-cgroup `pswpin`/`pswpout`). When given,
   * candidates rank by it first, and a pod whose own rate alone exceeds
   * `attributionFloorPagesPerSecond` qualifies even below the PSI threshold: it is the one
   * making the node thrash, whatever its stall share (many-threaded servers rarely show
   * high "full" PSI).
   */
  readonly swapIoRates?: ReadonlyMap<string, number>;
  readonly attributionFloorPagesPerSecond?: number;
  /** Every pod with swap qualifies (node swap nearly exhausted: the PSI filter is waived). */
  readonly waivePsiThreshold?: boolean;
}

/**
 * First cut, from cgroup figures alone (no API call needed): pods with swap > 0 and
 * full avg10 ≥ the threshold. Pods without swap are left out of `rejected` to keep it short.
 */
export function preselect(
  pods: readonly PodStats[],
  psiThresholdPercent: number,
  options: PreselectOptions = {},
): Selection {
  const rates = options.swapIoRates;
  const floor = options.attributionFloorPagesPerSecond ?? Infinity;
  const ranked: Candidate[] = [];
  const rejected: Rejection[] = [];
  for (const stats of pods) {
    if (stats.swapCurrentBytes <= 0) continue;
    const rate = rates?.get(stats.uid);
    const candidate: Candidate = rate === undefined
      ? { stats, pod: null }
      : { stats, pod: null, swapIoPagesPerSecond: rate };
    const qualifies = options.waivePsiThreshold || stats.fullAvg10Percent >= psiThresholdPercent ||
      (rate !== undefined && rate > floor);
    if (qualifies) ranked.push(candidate);
    else rejected.push({ candidate, reason: "below psi threshold" });
  }
  const compare = rates ? compareAttributed : compareCandidates;
  return {
    ranked: ranked.sort(compare),
    rejected: rejected.sort(byRejection),
    ...(rates ? { attributed: true } : {}),
  };
}

/**
 * Second cut, with the node's pods from the API: drops pods the API does not know,
 * terminating pods and mirror pods, then ranks what is left.
 */
export function selectVictims(preselected: Selection, nodePods: readonly PodMeta[]): Selection {
  const byUid = new Map<string, PodMeta>();
  for (const pod of nodePods) {
    byUid.set(pod.uid, pod);
    // A static pod's cgroup carries its own UID; the API shows a mirror pod with another.
    if (pod.mirrorOfUid !== null) byUid.set(pod.mirrorOfUid, pod);
  }
  const ranked: Candidate[] = [];
  // Name the pods the first cut passed over too, so the log's table shows who they are.
  const rejected: Rejection[] = preselected.rejected.map(({ candidate, reason }) => ({
    candidate: { ...candidate, pod: byUid.get(candidate.stats.uid) ?? null },
    reason,
  }));
  for (const first of preselected.ranked) {
    const pod = byUid.get(first.stats.uid) ?? null;
    const candidate = { ...first, pod };
    if (pod === null) rejected.push({ candidate, reason: "unknown to the API" });
    else if (pod.terminating) rejected.push({ candidate, reason: "terminating" });
    else if (pod.mirrorOfUid !== null) {
      rejected.push({ candidate, reason: "mirror pod of a static pod" });
    } else ranked.push(candidate);
  }
  const compare = preselected.attributed ? compareAttributed : compareCandidates;
  return {
    ranked: ranked.sort(compare),
    rejected: rejected.sort(byRejection),
    ...(preselected.attributed ? { attributed: true } : {}),
  };
}

type Comparator<T> = (a: T, b: T) => number;

/** Chains comparators: the first that tells two apart decides. */
export function orderedBy<T>(...comparators: Comparator<T>[]): Comparator<T> {
  return (a, b) => {
    for (const compare of comparators) {
      const order = compare(a, b);
      if (order !== 0) return order;
    }
    return 0;
  };
}

const byFullAvg10Desc: Comparator<Candidate> = (a, b) =>
  b.stats.fullAvg10Percent - a.stats.fullAvg10Percent;
const bySwapDesc: Comparator<Candidate> = (a, b) =>
  b.stats.swapCurrentBytes - a.stats.swapCurrentBytes;
const byName: Comparator<Candidate> = (a, b) => {
  const left = candidateName(a);
  const right = candidateName(b);
  return left < right ? -1 : left > right ? 1 : 0;
};

/** Victim order: highest full avg10, then the larger swap, then the name. */
export const compareCandidates: Comparator<Candidate> = orderedBy(
  byFullAvg10Desc,
  bySwapDesc,
  byName,
);

const bySwapIoRateDesc: Comparator<Candidate> = (a, b) =>
  (b.swapIoPagesPerSecond ?? 0) - (a.swapIoPagesPerSecond ?? 0);

/** With per-pod swap I/O: the pod's own rate first, then the usual order. */
export const compareAttributed: Comparator<Candidate> = orderedBy(
  bySwapIoRateDesc,
  byFullAvg10Desc,
  bySwapDesc,
  byName,
);

const byRejection: Comparator<Rejection> = (a, b) => compareCandidates(a.candidate, b.candidate);

/** `namespace/name` when the API named the pod, else `pod <uid>`. */
export function candidateName(candidate: Candidate): string {
  return candidate.pod
    ? `${candidate.pod.namespace}/${candidate.pod.name}`
    : `pod ${candidate.stats.uid}`;
}
