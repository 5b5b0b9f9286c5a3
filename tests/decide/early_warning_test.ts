import assert from "node:assert/strict";
import {
  dueWarnings,
  type EarlyWarningState,
  headroomCase,
  INITIAL_EARLY_WARNING_STATE,
  markWarned,
} from "../../src/decide/early_warning.ts";
import type { ContainerHeadroom } from "../../src/decide/headroom.ts";

const MiB = 1 << 20;
const LOOKAHEAD_MS = 300_000;

function container(
  podUid: string,
  secondsLeft: number | null,
  extra: Partial<ContainerHeadroom> = {},
): ContainerHeadroom {
  return {
    podUid,
    containerId: `${podUid}-c`,
    swapBytes: 10 * MiB,
    swapLimitBytes: 100 * MiB,
    limitSource: "memory.swap.max",
    swapFullPercent: 10,
    levelSource: "memory.swap.current",
    levelBytes: 10 * MiB,
    levelLimitBytes: 100 * MiB,
    growthBytesPerSecond: secondsLeft === null ? null : MiB,
    plateauBytes: null,
    secondsLeft,
    observedSeconds: secondsLeft === null ? null : 20,
    credible: secondsLeft !== null,
    atMemoryMax: true,
    growing: secondsLeft !== null,
    ...extra,
  };
}

/** One scan: what is due, then every due pod marked as warned. */
function scan(state: EarlyWarningState, containers: ContainerHeadroom[], nowMs: number) {
  const step = dueWarnings(state, containers, LOOKAHEAD_MS, nowMs);
  let next = step.state;
  for (const { container } of step.due) next = markWarned(next, container.podUid, nowMs);
  return { state: next, due: step.due.map((d) => d.container.podUid) };
}

Deno.test("headroomCase(): a plateau is levelling off, growth without one is growing, else flat", () => {
  assert.equal(headroomCase(container("a", 100, { plateauBytes: 200 * MiB })), "levelling off");
  assert.equal(headroomCase(container("a", null, { plateauBytes: 90 * MiB })), "levelling off");
  assert.equal(headroomCase(container("a", 100)), "growing");
  assert.equal(headroomCase(container("a", null)), "flat");
});

Deno.test("dueWarnings(): within the look-ahead once per episode, most urgent first, one per pod", () => {
  let state = INITIAL_EARLY_WARNING_STATE;
  let step = scan(state, [container("a", 400), container("b", 250), container("c", 60)], 0);
  assert.deepEqual(step.due, ["c", "b"], "a is beyond 300 s");
  state = step.state;
  // The projection comes and goes between scans: the same episode, no new warning.
  for (let t = 1; t <= 5; t++) {
    step = scan(state, [container("b", t % 2 ? null : 200), container("c", 50)], t * 1000);
    assert.deepEqual(step.due, [], `scan ${t}`);
    state = step.state;
  }
  // Two containers of one pod: one warning.
  step = scan(state, [container("d", 30), { ...container("d", 20), containerId: "d-2" }], 6000);
  assert.deepEqual(step.due, ["d"]);
});

Deno.test("dueWarnings(): an episode ends after the look-ahead without a projection, or when the pod goes", () => {
  let state = scan(INITIAL_EARLY_WARNING_STATE, [container("a", 100), container("b", 100)], 0)
    .state;
  // b goes away and comes back: a new episode. a stays flat for the look-ahead: new episode.
  state = scan(state, [container("a", null)], 10_000).state;
  const again = scan(state, [container("a", 100), container("b", 100)], 20_000);
  assert.deepEqual(again.due, ["b"]);
  const later = scan(again.state, [container("a", 100)], 20_000 + LOOKAHEAD_MS + 1);
  assert.deepEqual(later.due, ["a"]);
  assert.deepEqual(dueWarnings(INITIAL_EARLY_WARNING_STATE, [container("a", 1)], 0, 0).due, []);
});
