/**
 * The node-level trigger: swap I/O rate from cumulative counters, and a window of
 * consecutive samples above the threshold. Pure: time comes in with the sample.
 */

/** One reading of the cumulative swap counters. */
export interface SwapIoSample {
  /** pswpin + pswpout since boot, pages. */
  readonly swapIoPages: number;
  /** Monotonic clock at the reading, ms. */
  readonly atMs: number;
}

/** What the trigger remembers between samples. */
export interface TriggerState {
  /** The previous sample; null before the first. */
  readonly previous: SwapIoSample | null;
  /** Start of the current run of above-threshold samples (monotonic ms); null when not above. */
  readonly windowStartMs: number | null;
  /** Consecutive samples above the threshold in the current run. */
  readonly samplesAbove: number;
}

export const INITIAL_TRIGGER_STATE: TriggerState = {
  previous: null,
  windowStartMs: null,
  samplesAbove: 0,
};

export interface TriggerSettings {
  /** Rate above which a sample counts, pages/s. */
  readonly swapIoThresholdPagesPerSecond: number;
  readonly sustainedDurationMs: number;
  readonly pollIntervalMs: number;
}

/** What one sample says. */
export interface TriggerReading {
  /** Swap I/O rate over the last interval, pages/s; null on the first sample or a counter reset. */
  readonly ratePagesPerSecond: number | null;
  /** True when this sample was above the threshold. */
  readonly above: boolean;
  /** How long the rate has been above the threshold, ms (0 when not above). */
  readonly windowMs: number;
  /** Consecutive samples above the threshold. */
  readonly samplesAbove: number;
  /** Samples needed: sustained duration / poll interval, at least 1. */
  readonly samplesNeeded: number;
  /** True when every sample for the sustained duration was above the threshold. */
  readonly sustained: boolean;
  /** True when the counters went backwards (reset): the window restarts, never a spike. */
  readonly counterReset: boolean;
}

/** Samples a window needs: 1 s poll and 10 s sustained → 10 consecutive samples. */
export function samplesNeeded(settings: TriggerSettings): number {
  return Math.max(1, Math.ceil(settings.sustainedDurationMs / settings.pollIntervalMs));
}

/** Feeds one sample to the trigger. */
export function stepTrigger(
  state: TriggerState,
  sample: SwapIoSample,
  settings: TriggerSettings,
): { state: TriggerState; reading: TriggerReading } {
  const needed = samplesNeeded(settings);
  const previous = state.previous;
  const elapsedMs = previous ? sample.atMs - previous.atMs : 0;
  const counterReset = previous !== null && sample.swapIoPages < previous.swapIoPages;

  // No rate yet (first sample), a reset, or no time passed: re-baseline, window closed.
  if (previous === null || counterReset || elapsedMs <= 0) {
    const keepWindow = elapsedMs <= 0 && previous !== null && !counterReset;
    const next = keepWindow ? { ...state } : { ...INITIAL_TRIGGER_STATE, previous: sample };
    return {
      state: next,
      reading: {
        ratePagesPerSecond: null,
        above: false,
        windowMs: 0,
        samplesAbove: next.samplesAbove,
        samplesNeeded: needed,
        sustained: false,
        counterReset,
      },
    };
  }

  const rate = (sample.swapIoPages - previous.swapIoPages) / (elapsedMs / 1000);
  const above = rate > settings.swapIoThresholdPagesPerSecond;
  const windowStartMs = above ? state.windowStartMs ?? previous.atMs : null;
  const samplesAbove = above ? state.samplesAbove + 1 : 0;
  return {
    state: { previous: sample, windowStartMs, samplesAbove },
    reading: {
      ratePagesPerSecond: rate,
      above,
      windowMs: windowStartMs === null ? 0 : sample.atMs - windowStartMs,
      samplesAbove,
      samplesNeeded: needed,
      sustained: samplesAbove >= needed,
      counterReset: false,
    },
  };
}

/** Closes the window (after an action, or while cooling down) but keeps the baseline. */
export function resetWindow(state: TriggerState): TriggerState {
  return { previous: state.previous, windowStartMs: null, samplesAbove: 0 };
}
