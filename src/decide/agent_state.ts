/**
 * What the loop carries from one tick to the next, as one record, and the pure steps that
 * turn it into the next: {@linkcode decideNode} (every tick), {@linkcode decidePods}
 * (after a pod scan) and {@linkcode settle} (after the triggers, with what the round came
 * to). Time comes in as monotonic ms.
 */
import type { Meminfo } from "../sense/meminfo.ts";
import type { PodStats } from "../sense/pod_stats.ts";
import {
  attributeSwapIo,
  type AttributionState,
  INITIAL_ATTRIBUTION_STATE,
} from "./attribution.ts";
import { afterRound, type EvictFallbackState, NOT_BLOCKED } from "./evict_fallback.ts";
import {
  type ContainerHeadroom,
  containersAtRisk,
  type HeadroomState,
  INITIAL_HEADROOM_STATE,
  updateHeadroom,
} from "./headroom.ts";
import type { HeadroomSettings } from "./headroom_settings.ts";
import {
  type ActedPod,
  INITIAL_KILL_ONCE_STATE,
  type KillOnceState,
  recordAction,
  reviewActed,
} from "./kill_once.ts";
import {
  afterAction,
  INITIAL_PRESSURE_STATE,
  observeSwapIo,
  type PressureObservation,
  type PressureSettings,
  type PressureState,
} from "./node_pressure.ts";
import {
  INITIAL_OOM_WATCH_STATE,
  type KernelOomKill,
  type OomWatchState,
  watchOomKills,
} from "./oom_watch.ts";
import { HEADROOM_HORIZON_SECONDS, roundEnd } from "./policy.ts";
import {
  INITIAL_SCAN_GATE,
  type ScanGateState,
  type ScanInputs,
  scanned,
  type ScanReason,
  scanReason,
} from "./scan_gate.ts";
import { mayHaveWritten, type Outcome, startsCooldown, writtenAction } from "./outcome.ts";
import type { PodRef } from "./pod_meta.ts";
import { type Candidate, candidateName } from "./select.ts";
import type { DecideSettings } from "./settings.ts";

/** A write whose outcome is unknown, waiting to be read back. */
export interface UnconfirmedWrite {
  readonly ref: PodRef;
  readonly action: "delete" | "evict";
  /** Read-backs that failed so far. */
  readonly failedReads: number;
}

/** Everything the loop remembers between ticks. */
export interface AgentState {
  /** Node swap I/O: the window and the cooldown. */
  readonly pressure: PressureState;
  /** When the pod cgroups were last walked, and what they showed. */
  readonly scanGate: ScanGateState;
  /** Each container's recent swap readings, for the headroom estimate. */
  readonly headroom: HeadroomState;
  /** Each pod's swap I/O counters at the last scan (per-pod attribution). */
  readonly attribution: AttributionState;
  /** Each pod's OOM-kill count at the last scan. */
  readonly oomWatch: OomWatchState;
  /** Pods the agent deleted or evicted whose cgroup is still there (never acted on again). */
  readonly killOnce: KillOnceState;
  /** Evict mode: since when every candidate's eviction has been blocked. */
  readonly evictFallback: EvictFallbackState;
  /** Ticks in a row whose swap counters could not be read. */
  readonly swapReadFailures: number;
  /**
   * Writes whose outcome is unknown (5xx, timeout, broken answer), by cgroup UID: the pod is
   * read back on the next ticks until the API says what happened.
   */
  readonly unconfirmed: ReadonlyMap<string, UnconfirmedWrite>;
}

export const INITIAL_AGENT_STATE: AgentState = {
  pressure: INITIAL_PRESSURE_STATE,
  scanGate: INITIAL_SCAN_GATE,
  headroom: INITIAL_HEADROOM_STATE,
  attribution: INITIAL_ATTRIBUTION_STATE,
  oomWatch: INITIAL_OOM_WATCH_STATE,
  killOnce: INITIAL_KILL_ONCE_STATE,
  evictFallback: NOT_BLOCKED,
  swapReadFailures: 0,
  unconfirmed: new Map(),
};

/** What the two small node files said this tick. */
export interface NodeReading {
  /** pswpin + pswpout. */
  readonly swapIoPages: number;
  /** vmstat `oom_kill`; null on kernels without it. */
  readonly oomKills: number | null;
  readonly meminfo: Meminfo | undefined;
  /** When they were read (monotonic ms). */
  readonly atMs: number;
}

/** The node step: the swap I/O window and cooldown, and whether to walk the pod cgroups. */
export interface NodeStep {
  readonly state: AgentState;
  readonly observation: PressureObservation;
  readonly scanInputs: ScanInputs;
  /** Why the pods are to be scanned; null: not this tick (never on a calm node). */
  readonly scanReason: ScanReason | null;
}

export function decideNode(
  state: AgentState,
  node: NodeReading,
  config: PressureSettings,
): NodeStep {
  const observation = observeSwapIo(
    state.pressure,
    { swapIoPages: node.swapIoPages, atMs: node.atMs },
    config,
  );
  const meminfo = node.meminfo;
  const scanInputs: ScanInputs = {
    swapUsedBytes: meminfo ? meminfo.swapTotalBytes - meminfo.swapFreeBytes : 0,
    oomKills: node.oomKills,
    nodeTriggerSustained: observation.phase === "sustained",
    // While evictions are blocked, every tick retries them.
    evictionsBlocked: state.evictFallback.blockedSinceMs !== null,
  };
  return {
    state: { ...state, pressure: observation.state },
    observation,
    scanInputs,
    scanReason: scanReason(state.scanGate, node.atMs, scanInputs),
  };
}

/** The pods step: kill-once review, swap headroom, per-pod swap I/O, missed kernel kills. */
export interface PodsStep {
  readonly state: AgentState;
  /** Pods acted on that are still there past their deadline (to be reported, once). */
  readonly stuck: readonly ActedPod[];
  /** Headroom estimates of every container that can swap. */
  readonly containers: readonly ContainerHeadroom[];
  /** The containers whose swap fills within the horizon. */
  readonly atRisk: readonly ContainerHeadroom[];
  /** Each pod's own swap I/O rate, pages/s, when the kernel attributes it; else null. */
  readonly swapIoRates: ReadonlyMap<string, number> | null;
  readonly kernelOomKills: readonly KernelOomKill[];
}

/** What a pod scan showed, for {@linkcode decidePods}. */
export interface PodsReading {
  readonly pods: readonly PodStats[];
  /**
   * Every pod cgroup the walk saw (those it could not read included); null when the walk
   * itself failed (then kill-once forgets nothing).
   */
  readonly present: ReadonlySet<string> | null;
  readonly meminfo: Meminfo | undefined;
  readonly atMs: number;
}

export function decidePods(
  step: NodeStep,
  scan: PodsReading,
  estimator: HeadroomSettings,
): PodsStep {
  const { state } = step;
  const nowMs = scan.atMs;
  // Forget pods whose cgroup is gone; report once the ones still there long after the
  // agent acted on them (never acted on again).
  const review = reviewActed(state.killOnce, scan.present, nowMs);
  const headroom = updateHeadroom(
    state.headroom,
    scan.pods,
    scan.meminfo?.swapFreeBytes ?? Infinity,
    nowMs,
    estimator,
  );
  const atRisk = containersAtRisk(headroom.containers, HEADROOM_HORIZON_SECONDS);
  // While any container's swap grows, scan every tick: the estimate needs close readings.
  const tracking = atRisk.length > 0 || headroom.containers.some((c) => c.growing);
  const attribution = attributeSwapIo(state.attribution, scan.pods, nowMs);
  const oom = watchOomKills(state.oomWatch, scan.pods);
  return {
    state: {
      ...state,
      killOnce: review.state,
      headroom: headroom.state,
      scanGate: scanned(nowMs, step.scanInputs, tracking),
      attribution: attribution.state,
      oomWatch: oom.state,
    },
    stuck: review.stuck,
    containers: headroom.containers,
    atRisk,
    swapIoRates: attribution.available ? attribution.ratesPagesPerSecond : null,
    kernelOomKills: oom.kills,
  };
}

/** What a round came to, for {@linkcode settle}. */
export interface RoundResult {
  readonly victim: Candidate;
  readonly outcome: Outcome;
  /** The top candidate was DELETEd because every eviction stayed blocked. */
  readonly fellBack: boolean;
}

/** How the tick ended: a round on a victim, or none (with or without pressure). */
export type TickEnd =
  | { readonly round: RoundResult }
  | { readonly round: null; readonly pressure: boolean };

/**
 * The state after the tick's triggers: the evict-fallback clock learns how the tick ended;
 * an action starts the cooldown and closes the window; a pod deleted or evicted is never
 * acted on again while its cgroup is there; a write whose outcome is unknown counts as
 * done until the pod is read back.
 */
export function settle(
  state: AgentState,
  end: TickEnd,
  nowMs: number,
  config: PressureSettings & Pick<DecideSettings, "terminationMode">,
): AgentState {
  if (end.round === null) {
    const ended = end.pressure ? "inconclusive" : "no-pressure";
    return { ...state, evictFallback: afterRound(state.evictFallback, ended, nowMs) };
  }
  const { victim, outcome, fellBack } = end.round;
  const cooldown = startsCooldown(outcome);
  const next: AgentState = {
    ...state,
    evictFallback: afterRound(state.evictFallback, roundEnd(outcome, cooldown), nowMs),
    pressure: cooldown ? afterAction(state.pressure, nowMs, config) : state.pressure,
  };
  if (!mayHaveWritten(outcome) || victim.pod === null) return next;
  const action = writtenAction(outcome, config.terminationMode, fellBack);
  const unconfirmed = new Map(state.unconfirmed);
  if (outcome.kind === "unknown") {
    const { namespace, name, uid } = victim.pod;
    unconfirmed.set(victim.stats.uid, { ref: { namespace, name, uid }, action, failedReads: 0 });
  } else unconfirmed.delete(victim.stats.uid);
  return {
    ...next,
    killOnce: recordAction(next.killOnce, {
      uid: victim.stats.uid,
      name: candidateName(victim),
      action,
      atMs: nowMs,
      gracePeriodSeconds: victim.pod.terminationGracePeriodSeconds,
    }, config.cooldownPeriodMs),
    unconfirmed,
  };
}
