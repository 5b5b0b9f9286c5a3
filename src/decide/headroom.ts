/**
 * Swap headroom: per container, how long until the kernel OOM-kills it. Under LimitedSwap a
 * container that sits at `memory.max` and has filled `memory.swap.max` is SIGKILLed when it
 * needs one more page; the pod needs its grace period before that moment. Pure.
 *
 * What is followed is the container's swap-backed footprint, `anon + shmem + swap −
 * swapcached` (`memory.stat`, `memory.swap.current`): what the kernel must hold in RAM or in
 * swap. Swap churn moves pages between the two and leaves it flat (a page swapped back in
 * keeps its slot in the swap cache and is counted in both); a leak or a warm-up raises it.
 * Its growth is held against the room the kernel leaves: the swap left under
 * `memory.swap.max` (and on the node), plus free memory under `memory.max` and page cache
 * that is not shmem (both can take a new anon page without a swap slot). Where `memory.stat`
 * was not read (traces from before it was recorded), `memory.swap.current` against the swap
 * limit, as before.
 */
import type { ContainerStats, PodStats } from "../sense/pod_stats.ts";

/** One reading of the level a container's headroom follows. */
export interface LevelPoint {
  /** Monotonic ms. */
  readonly atMs: number;
  /** The footprint, or `memory.swap.current` where memory.stat was not read, bytes. */
  readonly levelBytes: number;
}

/** Which level a container's readings follow. */
export type LevelSource = "footprint" | "memory.swap.current";

/** Recent readings of one container: one source throughout (a change starts over). */
export interface ContainerTrack {
  readonly source: LevelSource;
  readonly points: readonly LevelPoint[];
}

/** Recent readings per container, keyed `podUid/containerId`. */
export type HeadroomState = ReadonlyMap<string, ContainerTrack>;

export const INITIAL_HEADROOM_STATE: HeadroomState = new Map();

/**
 * How growth is projected to the limit:
 * - "plateau": growth that slows down is followed along its curve to where it levels off;
 *   only growth that does not slow down is projected in a straight line (the default);
 * - "linear": every sustained growth is projected in a straight line (the first version).
 */
export type HeadroomModel = "plateau" | "linear";

export interface HeadroomSettings {
  readonly model: HeadroomModel;
  /**
   * Follow the footprint where `memory.stat` was read ("footprint"), or always
   * `memory.swap.current` ("swap", the first version).
   */
  readonly level: "footprint" | "swap";
  /**
   * "plateau": how each half of a growth run is fitted: "robust" (Theil–Sen slope, the level
   * on that line), or "least-squares" (slope; mean level; the last reading as now), the
   * earlier fit, kept for comparisons.
   */
  readonly fit: "robust" | "least-squares";
  /** Readings older than this are dropped from the growth estimate, ms. */
  readonly estimateWindowMs: number;
  /** The level must have grown, without a stall, this long before it is projected, ms. */
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
   * The level may dip this much between two readings and the run goes on, bytes (a server's
   * churn, a freed buffer); the larger of this and `dipShare` of the level.
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
  /**
   * A projection is acted on only as far ahead as this many times the growth it has seen:
   * a warm-up's first seconds are as steep as a leak's and have not bent yet (a server
   * warming up with τ = 30 s slows by 10 % in its first 7 s), so a straight line drawn
   * through them is credible for seconds, not for minutes. A leak from nearly empty is
   * acted on once it has run a 1/(1 + ratio) share of its fill: with 3, a fill of 40 s
   * still leaves its last 30 s (the default grace period) for the pod.
   */
  readonly maxExtrapolationRatio: number;
}

export const HEADROOM_ESTIMATOR: HeadroomSettings = {
  model: "plateau",
  level: "footprint",
  fit: "robust",
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
  maxExtrapolationRatio: 3,
};

/**
 * The longest the default estimator may need, after its first reading of a growing
 * container, before it projects anything, s: the growth span it requires, plus one pause it
 * tolerates inside the run (a leak in steps shows growth only at its steps). A fill faster
 * than this plus the pod's grace period cannot get the whole grace period.
 */
export const HEADROOM_EVIDENCE_SECONDS =
  (HEADROOM_ESTIMATOR.minGrowthSpanMs + HEADROOM_ESTIMATOR.maxStallMs) / 1000;

/**
 * The first version's estimator, kept as the "linear" model for comparisons: growth on
 * every reading for 4 s (no stall allowed), projected in a straight line.
 */
export const LINEAR_ESTIMATOR: HeadroomSettings = {
  ...HEADROOM_ESTIMATOR,
  model: "linear",
  level: "swap",
  fit: "least-squares",
  estimateWindowMs: 20_000,
  minGrowthSpanMs: 4_000,
  maxStallMs: 0,
  maxExtrapolationRatio: Infinity,
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
  /** What the projection follows: the footprint, or swap where memory.stat was not read. */
  readonly levelSource: LevelSource;
  /** That level now, bytes. */
  readonly levelBytes: number;
  /** The level at which the kernel kills it: the level now plus the room left, bytes. */
  readonly levelLimitBytes: number;
  /** Growth now, bytes/s; null without sustained growth. */
  readonly growthBytesPerSecond: number | null;
  /**
   * Where swap levels off, bytes ("plateau" model, growth slowing down); null when it is
   * projected in a straight line or not growing.
   */
  readonly plateauBytes: number | null;
  /**
   * Projected seconds until the limit; null when not growing, or when the growth levels
   * off below the limit.
   */
  readonly secondsLeft: number | null;
  /** How long the projected growth has been seen, s; null when not growing. */
  readonly observedSeconds: number | null;
  /**
   * The projection reaches no further than `maxExtrapolationRatio` × the growth seen: only
   * then is `secondsLeft` acted on.
   */
  readonly credible: boolean;
  /** True when `memory.current` is at `memory.max`: every new page must go to swap. */
  readonly atMemoryMax: boolean;
  /** True when the level grew since the previous reading: the agent then reads every tick. */
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
  const next = new Map<string, ContainerTrack>();
  const containers: ContainerHeadroom[] = [];
  for (const pod of pods) {
    for (const container of pod.containers) {
      if (container.swapMaxBytes === 0) continue;
      const key = `${pod.uid}/${container.id}`;
      const reading = levelOf(container, nodeSwapFreeBytes, settings);
      const previous = state.get(key);
      const kept = previous?.source === reading.source ? previous.points : [];
      const points = [
        ...kept.filter((p) => nowMs - p.atMs <= settings.estimateWindowMs && p.atMs < nowMs),
        { atMs: nowMs, levelBytes: reading.levelBytes },
      ];
      next.set(key, { source: reading.source, points });
      containers.push(estimate(pod.uid, container, reading, points, settings));
    }
  }
  return { state: next, containers };
}

/** A container's level now, and the room the kernel leaves it. */
interface LevelReading {
  readonly source: LevelSource;
  readonly levelBytes: number;
  /** How much more the level can take before the kernel kills, bytes. */
  readonly roomBytes: number;
  /** Swap left before `memory.swap.max` or the node's free swap, bytes. */
  readonly swapRoomBytes: number;
  readonly limitSource: ContainerHeadroom["limitSource"];
}

/** The level the settings follow, from one container's figures. */
export function levelOf(
  container: ContainerStats,
  nodeSwapFreeBytes: number,
  settings: Pick<HeadroomSettings, "level">,
): LevelReading {
  const swapBytes = container.swapCurrentBytes;
  // The swap left is the smaller of the container's own limit and the node's free swap.
  const ownRoom = container.swapMaxBytes === null ? Infinity : container.swapMaxBytes - swapBytes;
  const nodeRoom = Math.max(0, nodeSwapFreeBytes);
  const limitSource = ownRoom <= nodeRoom ? "memory.swap.max" : "node free swap";
  const swapRoomBytes = Math.max(0, Math.min(ownRoom, nodeRoom));
  const f = container.footprint;
  if (settings.level === "swap" || f === undefined) {
    return {
      source: "memory.swap.current",
      levelBytes: swapBytes,
      roomBytes: swapRoomBytes,
      swapRoomBytes,
      limitSource,
    };
  }
  // Besides free swap, a new anon page fits where the kernel can still make room without a
  // swap slot: free memory under memory.max, page cache that is not shmem (dropped or
  // written back). Swap-cache pages are not counted as room: measured (Redis with its fork
  // for BGSAVE, tests/fixtures/traces/6.12-redis-persist-small.jsonl) the kernel OOM-killed
  // with swap full and 41 MiB of them in RAM, pinned by the child's mappings and the
  // parent's swap entries.
  const freeMemory = container.memoryMaxBytes === null
    ? 0
    : Math.max(0, container.memoryMaxBytes - container.memoryCurrentBytes);
  const pageCache = Math.max(0, f.fileBytes - f.shmemBytes);
  return {
    source: "footprint",
    levelBytes: f.anonBytes + f.shmemBytes + swapBytes - f.swapCachedBytes,
    roomBytes: swapRoomBytes + freeMemory + pageCache,
    swapRoomBytes,
    limitSource,
  };
}

function estimate(
  podUid: string,
  container: ContainerStats,
  reading: LevelReading,
  points: readonly LevelPoint[],
  settings: HeadroomSettings,
): ContainerHeadroom {
  const swapBytes = container.swapCurrentBytes;
  const swapLimitBytes = swapBytes + reading.swapRoomBytes;
  const levelLimitBytes = reading.levelBytes + reading.roomBytes;
  const projection = projectLevel(points, settings);
  // The projection starts from the level on its fitted line: a jump in the latest reading
  // (the swap cache filling for a second) neither sets it nor eats the room.
  const secondsLeft = projection === null
    ? null
    : secondsToLimit(projection, levelLimitBytes - projection.levelBytes);
  const previous = points.length >= 2 ? points[points.length - 2]! : null;
  const growing = previous !== null &&
    intervalRate(previous, points[points.length - 1]!) >= settings.minGrowthBytesPerSecond;
  // Reported in swap terms: where swap levels off if the rest stays as it is now.
  const plateauBytes = projection?.plateauBytes == null
    ? null
    : projection.plateauBytes - (reading.levelBytes - swapBytes);
  return {
    podUid,
    containerId: container.id,
    swapBytes,
    swapLimitBytes,
    limitSource: reading.limitSource,
    swapFullPercent: swapLimitBytes > 0 ? (swapBytes / swapLimitBytes) * 100 : 0,
    levelSource: reading.source,
    levelBytes: reading.levelBytes,
    levelLimitBytes,
    growthBytesPerSecond: projection?.growthBytesPerSecond ?? null,
    plateauBytes,
    secondsLeft,
    observedSeconds: projection?.observedSeconds ?? null,
    credible: secondsLeft !== null &&
      secondsLeft <= settings.maxExtrapolationRatio * projection!.observedSeconds,
    atMemoryMax: container.memoryMaxBytes !== null &&
      container.memoryCurrentBytes >= container.memoryMaxBytes * settings.atMemoryMaxRatio,
    growing,
  };
}

/** Where a container's level is heading, from its recent readings. */
export interface LevelProjection {
  /** The level now on the fitted line (robust to one reading's jump), bytes. */
  readonly levelBytes: number;
  /** Growth now, bytes/s (> 0). */
  readonly growthBytesPerSecond: number;
  /**
   * Deceleration, 1/s: the growth rate falls by this share of (level − plateau) per second,
   * `rate(s) = decelerationPerSecond × (plateauBytes − s)`; null when not slowing down.
   */
  readonly decelerationPerSecond: number | null;
  /** The level where growth reaches zero, bytes; null when not slowing down. */
  readonly plateauBytes: number | null;
  /** How long the growth it projects has been seen, s (the run's span). */
  readonly observedSeconds: number;
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
  points: readonly LevelPoint[],
  settings: HeadroomSettings = HEADROOM_ESTIMATOR,
): readonly LevelPoint[] | null {
  const last = points.length - 1;
  let first = -1; // index where the earliest growing interval of the run starts
  let growthEndMs: number | null = null; // end of the latest growing interval
  for (let i = last; i > 0; i--) {
    const from = points[i - 1]!;
    const to = points[i]!;
    if (to.atMs - from.atMs > settings.maxIntervalMs) break;
    const dip = from.levelBytes - to.levelBytes;
    if (dip > Math.max(settings.maxDipBytes, settings.dipShare * from.levelBytes)) break;
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
export function projectLevel(
  points: readonly LevelPoint[],
  settings: HeadroomSettings = HEADROOM_ESTIMATOR,
): LevelProjection | null {
  const run = growthRun(points, settings);
  if (run === null) return null;
  const nowMs = run[run.length - 1]!.atMs;
  const observedSeconds = (nowMs - run[0]!.atMs) / 1000;
  const straightLine = (levelBytes: number, rate: number): LevelProjection => ({
    levelBytes,
    growthBytesPerSecond: rate,
    decelerationPerSecond: null,
    plateauBytes: null,
    observedSeconds,
  });
  if (settings.model === "linear") {
    const recent = intervalRate(run[Math.max(0, run.length - 3)]!, run[run.length - 1]!);
    const rate = Math.min(leastSquaresSlope(run), recent);
    const levelBytes = run[run.length - 1]!.levelBytes;
    return rate >= settings.minGrowthBytesPerSecond ? straightLine(levelBytes, rate) : null;
  }
  // Robust fits: the Theil–Sen slope of each half and the level on that line, so one
  // reading off the curve (the swap cache filling for a second) sets neither the rate nor
  // the level the projection starts from.
  const midMs = (run[0]!.atMs + nowMs) / 2;
  const earlier = run.filter((p) => p.atMs <= midMs);
  const later = run.filter((p) => p.atMs >= midMs);
  const robust = settings.fit === "robust";
  const slope = robust ? robustSlope : leastSquaresSlope;
  const rateEarlier = slope(earlier);
  const rateLater = slope(later);
  const levelBytes = robust
    ? levelOnLine(later, rateLater, nowMs)
    : run[run.length - 1]!.levelBytes;
  const levelEarlier = robust
    ? levelOnLine(earlier, rateEarlier, meanMs(earlier))
    : mean(earlier.map((p) => p.levelBytes));
  const levelLater = robust
    ? levelOnLine(later, rateLater, meanMs(later))
    : mean(later.map((p) => p.levelBytes));
  const slowingDown = earlier.length >= 2 && later.length >= 2 && rateEarlier > 0 &&
    levelLater > levelEarlier && rateLater <= rateEarlier * settings.decelerationRatio;
  if (!slowingDown) {
    // Robust: the rate the whole run sustained. Growth in steps (a leak, a warm-up that
    // pages in tens of MiB at a time) gives the later half one step more or less depending
    // on when the steps fell; the whole run averages them.
    const rate = robust ? robustSlope(run) : rateLater;
    return rate >= settings.minGrowthBytesPerSecond ? straightLine(levelBytes, rate) : null;
  }
  const k = (rateEarlier - rateLater) / (levelLater - levelEarlier);
  const plateauBytes = levelLater + Math.max(0, rateLater) / k;
  const riseBytes = levelBytes - run[0]!.levelBytes;
  if (
    curveError(run, plateauBytes, k, levelBytes, nowMs) > settings.maxCurveErrorShare * riseBytes
  ) {
    return straightLine(levelBytes, Math.max(rateLater, settings.minGrowthBytesPerSecond));
  }
  const growth = k * (plateauBytes - levelBytes);
  return {
    levelBytes,
    growthBytesPerSecond: Math.max(0, growth),
    decelerationPerSecond: k,
    plateauBytes,
    observedSeconds,
  };
}

/** The level at `atMs` on the line of slope `rate` through the readings' median, bytes. */
function levelOnLine(points: readonly LevelPoint[], rate: number, atMs: number): number {
  return median(points.map((p) => p.levelBytes + rate * (atMs - p.atMs) / 1000));
}

function meanMs(points: readonly LevelPoint[]): number {
  return mean(points.map((p) => p.atMs));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Seconds until `roomBytes` more swap is used along the projection: a straight line, or
 * the decelerating curve `s(t) = plateau − (plateau − s₀)·e^(−k·t)`. Null when the growth
 * levels off at or below the limit (it never gets there).
 */
export function secondsToLimit(
  projection: Omit<LevelProjection, "observedSeconds">,
  roomBytes: number,
): number | null {
  if (roomBytes <= 0) return 0;
  const { plateauBytes, decelerationPerSecond: k } = projection;
  if (plateauBytes === null || k === null) {
    return projection.growthBytesPerSecond > 0 ? roomBytes / projection.growthBytesPerSecond : null;
  }
  const limitBytes = projection.levelBytes + roomBytes;
  if (plateauBytes <= limitBytes) return null;
  return Math.log((plateauBytes - projection.levelBytes) / (plateauBytes - limitBytes)) / k;
}

/**
 * The first version's estimate (the "linear" model's rate), bytes/s: kept for
 * comparisons and its tests. Null without sustained growth.
 */
export function growthBytesPerSecond(
  points: readonly LevelPoint[],
  settings: HeadroomSettings = LINEAR_ESTIMATOR,
): number | null {
  return projectLevel(points, { ...settings, model: "linear" })?.growthBytesPerSecond ?? null;
}

/**
 * RMS distance, bytes, between the run and the curve through (`nowMs`, `levelBytes`) that
 * levels off at `plateauBytes` with deceleration `k`: s(t) = P − (P − s_now)·e^(k·(t_now − t)).
 */
function curveError(
  run: readonly LevelPoint[],
  plateauBytes: number,
  k: number,
  levelBytes: number,
  nowMs: number,
): number {
  let sum = 0;
  for (const p of run) {
    const predicted = plateauBytes -
      (plateauBytes - levelBytes) * Math.exp(k * (nowMs - p.atMs) / 1000);
    sum += (p.levelBytes - predicted) ** 2;
  }
  return Math.sqrt(sum / run.length);
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

function intervalRate(from: LevelPoint, to: LevelPoint): number {
  return (to.levelBytes - from.levelBytes) / ((to.atMs - from.atMs) / 1000);
}

/**
 * The Theil–Sen slope, bytes/s: the median of the slopes between every pair of readings. One
 * reading off the line (a jump of the swap cache) moves it little, where it would set a
 * least-squares slope over a few readings.
 */
function robustSlope(points: readonly LevelPoint[]): number {
  const slopes: number[] = [];
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      const dtSeconds = (points[j]!.atMs - points[i]!.atMs) / 1000;
      if (dtSeconds > 0) slopes.push((points[j]!.levelBytes - points[i]!.levelBytes) / dtSeconds);
    }
  }
  return slopes.length === 0 ? 0 : median(slopes);
}

/** Least-squares slope of the level over time, bytes/s. */
function leastSquaresSlope(points: readonly LevelPoint[]): number {
  const first = points[0]!;
  let meanT = 0;
  let meanS = 0;
  for (const p of points) {
    meanT += (p.atMs - first.atMs) / 1000;
    meanS += p.levelBytes;
  }
  meanT /= points.length;
  meanS /= points.length;
  let covariance = 0;
  let variance = 0;
  for (const p of points) {
    const t = (p.atMs - first.atMs) / 1000 - meanT;
    covariance += t * (p.levelBytes - meanS);
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
    } else if (
      container.credible && container.secondsLeft !== null &&
      container.secondsLeft < neededSeconds
    ) {
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
