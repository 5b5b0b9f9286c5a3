/**
 * The headroom estimator's settings: what it follows, how it fits a run of growth, how far
 * it extrapolates; the defaults and the first version's straight line. Pure data.
 */

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
