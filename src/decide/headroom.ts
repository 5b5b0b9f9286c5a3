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

/**
 * How swap growth is projected to the limit:
 * - "plateau": growth that slows down is followed along its curve to where it levels off;
 *   only growth that does not slow down is projected in a straight line (the default);
 * - "linear": every sustained growth is projected in a straight line (the first version).
 */
export type HeadroomModel = "plateau" | "linear";

export interface HeadroomSettings {
  readonly model: HeadroomModel;
  /** Readings older than this are dropped from the growth estimate, ms. */
  readonly estimateWindowMs: number;
  /** Swap must have grown, without a stall, for at least this long before it is projected, ms. */
  readonly minGrowthSpanMs: number;
  /** An interval counts as growth only at or above this rate, bytes/s (below: noise). */
  readonly minGrowthBytesPerSecond: number;
  /**
   * Growth may pause this long and still count as one run (a leak in steps), ms; a longer
   * stall ends the run, so a one-off jump is never projected.
   */
  readonly maxStallMs: number;
  /**
   * Readings further apart than this break the run, ms: across a gap (the pods are not
   * walked on a calm node) a jump and steady growth look the same.
   */
  readonly maxIntervalMs: number;
  /**
   * Swap may dip this much between two readings and the run goes on, bytes (swap-ins free
   * swap slots: a server's swap churns); the larger of this and `dipShare` of the level.
   */
  readonly maxDipBytes: number;
  readonly dipShare: number;
  /**
   * "plateau": the later half of the run must grow at most this share of the earlier half's
   * rate to count as slowing down (below it, timing noise looks like deceleration).
   */
  readonly decelerationRatio: number;
  /**
   * "plateau": the decelerating curve must explain the run: its RMS error, run back from
   * now, at most this share of the run's rise. A burst followed by slower steady growth
   * fits badly and is projected in a straight line instead.
   */
  readonly maxCurveErrorShare: number;
  /** `memory.current` at or above this share of `memory.max` counts as "at memory.max". */
  readonly atMemoryMaxRatio: number;
}

export const HEADROOM_ESTIMATOR: HeadroomSettings = {
  model: "plateau",
  estimateWindowMs: 30_000,
  minGrowthSpanMs: 7_000,
  minGrowthBytesPerSecond: 64 * 1024,
  maxStallMs: 4_000,
  maxIntervalMs: 2_500,
  maxDipBytes: 4 * 1024 * 1024,
  dipShare: 0.03,
  decelerationRatio: 0.95,
  maxCurveErrorShare: 0.1,
  atMemoryMaxRatio: 0.97,
};

/**
 * The first version's estimator, kept as the "linear" model for comparisons: growth on
 * every reading for 4 s (no stall allowed), projected in a straight line.
 */
export const LINEAR_ESTIMATOR: HeadroomSettings = {
  ...HEADROOM_ESTIMATOR,
  model: "linear",
  estimateWindowMs: 20_000,
  minGrowthSpanMs: 4_000,
  maxStallMs: 0,
};

/** The estimator for a poll interval: a run may skip at most about one reading. */
export function headroomEstimator(
  pollIntervalMs: number,
  model: HeadroomModel = HEADROOM_ESTIMATOR.model,
): HeadroomSettings {
  const base = model === "linear" ? LINEAR_ESTIMATOR : HEADROOM_ESTIMATOR;
  return {
    ...base,
    maxIntervalMs: Math.max(2_500, 2.5 * pollIntervalMs),
    maxStallMs: base.maxStallMs === 0 ? 0 : Math.max(base.maxStallMs, 2.5 * pollIntervalMs),
  };
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
  /** Swap growth now, bytes/s; null without sustained growth. */
  readonly growthBytesPerSecond: number | null;
  /**
   * Where the growth levels off, bytes ("plateau" model, growth slowing down); null when
   * it is projected in a straight line or not growing.
   */
  readonly plateauBytes: number | null;
  /**
   * Projected seconds until the limit; null when not growing, or when the growth levels
   * off below the limit.
   */
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
  const projection = projectSwap(points, settings);
  const secondsLeft = projection === null ? null : secondsToLimit(projection, roomBytes);
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
    growthBytesPerSecond: projection?.growthBytesPerSecond ?? null,
    plateauBytes: projection?.plateauBytes ?? null,
    secondsLeft,
    atMemoryMax: container.memoryMaxBytes !== null &&
      container.memoryCurrentBytes >= container.memoryMaxBytes * settings.atMemoryMaxRatio,
    growing,
  };
}

/** Where a container's swap is heading, from its recent readings. */
export interface SwapProjection {
  /** Swap now, bytes. */
  readonly swapBytes: number;
  /** Growth now, bytes/s (> 0). */
  readonly growthBytesPerSecond: number;
  /**
   * Deceleration, 1/s: the growth rate falls by this share of (level − plateau) per second,
   * `rate(s) = decelerationPerSecond × (plateauBytes − s)`; null when not slowing down.
   */
  readonly decelerationPerSecond: number | null;
  /** The level where growth reaches zero, bytes; null when not slowing down. */
  readonly plateauBytes: number | null;
}

/**
 * The trailing run of sustained growth: readings at most `maxIntervalMs` apart, never
 * shrinking by more than a dip (`maxDipBytes`, `dipShare`), with no stall (a stretch
 * without a growing interval) longer than `maxStallMs`, from its first growing interval
 * to now. Null unless it grew over at least
 * `minGrowthSpanMs` and is still growing: a one-off jump, or a ramp that stopped, ends in
 * a stall and is never projected.
 */
export function growthRun(
  points: readonly SwapPoint[],
  settings: HeadroomSettings = HEADROOM_ESTIMATOR,
): readonly SwapPoint[] | null {
  const last = points.length - 1;
  let first = -1; // index where the earliest growing interval of the run starts
  let growthEndMs: number | null = null; // end of the latest growing interval
  for (let i = last; i > 0; i--) {
    const from = points[i - 1]!;
    const to = points[i]!;
    if (to.atMs - from.atMs > settings.maxIntervalMs) break;
    const dip = from.swapBytes - to.swapBytes;
    if (dip > Math.max(settings.maxDipBytes, settings.dipShare * from.swapBytes)) break;
    if (intervalRate(from, to) >= settings.minGrowthBytesPerSecond) {
      growthEndMs ??= to.atMs;
      first = i - 1;
      continue;
    }
    // A stall: from here to the growth after it (or to now).
    const resumedMs = first >= 0 ? points[first]!.atMs : points[last]!.atMs;
    if (resumedMs - from.atMs > settings.maxStallMs) break;
  }
  if (first < 0 || growthEndMs === null) return null;
  if (points[last]!.atMs - growthEndMs > settings.maxStallMs) return null;
  if (growthEndMs - points[first]!.atMs < settings.minGrowthSpanMs) return null;
  return points.slice(first);
}

/**
 * Projects sustained growth. "linear": the smaller of the run's least-squares slope and
 * its last two intervals' rate, in a straight line. "plateau": the run is split in two
 * halves by time; when the later half grows slower than the earlier one (by at least
 * `decelerationRatio`, at a higher level) and the curve explains the run, the growth rate is taken to fall linearly with the level,
 * `rate = k × (plateau − level)` — the curve of a server touching the rest of its working
 * set — and the plateau is where it reaches zero; otherwise the later half's slope is
 * projected in a straight line.
 */
export function projectSwap(
  points: readonly SwapPoint[],
  settings: HeadroomSettings = HEADROOM_ESTIMATOR,
): SwapProjection | null {
  const run = growthRun(points, settings);
  if (run === null) return null;
  const swapBytes = run[run.length - 1]!.swapBytes;
  const straightLine = (rate: number): SwapProjection => ({
    swapBytes,
    growthBytesPerSecond: rate,
    decelerationPerSecond: null,
    plateauBytes: null,
  });
  if (settings.model === "linear") {
    const recent = intervalRate(run[Math.max(0, run.length - 3)]!, run[run.length - 1]!);
    const rate = Math.min(leastSquaresSlope(run), recent);
    return rate >= settings.minGrowthBytesPerSecond ? straightLine(rate) : null;
  }
  const midMs = (run[0]!.atMs + run[run.length - 1]!.atMs) / 2;
  const earlier = run.filter((p) => p.atMs <= midMs);
  const later = run.filter((p) => p.atMs >= midMs);
  const rateEarlier = leastSquaresSlope(earlier);
  const rateLater = leastSquaresSlope(later);
  const levelEarlier = mean(earlier.map((p) => p.swapBytes));
  const levelLater = mean(later.map((p) => p.swapBytes));
  const slowingDown = earlier.length >= 2 && later.length >= 2 && rateEarlier > 0 &&
    levelLater > levelEarlier && rateLater <= rateEarlier * settings.decelerationRatio;
  if (!slowingDown) {
    return rateLater >= settings.minGrowthBytesPerSecond ? straightLine(rateLater) : null;
  }
  const k = (rateEarlier - rateLater) / (levelLater - levelEarlier);
  const plateauBytes = levelLater + Math.max(0, rateLater) / k;
  const riseBytes = swapBytes - run[0]!.swapBytes;
  if (curveError(run, plateauBytes, k) > settings.maxCurveErrorShare * riseBytes) {
    return straightLine(Math.max(rateLater, settings.minGrowthBytesPerSecond));
  }
  const growth = k * (plateauBytes - swapBytes);
  return {
    swapBytes,
    growthBytesPerSecond: Math.max(0, growth),
    decelerationPerSecond: k,
    plateauBytes,
  };
}

/**
 * Seconds until `roomBytes` more swap is used along the projection: a straight line, or
 * the decelerating curve `s(t) = plateau − (plateau − s₀)·e^(−k·t)`. Null when the growth
 * levels off at or below the limit (it never gets there).
 */
export function secondsToLimit(projection: SwapProjection, roomBytes: number): number | null {
  if (roomBytes <= 0) return 0;
  const { plateauBytes, decelerationPerSecond: k } = projection;
  if (plateauBytes === null || k === null) {
    return projection.growthBytesPerSecond > 0 ? roomBytes / projection.growthBytesPerSecond : null;
  }
  const limitBytes = projection.swapBytes + roomBytes;
  if (plateauBytes <= limitBytes) return null;
  return Math.log((plateauBytes - projection.swapBytes) / (plateauBytes - limitBytes)) / k;
}

/**
 * The first version's estimate (the "linear" model's rate), bytes/s: kept for
 * comparisons and its tests. Null without sustained growth.
 */
export function growthBytesPerSecond(
  points: readonly SwapPoint[],
  settings: HeadroomSettings = LINEAR_ESTIMATOR,
): number | null {
  return projectSwap(points, { ...settings, model: "linear" })?.growthBytesPerSecond ?? null;
}

/**
 * RMS distance, bytes, between the run and the curve through its last reading that levels
 * off at `plateauBytes` with deceleration `k`: s(t) = P − (P − s_now)·e^(k·(t_now − t)).
 */
function curveError(run: readonly SwapPoint[], plateauBytes: number, k: number): number {
  const last = run[run.length - 1]!;
  let sum = 0;
  for (const p of run) {
    const predicted = plateauBytes -
      (plateauBytes - last.swapBytes) * Math.exp(k * (last.atMs - p.atMs) / 1000);
    sum += (p.swapBytes - predicted) ** 2;
  }
  return Math.sqrt(sum / run.length);
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
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
