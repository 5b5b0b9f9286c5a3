import assert from "node:assert/strict";
import {
  actedOnUids,
  INITIAL_KILL_ONCE_STATE,
  type KillOnceState,
  recordAction,
  reviewActed,
  STUCK_SLACK_MS,
} from "../../src/decide/kill_once.ts";

const COOLDOWN_MS = 30_000;

function acted(...uids: string[]): KillOnceState {
  let state = INITIAL_KILL_ONCE_STATE;
  for (const uid of uids) {
    state = recordAction(state, {
      uid,
      name: `default/${uid}`,
      action: "delete",
      atMs: 0,
      gracePeriodSeconds: null,
    }, COOLDOWN_MS);
  }
  return state;
}

Deno.test("recordAction() keeps a pod acted on out of reach until its cgroup is gone", () => {
  const state = acted("a", "b");
  assert.deepEqual([...actedOnUids(state)], ["a", "b"]);
  // Still there (terminating, or a stale list): still out of reach.
  const still = reviewActed(state, new Set(["a", "b", "c"]), 1_000);
  assert.deepEqual([...actedOnUids(still.state)], ["a", "b"]);
  // "a"'s cgroup is gone: forgotten.
  const gone = reviewActed(still.state, new Set(["b"]), 2_000);
  assert.deepEqual([...actedOnUids(gone.state)], ["b"]);
});

Deno.test("reviewActed() forgets nothing when the walk failed", () => {
  const review = reviewActed(acted("a"), null, 1_000_000);
  assert.deepEqual([...actedOnUids(review.state)], ["a"]);
  assert.deepEqual(review.stuck, [], "a failed walk does not say the pod is still there");
});

Deno.test("reviewActed() reports a pod still there past its deadline once, and keeps it out of reach", () => {
  // Deadline: the cooldown or the grace period + slack, whichever is later.
  const table: { grace: number | null; deadlineMs: number }[] = [
    { grace: null, deadlineMs: Math.max(COOLDOWN_MS, 30_000 + STUCK_SLACK_MS) },
    { grace: 5, deadlineMs: COOLDOWN_MS },
    { grace: 300, deadlineMs: 300_000 + STUCK_SLACK_MS },
  ];
  for (const { grace, deadlineMs } of table) {
    const state = recordAction(INITIAL_KILL_ONCE_STATE, {
      uid: "u",
      name: "shop/db-0",
      action: "evict",
      atMs: 1_000,
      gracePeriodSeconds: grace,
    }, COOLDOWN_MS);
    const present = new Set(["u"]);
    const early = reviewActed(state, present, 1_000 + deadlineMs - 1);
    assert.deepEqual(early.stuck, [], `grace ${grace}: not stuck before the deadline`);
    const late = reviewActed(early.state, present, 1_000 + deadlineMs);
    assert.deepEqual(late.stuck.map((p) => [p.name, p.action]), [["shop/db-0", "evict"]]);
    const later = reviewActed(late.state, present, 1_000 + 10 * deadlineMs);
    assert.deepEqual(later.stuck, [], "reported once");
    assert.ok(actedOnUids(later.state).has("u"), "never acted on again");
  }
});

Deno.test("reviewActed() returns the same state when nothing changed", () => {
  const state = acted("a");
  assert.equal(reviewActed(state, new Set(["a"]), 1).state, state);
  assert.equal(reviewActed(INITIAL_KILL_ONCE_STATE, new Set(), 1).state, INITIAL_KILL_ONCE_STATE);
});
