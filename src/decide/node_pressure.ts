/**
 * One tick of the node-level decision: the trigger and the cooldown together.
 * Pure: the sample carries the monotonic time.
 */
import { cooldownRemainingMs, type CooldownState, NO_COOLDOWN, startCooldown } from "./cooldown.ts";
import {
  INITIAL_TRIGGER_STATE,
  resetWindow,
  stepTrigger,
  type SwapIoSample,
  type TriggerReading,
  type TriggerSettings,
  type TriggerState,
} from "./trigger.ts";

/** Everything decide/ carries from one tick to the next. */
export interface PressureState {
  readonly trigger: TriggerState;
  readonly cooldown: CooldownState;
}

export const INITIAL_PRESSURE_STATE: PressureState = {
  trigger: INITIAL_TRIGGER_STATE,
  cooldown: NO_COOLDOWN,
};

/**
 * Where the node stands: `calm` (below threshold or no rate yet), `filling` (above, window
 * not full), `sustained` (act now), `cooldown` (an action happened recently; the window waits).
 */
export type PressurePhase = "calm" | "filling" | "sustained" | "cooldown";

export interface PressureSettings extends TriggerSettings {
  readonly cooldownPeriodMs: number;
}

export interface PressureObservation {
  readonly state: PressureState;
  readonly reading: TriggerReading;
  readonly phase: PressurePhase;
  /** Cooldown left, ms. */
  readonly cooldownRemainingMs: number;
}

/** Feeds one swap I/O sample; during a cooldown the rate is measured but the window stays shut. */
export function observeSwapIo(
  state: PressureState,
  sample: SwapIoSample,
  settings: PressureSettings,
): PressureObservation {
  const stepped = stepTrigger(state.trigger, sample, settings);
  const remainingMs = cooldownRemainingMs(state.cooldown, sample.atMs);
  if (remainingMs > 0) {
    return {
      state: { trigger: resetWindow(stepped.state), cooldown: state.cooldown },
      reading: { ...stepped.reading, windowMs: 0, samplesAbove: 0, sustained: false },
      phase: "cooldown",
      cooldownRemainingMs: remainingMs,
    };
  }
  const cooldown = state.cooldown.untilMs === null ? state.cooldown : NO_COOLDOWN;
  const phase: PressurePhase = stepped.reading.sustained
    ? "sustained"
    : stepped.reading.above
    ? "filling"
    : "calm";
  return {
    state: { trigger: stepped.state, cooldown },
    reading: stepped.reading,
    phase,
    cooldownRemainingMs: 0,
  };
}

/** After an action: start the cooldown and close the window. */
export function afterAction(
  state: PressureState,
  nowMs: number,
  settings: PressureSettings,
): PressureState {
  return {
    trigger: resetWindow(state.trigger),
    cooldown: startCooldown(nowMs, settings.cooldownPeriodMs),
  };
}
