/**
 * Swap headroom: per container, how long until its swap is full and the kernel OOM-kills
 * it. Under LimitedSwap a container that sits at `memory.max` and fills `memory.swap.max`
 * is SIGKILLed; the pod needs its grace period before that moment. Pure.
 */
import type { ContainerStats, PodStats } from "../sense/pod_stats.ts";

/** One reading of a container's swap. */
export interface SwapPoint {
  /** Monotonic ms. */
  readonly atMs: number;
  /** `memory.swap.current`, bytes. */
  readonly swapBytes: number;
}

/** Recent swap readings per container, keyed `podUid/containerId`. */
export type HeadroomState = ReadonlyMap<string, readonly SwapPoint[]>;

export const INITIAL_HEADROOM_STATE: HeadroomState = new Map();

export interface HeadroomSettings {
  /** Readings older than this are dropped from the growth estimate, ms. */
  readonly estimateWindowMs: number;
  /** Swap must have grown on every reading for at least this long before it is projected, ms. */
  readonly minGrowthSpanMs: number;
  /** An interval counts as growth only at or above this rate, bytes/s (below: noise). */
  readonly minGrowthBytesPerSecond: number;
  /**
   * Readings further apart than this break the run, ms: across a gap (the pods are not
   * walked on a calm node) a jump and steady growth look the same.
   */
  readonly maxIntervalMs: number;
  /** `memory.current` at or above this share of `memory.max` counts as "at memory.max". */
  readonly atMemoryMaxRatio: number;
}

export const HEADROOM_ESTIMATOR: HeadroomSettings = {
  estimateWindowMs: 20_000,
  minGrowthSpanMs: 4_000,
  minGrowthBytesPerSecond: 64 * 1024,
  maxIntervalMs: 2_500,
  atMemoryMaxRatio: 0.97,
};

/** The estimator for a poll interval: a run may skip at most about one reading. */
export function headroomEstimator(pollIntervalMs: number): HeadroomSettings {
  return { ...HEADROOM_ESTIMATOR, maxIntervalMs: Math.max(2_500, 2.5 * pollIntervalMs) };
}

/** What the estimator says of one container. */
export interface ContainerHeadroom {
  readonly podUid: string;
  readonly containerId: string;
  /** `memory.swap.current`, bytes. */
  readonly swapBytes: number;
  /** The swap it may still reach before the kernel kills it, bytes (see `limitSource`). */
  readonly swapLimitBytes: number;
  /** `memory.swap.max`, or the node's free swap when that is lower or the limit is `max`. */
  readonly limitSource: "memory.swap.max" | "node free swap";
  /** Swap in use as a share of the limit, percent. */
  readonly swapFullPercent: number;
  /** Smoothed swap growth, bytes/s; null without enough readings or when not growing. */
  readonly growthBytesPerSecond: number | null;
  /** Projected seconds until the limit at that growth; null when not growing. */
  readonly secondsLeft: number | null;
  /** True when `memory.current` is at `memory.max`: every new page must go to swap. */
  readonly atMemoryMax: boolean;
  /** True when swap grew since the previous reading: the agent then reads every tick. */
  readonly growing: boolean;
}

/**
 * Adds this scan's readings and estimates every container that can swap. Containers that
 * cannot swap (`memory.swap.max` 0) are left out; vanished ones are forgotten.
 */
export function updateHeadroom(
  state: HeadroomState,
  pods: readonly PodStats[],
  nodeSwapFreeBytes: number,
  nowMs: number,
  settings: HeadroomSettings = HEADROOM_ESTIMATOR,
): { state: HeadroomState; containers: ContainerHeadroom[] } {
  const next = new Map<string, readonly SwapPoint[]>();
  const containers: ContainerHeadroom[] = [];
  for (const pod of pods) {
    for (const container of pod.containers) {
      if (container.swapMaxBytes === 0) continue;
      const key = `${pod.uid}/${container.id}`;
      const points = [
        ...(state.get(key) ?? []).filter((p) =>
          nowMs - p.atMs <= settings.estimateWindowMs && p.atMs < nowMs
        ),
        { atMs: nowMs, swapBytes: container.swapCurrentBytes },
      ];
      next.set(key, points);
      containers.push(estimate(pod.uid, container, points, nodeSwapFreeBytes, settings));
    }
  }
  return { state: next, containers };
}

function estimate(
  podUid: string,
  container: ContainerStats,
  points: readonly SwapPoint[],
  nodeSwapFreeBytes: number,
  settings: HeadroomSettings,
): ContainerHeadroom {
  const swapBytes = container.swapCurrentBytes;
  // The room left is the smaller of the container's own limit and the node's free swap.
  const ownRoom = container.swapMaxBytes === null ? Infinity : container.swapMaxBytes - swapBytes;
  const nodeRoom = Math.max(0, nodeSwapFreeBytes);
  const limitSource = ownRoom <= nodeRoom ? "memory.swap.max" : "node free swap";
  const roomBytes = Math.max(0, Math.min(ownRoom, nodeRoom));
  const swapLimitBytes = swapBytes + roomBytes;
  const growth = growthBytesPerSecond(points, settings);
  const secondsLeft = growth === null ? null : roomBytes / growth;
  const previous = points.length >= 2 ? points[points.length - 2]! : null;
  const growing = previous !== null &&
    intervalRate(previous, points[points.length - 1]!) >= settings.minGrowthBytesPerSecond;
  return {
    podUid,
    containerId: container.id,
    swapBytes,
    swapLimitBytes,
    limitSource,
    swapFullPercent: swapLimitBytes > 0 ? (swapBytes / swapLimitBytes) * 100 : 0,
    growthBytesPerSecond: growth,
    secondsLeft,
    atMemoryMax: container.memoryMaxBytes !== null &&
      container.memoryCurrentBytes >= container.memoryMaxBytes * settings.atMemoryMaxRatio,
    growing,
  };
}

/**
 * Sustained swap growth, bytes/s; null unless swap grew on every reading, read at most
 * `maxIntervalMs` apart, for at least `minGrowthSpanMs`. Only the trailing run of growing intervals counts, so a one-off jump
 * (a burst that then stops) is never projected, and the rate is the smaller of the run's
 * least-squares slope and its last two intervals', so growth that is slowing down is not
 * extrapolated from its steepest part. Measured on real kernels (tests/vm): a burst that
 * took swap from 0 to 62 % of its limit in one second and stopped was projected to fill it
 * in 5 s by a plain 3-reading fit.
 */
export function growthBytesPerSecond(
  points: readonly SwapPoint[],
  settings: HeadroomSettings = HEADROOM_ESTIMATOR,
): number | null {
  const last = points.length - 1;
  if (last < 1) return null;
  let start = last;
  while (start > 0 && isGrowthInterval(points[start - 1]!, points[start]!, settings)) {
    start--;
  }
  const run = points.slice(start);
  if (run.length < 2 || points[last]!.atMs - run[0]!.atMs < settings.minGrowthSpanMs) return null;
  const recent = intervalRate(run[Math.max(0, run.length - 3)]!, run[run.length - 1]!);
  return Math.min(leastSquaresSlope(run), recent);
}

function isGrowthInterval(from: SwapPoint, to: SwapPoint, settings: HeadroomSettings): boolean {
  return to.atMs - from.atMs <= settings.maxIntervalMs &&
    intervalRate(from, to) >= settings.minGrowthBytesPerSecond;
}

function intervalRate(from: SwapPoint, to: SwapPoint): number {
  return (to.swapBytes - from.swapBytes) / ((to.atMs - from.atMs) / 1000);
}

/** Least-squares slope of swap over time, bytes/s. */
function leastSquaresSlope(points: readonly SwapPoint[]): number {
  const first = points[0]!;
  let meanT = 0;
  let meanS = 0;
  for (const p of points) {
    meanT += (p.atMs - first.atMs) / 1000;
    meanS += p.swapBytes;
  }
  meanT /= points.length;
  meanS /= points.length;
  let covariance = 0;
  let variance = 0;
  for (const p of points) {
    const t = (p.atMs - first.atMs) / 1000 - meanT;
    covariance += t * (p.swapBytes - meanS);
    variance += t * t;
  }
  return variance > 0 ? covariance / variance : 0;
}

/** Why the headroom trigger fires for a container. */
export type HeadroomReason = "time-left" | "swap-full";

export interface HeadroomAlarm {
  readonly container: ContainerHeadroom;
  readonly reason: HeadroomReason;
  /** Grace period + margin the projection was held against, seconds. */
  readonly neededSeconds: number;
}

export interface HeadroomTriggerSettings {
  /** Act when time left < grace period + this, ms. */
  readonly headroomMarginMs: number;
  /** Act when swap ≥ this share of the limit while at memory.max, percent. */
  readonly swapFullPercent: number;
}

/** Kubernetes' default `terminationGracePeriodSeconds`. */
export const DEFAULT_GRACE_SECONDS = 30;

/**
 * The containers whose pod must go now: projected time left below the pod's grace period
 * plus the margin, or swap nearly full while at memory.max. Most urgent first.
 * `graceSeconds(podUid)` gives the pod's grace period (null: not known yet).
 */
export function headroomAlarms(
  containers: readonly ContainerHeadroom[],
  graceSeconds: (podUid: string) => number | null,
  settings: HeadroomTriggerSettings,
): HeadroomAlarm[] {
  const alarms: HeadroomAlarm[] = [];
  for (const container of containers) {
    const neededSeconds = (graceSeconds(container.podUid) ?? DEFAULT_GRACE_SECONDS) +
      settings.headroomMarginMs / 1000;
    if (container.atMemoryMax && container.swapFullPercent >= settings.swapFullPercent) {
      alarms.push({ container, reason: "swap-full", neededSeconds });
    } else if (container.secondsLeft !== null && container.secondsLeft < neededSeconds) {
      alarms.push({ container, reason: "time-left", neededSeconds });
    }
  }
  return alarms.sort((a, b) =>
    urgency(a) - urgency(b) || a.container.podUid.localeCompare(b.container.podUid)
  );
}

function urgency(alarm: HeadroomAlarm): number {
  return alarm.reason === "swap-full" ? -1 : alarm.container.secondsLeft ?? Infinity;
}

/**
 * Containers whose swap grows toward their limit within `horizonSeconds`: the pod's grace
 * period then matters, so the agent learns it from the API (one LIST, cached). A container
 * whose swap is high but steady is not at risk: it costs no API call.
 */
export function containersAtRisk(
  containers: readonly ContainerHeadroom[],
  horizonSeconds: number,
): ContainerHeadroom[] {
  return containers.filter((c) => c.secondsLeft !== null && c.secondsLeft < horizonSeconds);
}
