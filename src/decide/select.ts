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
}

/**
 * First cut, from cgroup figures alone (no API call needed): pods with swap > 0 and
 * full avg10 ≥ the threshold. Pods without swap are left out of `rejected` to keep it short.
 */
export function preselect(pods: readonly PodStats[], psiThresholdPercent: number): Selection {
  const ranked: Candidate[] = [];
  const rejected: Rejection[] = [];
  for (const stats of pods) {
    if (stats.swapCurrentBytes <= 0) continue;
    const candidate = { stats, pod: null };
    if (stats.fullAvg10Percent < psiThresholdPercent) {
      rejected.push({ candidate, reason: "below psi threshold" });
    } else ranked.push(candidate);
  }
  return { ranked: ranked.sort(compareCandidates), rejected: rejected.sort(byRejection) };
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
    candidate: { stats: candidate.stats, pod: byUid.get(candidate.stats.uid) ?? null },
    reason,
  }));
  for (const { stats } of preselected.ranked) {
    const pod = byUid.get(stats.uid) ?? null;
    const candidate = { stats, pod };
    if (pod === null) rejected.push({ candidate, reason: "unknown to the API" });
    else if (pod.terminating) rejected.push({ candidate, reason: "terminating" });
    else if (pod.mirrorOfUid !== null) {
      rejected.push({ candidate, reason: "mirror pod of a static pod" });
    } else ranked.push(candidate);
  }
  return { ranked: ranked.sort(compareCandidates), rejected: rejected.sort(byRejection) };
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

const byRejection: Comparator<Rejection> = (a, b) => compareCandidates(a.candidate, b.candidate);

/** `namespace/name` when the API named the pod, else `pod <uid>`. */
export function candidateName(candidate: Candidate): string {
  return candidate.pod
    ? `${candidate.pod.namespace}/${candidate.pod.name}`
    : `pod ${candidate.stats.uid}`;
}
