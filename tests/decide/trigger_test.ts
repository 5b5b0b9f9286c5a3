import assert from "node:assert/strict";
import {
  INITIAL_TRIGGER_STATE,
  samplesNeeded,
  stepTrigger,
  type TriggerReading,
  type TriggerSettings,
} from "../../src/decide/trigger.ts";

const SEED: TriggerSettings = {
  swapIoThresholdPagesPerSecond: 1000,
  sustainedDurationMs: 10_000,
  pollIntervalMs: 1_000,
};

/** Feeds per-second rates (pages/s) as cumulative counters; returns every reading. */
function feedRates(
  rates: readonly number[],
  settings = SEED,
  intervalMs = 1_000,
): TriggerReading[] {
  let state = INITIAL_TRIGGER_STATE;
  let pages = 1_000_000;
  let atMs = 5_000;
  const readings: TriggerReading[] = [];
  ({ state } = stepTrigger(state, { swapIoPages: pages, atMs }, settings));
  for (const rate of rates) {
    pages += rate * intervalMs / 1000;
    atMs += intervalMs;
    const step = stepTrigger(state, { swapIoPages: pages, atMs }, settings);
    state = step.state;
    readings.push(step.reading);
  }
  return readings;
}

const firstSustained = (readings: TriggerReading[]) => readings.findIndex((r) => r.sustained);

Deno.test("samplesNeeded(): 1 s poll and 10 s sustained need 10 consecutive samples", () => {
  assert.equal(samplesNeeded(SEED), 10);
  assert.equal(samplesNeeded({ ...SEED, pollIntervalMs: 3_000 }), 4);
  assert.equal(samplesNeeded({ ...SEED, sustainedDurationMs: 0 }), 1);
});

Deno.test("stepTrigger() fires on the 10th consecutive sample above the threshold", () => {
  const readings = feedRates(Array(12).fill(1_700));
  assert.equal(firstSustained(readings), 9);
  assert.equal(readings[9]!.windowMs, 10_000);
  assert.equal(readings[9]!.ratePagesPerSecond, 1_700);
  assert.equal(readings[8]!.sustained, false);
});

Deno.test("stepTrigger() table: bursts, dips and resets", () => {
  const cases: { name: string; rates: number[]; fires: number }[] = [
    { name: "quiet node", rates: Array(20).fill(50), fires: -1 },
    { name: "exactly at threshold is not above", rates: Array(20).fill(1_000), fires: -1 },
    { name: "burst shorter than the window", rates: [...Array(9).fill(5_000), 0], fires: -1 },
    {
      name: "MariaDB bursts: 5-10 s of 72-202 pages/s, then quiet",
      rates: [72, 150, 202, 180, 90, 0, 0, 0, 120, 202, 190, 160, 72, 0],
      fires: -1,
    },
    {
      name: "one dip resets the window",
      rates: [...Array(9).fill(2_000), 10, ...Array(10).fill(2_000)],
      fires: 19,
    },
    { name: "sustained from the start", rates: Array(10).fill(8_000), fires: 9 },
  ];
  for (const { name, rates, fires } of cases) {
    assert.equal(firstSustained(feedRates(rates)), fires, name);
  }
});

Deno.test("stepTrigger() treats a counter going backwards as a reset, never a spike", () => {
  const settings = { ...SEED, sustainedDurationMs: 2_000 };
  let { state } = stepTrigger(INITIAL_TRIGGER_STATE, { swapIoPages: 10_000, atMs: 0 }, settings);
  ({ state } = stepTrigger(state, { swapIoPages: 15_000, atMs: 1_000 }, settings));
  assert.equal(state.samplesAbove, 1);
  const reset = stepTrigger(state, { swapIoPages: 100, atMs: 2_000 }, settings);
  assert.equal(reset.reading.counterReset, true);
  assert.equal(reset.reading.ratePagesPerSecond, null);
  assert.equal(reset.reading.sustained, false);
  assert.equal(reset.state.samplesAbove, 0);
  // The next sample measures from the new baseline: 100 → 600 is 500 pages/s, not a spike.
  const after = stepTrigger(reset.state, { swapIoPages: 600, atMs: 3_000 }, settings);
  assert.equal(after.reading.ratePagesPerSecond, 500);
  assert.equal(after.reading.above, false);
});

Deno.test("stepTrigger() gives no rate on the first sample", () => {
  const { reading } = stepTrigger(INITIAL_TRIGGER_STATE, { swapIoPages: 9e9, atMs: 1 }, SEED);
  assert.equal(reading.ratePagesPerSecond, null);
  assert.equal(reading.above, false);
});

Deno.test("stepTrigger() measures the rate over the real interval, not the nominal poll", () => {
  // A late tick (2.5 s instead of 1 s) divides by 2.5 s.
  const { state } = stepTrigger(INITIAL_TRIGGER_STATE, { swapIoPages: 0, atMs: 0 }, SEED);
  const { reading } = stepTrigger(state, { swapIoPages: 5_000, atMs: 2_500 }, SEED);
  assert.equal(reading.ratePagesPerSecond, 2_000);
});

Deno.test("stepTrigger() ignores a sample taken at the same instant", () => {
  const first = stepTrigger(INITIAL_TRIGGER_STATE, { swapIoPages: 0, atMs: 0 }, SEED);
  const second = stepTrigger(first.state, { swapIoPages: 3_000, atMs: 1_000 }, SEED);
  const same = stepTrigger(second.state, { swapIoPages: 3_500, atMs: 1_000 }, SEED);
  assert.equal(same.reading.ratePagesPerSecond, null);
  assert.deepEqual(same.state, second.state);
});
