import assert from "node:assert/strict";
import {
  afterRound,
  blockedForMs,
  type EvictFallbackState,
  fallbackDue,
  NOT_BLOCKED,
  type RoundEnd,
} from "../../src/decide/evict_fallback.ts";

/** Runs `ends` one second apart from t=0 and says, before each, whether DELETE is due. */
function run(ends: RoundEnd[], fallbackAfterMs: number): boolean[] {
  let state: EvictFallbackState = NOT_BLOCKED;
  const due: boolean[] = [];
  ends.forEach((end, i) => {
    const nowMs = i * 1_000;
    due.push(end === "all-blocked" && fallbackDue(state, nowMs, fallbackAfterMs));
    state = afterRound(state, end, nowMs);
  });
  return due;
}

Deno.test("fallbackDue() falls back only after every eviction stayed blocked for the deadline", () => {
  const B = "all-blocked" as const;
  const table: { what: string; ends: RoundEnd[]; afterMs: number; due: boolean[] }[] = [
    {
      what: "blocked 3 s, deadline 3 s",
      ends: [B, B, B, B],
      afterMs: 3_000,
      due: [false, false, false, true],
    },
    {
      what: "0 never falls back",
      ends: [B, B, B, B],
      afterMs: 0,
      due: [false, false, false, false],
    },
    {
      what: "pressure gone restarts the clock",
      ends: [B, B, "no-pressure", B, B, B],
      afterMs: 2_000,
      due: [false, false, false, false, false, true],
    },
    {
      what: "an action restarts the clock",
      ends: [B, B, "acted", B, B],
      afterMs: 2_000,
      due: [false, false, false, false, false],
    },
    {
      what: "API errors keep the clock running",
      ends: [B, "inconclusive", "inconclusive", B],
      afterMs: 3_000,
      due: [false, false, false, true],
    },
  ];
  for (const { what, ends, afterMs, due } of table) assert.deepEqual(run(ends, afterMs), due, what);
});

Deno.test("blockedForMs() is 0 until the first all-blocked round", () => {
  assert.equal(blockedForMs(NOT_BLOCKED, 5_000), 0);
  const state = afterRound(NOT_BLOCKED, "all-blocked", 1_000);
  assert.equal(blockedForMs(state, 5_000), 4_000);
  assert.equal(afterRound(state, "all-blocked", 3_000), state, "the clock keeps its start");
});
