/** The cooldown after an action: monotonic time only, so a wall-clock jump changes nothing. */

/** When the cooldown ends (monotonic ms); null when none is running. */
export type CooldownState = { readonly untilMs: number | null };

export const NO_COOLDOWN: CooldownState = { untilMs: null };

/** Starts a cooldown of `periodMs` at `nowMs`. */
export function startCooldown(nowMs: number, periodMs: number): CooldownState {
  return { untilMs: nowMs + periodMs };
}

/** Time left, ms (0 when not cooling down). */
export function cooldownRemainingMs(state: CooldownState, nowMs: number): number {
  return state.untilMs === null ? 0 : Math.max(0, state.untilMs - nowMs);
}
