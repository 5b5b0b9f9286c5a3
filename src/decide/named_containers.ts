/** Containers by the names the API gives them: the per-container metrics' and warnings' labels. */
import type { NamedContainer } from "./decision.ts";
import type { ContainerHeadroom } from "./headroom.ts";
import type { PodMeta } from "./pod_meta.ts";

/** A container's name as the API lists it, or the first 12 characters of its ID. */
export function containerName(pod: PodMeta, containerId: string): string {
  return pod.containerNames?.[containerId] ?? containerId.slice(0, 12);
}

/** The containers with swap in use whose pod is known (`podOf`, from the agent's LISTs). */
export function nameContainers(
  containers: readonly ContainerHeadroom[],
  podOf: (uid: string) => PodMeta | undefined,
): NamedContainer[] {
  const named: NamedContainer[] = [];
  for (const headroom of containers) {
    if (headroom.swapBytes <= 0) continue;
    const pod = podOf(headroom.podUid);
    if (pod === undefined) continue;
    const container = containerName(pod, headroom.containerId);
    named.push({ namespace: pod.namespace, pod: pod.name, container, headroom });
  }
  return named;
}
