/**
 * The Kubernetes Event on the victim pod (`events.k8s.io/v1`), so that
 * `kubectl describe pod` and `kubectl get events` say who terminated it and why.
 * The body builder is pure; sending never throws and never stops the loop.
 */
import type { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import type { TriggerKind } from "../decide/decision.ts";
import type { PressureObservation } from "../decide/node_pressure.ts";
import { type Candidate, candidateName, type Selection } from "../decide/select.ts";
import type { Logger } from "../observe/log.ts";
import type { KubeApi, PodRef } from "./kube_client.ts";
import { eventAction, type EventResult, type Outcome } from "./outcome.ts";

/** `reportingController` of every Event. */
export const REPORTING_CONTROLLER = "kube-soomkiller";
/** The API server refuses a longer `note`, bytes. */
export const MAX_NOTE_BYTES = 1024;
/** The API server refuses a longer `reportingInstance`. */
const MAX_REPORTING_INSTANCE = 128;
/** A DNS subdomain name, as `metadata.name` must be. */
const MAX_NAME = 253;

/** An `events.k8s.io/v1` Event as sent on the wire. */
export interface EventV1Body {
  readonly apiVersion: "events.k8s.io/v1";
  readonly kind: "Event";
  readonly metadata: { readonly name: string; readonly namespace: string };
  /** `metav1.MicroTime`: RFC 3339 with exactly six fractional digits. */
  readonly eventTime: string;
  readonly reportingController: string;
  readonly reportingInstance: string;
  readonly action: "Delete" | "Evict";
  readonly reason: "SoftOOMKill" | "SoftOOMKillDryRun";
  readonly type: "Warning" | "Normal";
  readonly regarding: {
    readonly apiVersion: "v1";
    readonly kind: "Pod";
    readonly namespace: string;
    readonly name: string;
    readonly uid: string;
  };
  readonly note: string;
}

/** What one termination Event says. */
export interface TerminationEventInput {
  /** The pod acted on. */
  readonly pod: PodRef;
  /** Its `memory.swap.current` at the scan, bytes. */
  readonly swapCurrentBytes: number;
  /** Its `memory.pressure` full avg10 at the scan, percent. */
  readonly fullAvg10Percent: number;
  /** Its own swap I/O, pages/s, where the kernel attributes it (Linux ≥ 6.13). */
  readonly ownSwapIoPagesPerSecond?: number;
  /** The rule that fired. */
  readonly trigger: TriggerKind;
  /** The second-ranked candidate; null when there was none. */
  readonly runnerUp: Candidate | null;
  /** What was done: `Delete`, or `Evict` (the Eviction API). */
  readonly action: "Delete" | "Evict";
  /** True when nothing was sent (dry-run): a Normal event with its own reason. */
  readonly dryRun: boolean;
  /** This node: the `reportingInstance`. */
  readonly nodeName: string;
  readonly ratePagesPerSecond: number;
  readonly thresholdPagesPerSecond: number;
  /** How long the rate had been above the threshold, ms. */
  readonly windowMs: number;
  /** Wall-clock time of the decision. */
  readonly at: Date;
  /** Makes `metadata.name` unique, e.g. 16 hex digits. */
  readonly nameSuffix: string;
}

/** The Event body for one termination (or dry-run decision). Pure. */
export function buildTerminationEvent(input: TerminationEventInput): EventV1Body {
  const { pod } = input;
  const runnerUp = input.runnerUp === null
    ? "none"
    : `${candidateName(input.runnerUp)} (swap ${
      formatBytes(input.runnerUp.stats.swapCurrentBytes)
    }, full avg10 ${formatPercent(input.runnerUp.stats.fullAvg10Percent)})`;
  const verb = input.action === "Evict" ? "evict" : "delete";
  const done = input.dryRun
    ? `Would ${verb} (dry run, nothing sent)`
    : input.action === "Evict"
    ? "Evicted"
    : "Deleted";
  const rate = `node swap I/O ${Math.round(input.ratePagesPerSecond)} pages/s`;
  const window = `${Number((input.windowMs / 1000).toFixed(1))} s`;
  const threshold = `${input.thresholdPagesPerSecond} pages/s`;
  const why = input.trigger === "headroom"
    ? `a container of this pod is about to fill its swap limit and be OOM-killed (${rate}, ` +
      `above the threshold of ${threshold} for ${window})`
    : input.trigger === "node-swap-free"
    ? `the node's swap is nearly exhausted (${rate}, above the threshold of ${threshold} ` +
      `for ${window})`
    : `${rate} above the threshold of ${threshold} for ${window}`;
  const own = input.ownSwapIoPagesPerSecond === undefined
    ? ""
    : `own swap I/O ${Math.round(input.ownSwapIoPagesPerSecond)} pages/s, `;
  const note = `${done}: ${why}; this pod: ${own}swap ` +
    `${formatBytes(input.swapCurrentBytes)}, memory.pressure full avg10 ` +
    `${formatPercent(input.fullAvg10Percent)}; runner-up: ${runnerUp}`;
  return {
    apiVersion: "events.k8s.io/v1",
    kind: "Event",
    metadata: { name: eventName(pod.name, input.nameSuffix), namespace: pod.namespace },
    eventTime: microTime(input.at),
    reportingController: REPORTING_CONTROLLER,
    reportingInstance: input.nodeName.slice(0, MAX_REPORTING_INSTANCE),
    action: input.action,
    reason: input.dryRun ? "SoftOOMKillDryRun" : "SoftOOMKill",
    type: input.dryRun ? "Normal" : "Warning",
    regarding: {
      apiVersion: "v1",
      kind: "Pod",
      namespace: pod.namespace,
      name: pod.name,
      uid: pod.uid,
    },
    note: truncateUtf8(note, MAX_NOTE_BYTES),
  };
}

export type { EventResult } from "./outcome.ts";

export interface EventDeps {
  readonly kube: KubeApi;
  readonly clock: Clock;
  readonly log: Logger;
  /** `length` random bytes, for the Event's unique name. Default `crypto.getRandomValues`. */
  readonly randomBytes?: (length: number) => Uint8Array;
}

/** One decision the agent acted on (or would have, in dry-run). */
export interface ActedDecision {
  readonly observation: PressureObservation;
  readonly selection: Selection;
  readonly victim: Candidate;
  readonly outcome: Outcome;
}

/**
 * Posts the Event for a decision whose outcome is an action (deleted, evicted, dry-run).
 * Never throws: a failure is logged and returned, and the loop goes on.
 */
export async function recordTerminationEvent(
  deps: EventDeps,
  config:
    & Pick<Config, "nodeName" | "swapIoThresholdPagesPerSecond">
    & Partial<Pick<Config, "terminationMode">>,
  trigger: TriggerKind,
  decision: ActedDecision,
): Promise<EventResult> {
  const { victim, observation, selection, outcome } = decision;
  const pod = victim.pod;
  if (pod === null) return "failed";
  const runnerUp = selection.ranked.find((candidate) => candidate !== victim) ?? null;
  const body = buildTerminationEvent({
    pod: { namespace: pod.namespace, name: pod.name, uid: pod.uid },
    swapCurrentBytes: victim.stats.swapCurrentBytes,
    fullAvg10Percent: victim.stats.fullAvg10Percent,
    ...(victim.swapIoPagesPerSecond === undefined
      ? {}
      : { ownSwapIoPagesPerSecond: victim.swapIoPagesPerSecond }),
    trigger,
    runnerUp,
    // A dry run says what the configured mode would have done.
    action: eventAction(outcome, config.terminationMode),
    dryRun: outcome.kind === "dry-run",
    nodeName: config.nodeName,
    ratePagesPerSecond: observation.reading.ratePagesPerSecond ?? 0,
    thresholdPagesPerSecond: config.swapIoThresholdPagesPerSecond,
    windowMs: observation.reading.windowMs,
    at: deps.clock.wallTime(),
    nameSuffix: hex((deps.randomBytes ?? cryptoRandomBytes)(8)),
  });
  try {
    const result = await deps.kube.createEvent(pod.namespace, body);
    if (result.kind === "created") {
      deps.log.debug("Event {reason} recorded on pod {pod}", {
        reason: body.reason,
        pod: `${pod.namespace}/${pod.name}`,
        event: body.metadata.name,
      });
      return "sent";
    }
    deps.log.warn("Cannot record Event {reason} on pod {pod}: {error}", {
      reason: body.reason,
      pod: `${pod.namespace}/${pod.name}`,
      error: result.message,
    });
  } catch (error) {
    deps.log.warn("Cannot record Event {reason} on pod {pod}: {error}", {
      reason: body.reason,
      pod: `${pod.namespace}/${pod.name}`,
      error: error instanceof Error ? error.message : String(error),
    });
  }
  return "failed";
}

/** `metav1.MicroTime`: `2026-01-02T15:04:05.123000Z` (JavaScript has milliseconds only). */
export function microTime(at: Date): string {
  return at.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/** `<pod>.<suffix>`, as client-go names events, kept within a DNS subdomain's 253. */
export function eventName(podName: string, suffix: string): string {
  const room = MAX_NAME - suffix.length - 1;
  const base = podName.length <= room ? podName : podName.slice(0, room).replace(/[.-]+$/, "");
  return `${base}.${suffix}`;
}

/** Cuts `text` to at most `maxBytes` of UTF-8, on a character boundary, marked with "...". */
export function truncateUtf8(text: string, maxBytes: number): string {
  const encoder = new TextEncoder();
  if (encoder.encode(text).length <= maxBytes) return text;
  const marker = "...";
  const budget = maxBytes - marker.length;
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const size = encoder.encode(char).length;
    if (bytes + size > budget) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end) + marker;
}

/** `188743680 bytes (180.0 MiB)`. */
function formatBytes(bytes: number): string {
  return `${bytes} bytes (${(bytes / (1 << 20)).toFixed(1)} MiB)`;
}

function formatPercent(percent: number): string {
  return `${Number(percent.toFixed(2))}%`;
}

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The default source of an Event name's randomness. */
export function cryptoRandomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}
