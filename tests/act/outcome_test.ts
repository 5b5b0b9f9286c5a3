import assert from "node:assert/strict";
import {
  apiAnswered,
  eventAction,
  isAction,
  loggedAction,
  mayHaveWritten,
  type Outcome,
  outcomeOf,
  replayVerb,
  startsCooldown,
  terminationLabels,
} from "../../src/act/outcome.ts";

const OUTCOMES: Record<string, Outcome> = {
  deleted: { kind: "deleted", code: 200 },
  fallback: { kind: "deleted", code: 200, fallback: true },
  evicted: { kind: "evicted", code: 201 },
  blocked: { kind: "blocked", code: 429, message: "pdb" },
  dryRun: { kind: "dry-run" },
  skipped: { kind: "skipped", why: "its cgroup is gone" },
  gone: { kind: "gone" },
  conflict: { kind: "conflict", message: "uid" },
  unknown: { kind: "unknown", code: 503, message: "x" },
  failed: { kind: "failed", code: 403, message: "rbac" },
};

Deno.test("one outcome, every reader's word for it", () => {
  // name: [action, cooldown, wrote, answered, metric mode (delete configured), result, replay]
  const table: Record<string, [boolean, boolean, boolean, boolean, string, string, string | null]> =
    {
      deleted: [true, true, true, true, "delete", "success", "delete"],
      fallback: [true, true, true, true, "delete", "success", "delete"],
      evicted: [true, true, true, true, "evict", "success", "evict"],
      blocked: [false, false, false, true, "evict", "blocked", null],
      dryRun: [true, true, false, false, "dry_run", "success", null],
      skipped: [false, false, false, false, "delete", "skipped", null],
      gone: [false, false, false, true, "delete", "skipped", null],
      conflict: [false, false, false, true, "delete", "skipped", null],
      unknown: [false, true, true, false, "delete", "failed", null],
      failed: [false, false, false, false, "delete", "failed", null],
    };
  for (
    const [name, [action, cooldown, wrote, answered, mode, result, verb]] of Object.entries(table)
  ) {
    const outcome = OUTCOMES[name]!;
    assert.deepEqual(
      [
        isAction(outcome),
        startsCooldown(outcome),
        mayHaveWritten(outcome),
        apiAnswered(outcome),
        terminationLabels(outcome, "delete").mode,
        terminationLabels(outcome, "delete").result,
        replayVerb(outcome),
      ],
      [action, cooldown, wrote, answered, mode, result, verb],
      name,
    );
  }
});

Deno.test("the action words of the decision line and the Event", () => {
  const armed = { dryRun: false, terminationMode: "evict" } as const;
  assert.equal(loggedAction(OUTCOMES.evicted!, armed), "evict");
  assert.equal(loggedAction(OUTCOMES.fallback!, armed), "delete (eviction fallback)");
  assert.equal(loggedAction(OUTCOMES.dryRun!, { ...armed, dryRun: true }), "would evict");
  assert.equal(loggedAction(OUTCOMES.fallback!, { ...armed, dryRun: true }), "would delete");
  assert.equal(eventAction(OUTCOMES.dryRun!, "evict"), "Evict");
  assert.equal(eventAction(OUTCOMES.dryRun!, undefined), "Delete");
  assert.equal(eventAction(OUTCOMES.evicted!, "delete"), "Evict");
});

Deno.test("outcomeOf() keeps what the API said, Retry-After only when sent", () => {
  assert.deepEqual(outcomeOf({ kind: "gone", code: 404 }), { kind: "gone" });
  assert.deepEqual(outcomeOf({ kind: "failed", code: 429, message: "m" }), {
    kind: "failed",
    code: 429,
    message: "m",
  });
  assert.deepEqual(outcomeOf({ kind: "failed", code: 429, message: "m", retryAfterMs: 5 }), {
    kind: "failed",
    code: 429,
    message: "m",
    retryAfterMs: 5,
  });
  assert.deepEqual(outcomeOf({ kind: "blocked", code: 429, message: "pdb" }), OUTCOMES.blocked);
});
