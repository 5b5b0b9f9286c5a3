/** Identifies one pod incarnation: a re-created pod of the same name has another uid. */
export interface PodRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

/** What the agent knows of a pod from the Kubernetes API (mapped from a V1Pod by act/). */
export interface PodMeta {
  /** `metadata.uid`. */
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  /** `spec.nodeName`. */
  readonly nodeName: string;
  /** True when `metadata.deletionTimestamp` is set: the pod is already terminating. */
  readonly terminating: boolean;
  /**
   * For a mirror pod, the static pod's UID (the `kubernetes.io/config.mirror`
   * annotation), which is the UID in its cgroup path; null for ordinary pods.
   */
  readonly mirrorOfUid: string | null;
  /** `spec.priority`; null when unset. */
  readonly priority: number | null;
  /** `spec.terminationGracePeriodSeconds`; null when unset (Kubernetes default 30 s). */
  readonly terminationGracePeriodSeconds: number | null;
  /** `metadata.annotations`. */
  readonly annotations: Readonly<Record<string, string>>;
  /** `metadata.labels` (for `--pod-selector`); absent: none. */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Container names by container ID as the cgroup names it (`status.containerStatuses`,
   * the ID without its `containerd://` scheme); absent: not known.
   */
  readonly containerNames?: Readonly<Record<string, string>>;
}

/**
 * A mirror pod whose claimed static pod UID the API already lists as another pod's own
 * `metadata.uid` (or that a mirror pod listed earlier already claims): the claim is ignored.
 */
export interface MirrorConflict {
  /** The pod whose `kubernetes.io/config.mirror` names a taken UID. */
  readonly claimant: PodMeta;
  /** The pod listed under that UID, which keeps it. */
  readonly holder: PodMeta;
}

/** The node's pods by the UID their cgroup carries, and the mirror claims that were ignored. */
export interface PodIndex {
  readonly byUid: ReadonlyMap<string, PodMeta>;
  readonly conflicts: readonly MirrorConflict[];
}

/**
 * The node's pods by cgroup UID: each pod under its own `metadata.uid`, and a mirror pod
 * also under its static pod's UID (the UID in the static pod's cgroup path). A pod's own UID
 * always wins: a mirror claim never replaces a pod the API lists under that UID (a tenant
 * could otherwise hide its memory hog behind a decoy "mirror" of it), nor an earlier claim.
 */
export function indexByCgroupUid(pods: readonly PodMeta[]): PodIndex {
  const byUid = new Map<string, PodMeta>();
  for (const pod of pods) if (!byUid.has(pod.uid)) byUid.set(pod.uid, pod);
  const conflicts: MirrorConflict[] = [];
  for (const pod of pods) {
    if (pod.mirrorOfUid === null) continue;
    const holder = byUid.get(pod.mirrorOfUid);
    if (holder === undefined) byUid.set(pod.mirrorOfUid, pod);
    else if (holder !== pod) conflicts.push({ claimant: pod, holder });
  }
  return { byUid, conflicts };
}
