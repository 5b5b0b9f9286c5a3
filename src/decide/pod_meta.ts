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
