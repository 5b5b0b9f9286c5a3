/**
 * Where a container's level is heading: the trailing run of sustained growth in its
 * readings, fitted (a decelerating curve to its plateau, or a straight line) and projected
 * to a limit. Pure.
 */
import {
  HEADROOM_ESTIMATOR,
  type HeadroomSettings,
  LINEAR_ESTIMATOR,
} from "./headroom_settings.ts";

/** One reading of the level a container's headroom follows. */
export interface LevelPoint {
  /** Monotonic ms. */
  readonly atMs: number;
  /** The footprint, or `memory.swap.current` where memory.stat was not read, bytes. */
  readonly levelBytes: number;
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

/** The rate of one interval between two readings, bytes/s. */
export function intervalRate(from: LevelPoint, to: LevelPoint): number {
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
