/**
 * Carries out a termination: re-check the victim's cgroup first (it may have recovered
 * or gone since the scan), then DELETE or evict with the uid precondition, or only say
 * what would happen in dry-run.
 */
import type { Config } from "../config.ts";
import type { Candidate } from "../decide/select.ts";
import type { NodeSensor } from "../sense/node_sensor.ts";
import type { Logger } from "../observe/log.ts";
import { markDisruptionTarget } from "./disruption_target.ts";
import type { KubeApi } from "./kube_client.ts";
import { type Outcome, outcomeOf } from "./outcome.ts";

export interface TerminateDeps {
  readonly sensor: NodeSensor;
  readonly kube: KubeApi;
  /** Where a failed DisruptionTarget patch is reported (the agent's deps carry both). */
  readonly log?: Logger;
  readonly clock?: { wallTime(): Date };
}

/** How to terminate: dry-run or not, DELETE or the Eviction API. */
export interface TerminateHow {
  readonly dryRun: boolean;
  readonly mode: Config["terminationMode"];
  /** The rule that fired, for the DisruptionTarget condition's message. */
  readonly trigger?: string;
}

/** Re-checks and terminates one victim (which must carry its API pod). */
export async function terminate(
  victim: Candidate,
  how: TerminateHow,
  deps: TerminateDeps,
): Promise<Outcome> {
  const pod = victim.pod;
  if (pod === null) return { kind: "skipped", why: "the pod is unknown to the API" };

  const recheck = await deps.sensor.recheckSwapBytes(victim.stats.cgroupPath);
  if (recheck === "gone") return { kind: "skipped", why: "its cgroup is gone" };
  if (recheck === 0) return { kind: "skipped", why: "its swap dropped to 0 bytes" };

  if (how.dryRun) return { kind: "dry-run" };

  const ref = { namespace: pod.namespace, name: pod.name, uid: pod.uid };
  // Delete mode: mark the pod DisruptionTarget first (the Eviction API does that itself).
  if (how.mode === "delete") await markDisruptionTarget(victim, ref, how.trigger, deps);
  const result = how.mode === "evict"
    ? await deps.kube.evictPod(ref)
    : await deps.kube.deletePod(ref);
  return outcomeOf(result);
}
