/**
 * The early-warning Event (`events.k8s.io/v1`, type Warning, reason `SoftOOMKillLikely`)
 * on a pod whose container is projected to reach its swap limit within the look-ahead:
 * what `kubectl describe pod` and `kubectl get events` show its owner before anything
 * happens. The same in dry-run and armed mode: it is an observation, not an action. The
 * body builder is pure; sending never throws.
 */
import type { ContainerHeadroom } from "../decide/headroom.ts";
import { headroomCase } from "../decide/early_warning.ts";
import type { RejectionReason } from "../decide/select.ts";
import {
  cryptoRandomBytes,
  type EventDeps,
  eventName,
  hex,
  MAX_NOTE_BYTES,
  microTime,
  REPORTING_CONTROLLER,
  truncateUtf8,
} from "./events.ts";
import type { PodRef } from "./kube_client.ts";
import type { EventResult } from "./outcome.ts";

/** The reason of the early-warning Event. */
export const EARLY_WARNING_REASON = "SoftOOMKillLikely";

/** What one early warning says. */
export interface EarlyWarningInput {
  readonly pod: PodRef;
  /** The container's name (or its ID when the API did not say). */
  readonly containerName: string;
  readonly headroom: ContainerHeadroom;
  /** The look-ahead it was projected within, s. */
  readonly lookaheadSeconds: number;
  /** Why the agent will not act on this pod (outside the scope, opted out …); null: it may. */
  readonly excludedBecause: RejectionReason | null;
  readonly dryRun: boolean;
  readonly nodeName: string;
  readonly at: Date;
  readonly nameSuffix: string;
}

/** The body of the early-warning Event. Pure. */
export function buildEarlyWarningEvent(input: EarlyWarningInput) {
  const { pod } = input;
  const note = earlyWarningNote(input);
  return {
    apiVersion: "events.k8s.io/v1" as const,
    kind: "Event" as const,
    metadata: { name: eventName(pod.name, input.nameSuffix), namespace: pod.namespace },
    eventTime: microTime(input.at),
    reportingController: REPORTING_CONTROLLER,
    reportingInstance: input.nodeName.slice(0, 128),
    action: "Warn",
    reason: EARLY_WARNING_REASON,
    type: "Warning" as const,
    regarding: {
      apiVersion: "v1" as const,
      kind: "Pod" as const,
      namespace: pod.namespace,
      name: pod.name,
      uid: pod.uid,
    },
    note: truncateUtf8(note, MAX_NOTE_BYTES),
  };
}

/** The note: the projection's figures, and what the agent will do about it. */
export function earlyWarningNote(input: EarlyWarningInput): string {
  const h = input.headroom;
  const curve = headroomCase(h) === "levelling off"
    ? `growing ${mib(h.growthBytesPerSecond ?? 0)}/s and levelling off at ${
      mib(h.plateauBytes!)
    }, above the limit`
    : `growing ${mib(h.growthBytesPerSecond ?? 0)}/s`;
  const what = input.excludedBecause !== null
    ? `kube-soomkiller will not act on this pod (${input.excludedBecause}): at the limit the ` +
      "kernel OOM-kills the container"
    : input.dryRun
    ? "kube-soomkiller runs in dry-run: it will only log what it would do; at the limit the " +
      "kernel OOM-kills the container"
    : "kube-soomkiller deletes the pod once the time left is under its grace period plus " +
      "--headroom-margin";
  return `Container ${input.containerName} is projected to reach its swap limit in ` +
    `${Math.round(h.secondsLeft ?? 0)} s (look-ahead ${input.lookaheadSeconds} s): swap ` +
    `${mib(h.swapBytes)} of ${mib(h.swapLimitBytes)} (${Math.round(h.swapFullPercent)}%, ` +
    `limit from ${h.limitSource}), ${curve}. ${what}. Raise its memory limit or request, ` +
    "or find what fills it.";
}

/**
 * Posts the early warning. Never throws: a failure is logged at warning level and returned.
 */
export async function recordEarlyWarning(
  deps: EventDeps,
  input: Omit<EarlyWarningInput, "at" | "nameSuffix">,
): Promise<EventResult> {
  const body = buildEarlyWarningEvent({
    ...input,
    at: deps.clock.wallTime(),
    nameSuffix: hex((deps.randomBytes ?? cryptoRandomBytes)(8)),
  });
  const pod = `${input.pod.namespace}/${input.pod.name}`;
  try {
    const result = await deps.kube.createEvent(input.pod.namespace, body);
    if (result.kind === "created") return "sent";
    deps.log.warn("Cannot record Event {reason} on pod {pod}: {error}", {
      reason: EARLY_WARNING_REASON,
      pod,
      error: result.message,
    });
  } catch (error) {
    deps.log.warn("Cannot record Event {reason} on pod {pod}: {error}", {
      reason: EARLY_WARNING_REASON,
      pod,
      error: error instanceof Error ? error.message : String(error),
    });
  }
  return "failed";
}

/** `45.6 MiB`: one unit for every size the agent shows. */
function mib(bytes: number): string {
  return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}
