/**
 * Who is to blame: candidates from the pods' cgroup figures, matched to the API's view,
 * ranked by a chain of comparators. Pure and deterministic.
 */
import type { PodStats } from "../sense/pod_stats.ts";
import { type LabelSelector, matchesLabels } from "./label_selector.ts";
import { indexByCgroupUid, type PodMeta } from "./pod_meta.ts";

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
  /** The agent's own pod (`POD_UID`, or `POD_NAMESPACE`/`POD_NAME`). */
  | "own pod"
  /** The agent deleted or evicted it before and it is still there (kill-once). */
  | "already acted on"
  | "terminating"
  /** Deleting a mirror pod does not stop its static pod: the static pod itself is the source. */
  | "mirror pod of a static pod"
  | "protected namespace"
  | "protected priority"
  /** Outside the opt-in scope: `--pod-selector` does not match its labels. */
  | "outside --pod-selector"
  /** Outside the opt-in scope: not in `--namespaces`. */
  | "outside --namespaces"
  /** `kube-soomkiller.io/exclude: "true"` on the pod. */
  | "excluded by annotation";

/** The pod annotation that opts a pod out: `kube-soomkiller.io/exclude: "true"`. */
export const EXCLUDE_ANNOTATION = "kube-soomkiller.io/exclude";

/** The agent's own pod, from `POD_UID`, `POD_NAMESPACE` and `POD_NAME` (downward API). */
export interface OwnPod {
  /** `metadata.uid`; null when `POD_UID` is unset. */
  readonly uid: string | null;
  /** `metadata.namespace`; null when `POD_NAMESPACE` is unset. */
  readonly namespace: string | null;
  /** `metadata.name`; null when `POD_NAME` is unset. */
  readonly name: string | null;
}

/** No own pod known (a bare node, or the downward API variables unset). */
export const NO_OWN_POD: OwnPod = { uid: null, namespace: null, name: null };

/** The default of `--protected-namespaces`. */
export const DEFAULT_PROTECTED_NAMESPACES: readonly string[] = ["kube-system"];
/**
 * The default of `--protected-priority`: system-cluster-critical is 2000000000,
 * system-node-critical 2000001000.
 */
export const DEFAULT_PROTECTED_PRIORITY = 2_000_000_000;

/** Who may never be chosen, whatever the ranking says. */
export interface Exclusions {
  /** Pods in these namespaces are never chosen. */
  readonly protectedNamespaces: readonly string[];
  /** Pods whose `spec.priority` is at or above this are never chosen. */
  readonly protectedPriority: number;
  /** The agent's own pod. */
  readonly ownPod: OwnPod;
  /** UIDs of pods the agent already acted on that are still there (decide/kill_once.ts). */
  readonly actedOnUids: ReadonlySet<string>;
  /** The opt-in scope: only pods whose labels match may be chosen; null or absent: all. */
  readonly podSelector?: LabelSelector | null;
  /** The opt-in scope: only pods in these namespaces may be chosen; null or absent: all. */
  readonly namespaces?: readonly string[] | null;
}

/** The defaults of `--protected-namespaces` and `--protected-priority`, nothing else. */
export const DEFAULT_EXCLUSIONS: Exclusions = {
  protectedNamespaces: DEFAULT_PROTECTED_NAMESPACES,
  protectedPriority: DEFAULT_PROTECTED_PRIORITY,
  ownPod: NO_OWN_POD,
  actedOnUids: new Set(),
};

/** The spellings of true Go's strconv.ParseBool accepts: an opt-out errs on the safe side. */
const TRUE_VALUES = new Set(["1", "t", "T", "true", "TRUE", "True"]);

/**
 * Why a pod the API knows must not be chosen, or null when it may be. `cgroupUid` is the
 * UID of the pod's cgroup (a static pod's differs from its mirror pod's `uid`).
 */
export function exclusionOf(
  pod: PodMeta,
  cgroupUid: string,
  exclusions: Exclusions,
): RejectionReason | null {
  const own = exclusions.ownPod;
  if (
    own.uid !== null && (pod.uid === own.uid || cgroupUid === own.uid) ||
    own.namespace !== null && own.name !== null && pod.namespace === own.namespace &&
      pod.name === own.name
  ) {
    return "own pod";
  }
  if (exclusions.actedOnUids.has(pod.uid) || exclusions.actedOnUids.has(cgroupUid)) {
    return "already acted on";
  }
  if (pod.terminating) return "terminating";
  // A mirror pod stands for a cgroup with another UID (its static pod's): a cgroup under the
  // pod's own UID is that pod's, whatever its annotations claim (a forged mirror pod cannot
  // exclude itself).
  if (pod.mirrorOfUid !== null && cgroupUid !== pod.uid) return "mirror pod of a static pod";
  if (exclusions.protectedNamespaces.includes(pod.namespace)) return "protected namespace";
  if (pod.priority !== null && pod.priority >= exclusions.protectedPriority) {
    return "protected priority";
  }
  if (exclusions.namespaces && !exclusions.namespaces.includes(pod.namespace)) {
    return "outside --namespaces";
  }
  if (exclusions.podSelector && !matchesLabels(exclusions.podSelector, pod.labels ?? {})) {
    return "outside --pod-selector";
  }
  const optOut = pod.annotations[EXCLUDE_ANNOTATION];
  if (optOut !== undefined && TRUE_VALUES.has(optOut.trim())) return "excluded by annotation";
  return null;
}

/** Rejections that exclude a pod the ranking wanted (not the first cut's swap/PSI filter). */
export function isExclusion(reason: RejectionReason): boolean {
  return reason !== "no swap in use" && reason !== "below psi threshold";
}

export interface Rejection {
  readonly candidate: Candidate;
  readonly reason: RejectionReason;
}

export interface Selection {
  /** Eligible pods, best victim first. */
  readonly ranked: readonly Candidate[];
  /** Pods with swap that were passed over, with the reason. */
  readonly rejected: readonly Rejection[];
  /**
   * True when candidates were ranked by their own swap I/O rate first and some candidate has
   * one above 0: with every rate 0 the usual order (PSI) chose, whatever the kernel offers.
   */
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
    ...(rates && ranksByRate(ranked) ? { attributed: true } : {}),
  };
}

/**
 * Second cut, with the node's pods from the API: drops pods the API does not know and
 * every pod `exclusions` protects (own pod, already acted on, terminating, mirror pods,
 * protected namespaces and priorities, opted-out pods), then ranks what is left.
 */
export function selectVictims(
  preselected: Selection,
  nodePods: readonly PodMeta[],
  exclusions: Exclusions = DEFAULT_EXCLUSIONS,
): Selection {
  // A static pod's cgroup carries its own UID; the API shows a mirror pod with another. A
  // mirror claim never replaces a pod listed under its own UID.
  const { byUid } = indexByCgroupUid(nodePods);
  const ranked: Candidate[] = [];
  // Name the pods the first cut passed over too, so the log's table shows who they are.
  const rejected: Rejection[] = preselected.rejected.map(({ candidate, reason }) => ({
    candidate: { ...candidate, pod: byUid.get(candidate.stats.uid) ?? null },
    reason,
  }));
  for (const first of preselected.ranked) {
    const pod = byUid.get(first.stats.uid) ?? null;
    const candidate = { ...first, pod };
    if (pod === null) {
      // Even unnamed, the agent's own cgroup is named as such.
      const own = exclusions.ownPod.uid !== null && first.stats.uid === exclusions.ownPod.uid;
      rejected.push({ candidate, reason: own ? "own pod" : "unknown to the API" });
      continue;
    }
    const reason = exclusionOf(pod, first.stats.uid, exclusions);
    if (reason === null) ranked.push(candidate);
    else rejected.push({ candidate, reason });
  }
  const compare = preselected.attributed ? compareAttributed : compareCandidates;
  return {
    ranked: ranked.sort(compare),
    rejected: rejected.sort(byRejection),
    ...(preselected.attributed && ranksByRate(ranked) ? { attributed: true } : {}),
  };
}

/** Some candidate's own swap I/O is above 0: the rates, not PSI, order the top. */
function ranksByRate(ranked: readonly Candidate[]): boolean {
  return ranked.some((c) => (c.swapIoPagesPerSecond ?? 0) > 0);
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
