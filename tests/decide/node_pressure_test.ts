import assert from "node:assert/strict";
import {
  afterAction,
  INITIAL_PRESSURE_STATE,
  observeSwapIo,
  type PressurePhase,
  type PressureSettings,
} from "../../src/decide/node_pressure.ts";

const SETTINGS: PressureSettings = {
  swapIoThresholdPagesPerSecond: 1000,
  sustainedDurationMs: 3_000,
  pollIntervalMs: 1_000,
  cooldownPeriodMs: 5_000,
};

Deno.test("observeSwapIo() walks calm → filling → sustained, then cooldown after an action", () => {
  let state = INITIAL_PRESSURE_STATE;
  const phases: PressurePhase[] = [];
  for (let second = 0; second <= 15; second++) {
    const atMs = second * 1_000;
    const observation = observeSwapIo(state, { swapIoPages: second * 2_000, atMs }, SETTINGS);
    state = observation.state;
    phases.push(observation.phase);
    if (observation.phase === "sustained") state = afterAction(state, atMs, SETTINGS);
  }
  assert.deepEqual(phases, [
    "calm", // first sample: no rate yet
    "filling",
    "filling",
    "sustained", // t=3: action, cooldown until t=8
    "cooldown",
    "cooldown",
    "cooldown",
    "cooldown",
    "filling", // t=8: the window starts again
    "filling",
    "sustained", // t=10: three samples above since the cooldown ended
    "cooldown",
    "cooldown",
    "cooldown",
    "cooldown",
    "filling",
  ]);
});

Deno.test("observeSwapIo() reports the cooldown left and keeps measuring the rate", () => {
  const state = afterAction(INITIAL_PRESSURE_STATE, 10_000, SETTINGS);
  const first = observeSwapIo(state, { swapIoPages: 0, atMs: 11_000 }, SETTINGS);
  const second = observeSwapIo(first.state, { swapIoPages: 4_000, atMs: 12_000 }, SETTINGS);
  assert.equal(second.phase, "cooldown");
  assert.equal(second.cooldownRemainingMs, 3_000);
  assert.equal(second.reading.ratePagesPerSecond, 4_000);
  assert.equal(second.reading.sustained, false);
});

Deno.test("observeSwapIo() with no pressure after the cooldown stays calm and clears it", () => {
  const state = afterAction(INITIAL_PRESSURE_STATE, 0, SETTINGS);
  const observation = observeSwapIo(state, { swapIoPages: 0, atMs: 6_000 }, SETTINGS);
  assert.equal(observation.phase, "calm");
  assert.equal(observation.state.cooldown.untilMs, null);
});
