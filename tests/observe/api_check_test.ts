import assert from "node:assert/strict";
import { checkApiUntilReachable } from "../../src/observe/api_check.ts";
import { agentLogger } from "../../src/observe/log.ts";
import { FakeClock } from "../fakes/fake_clock.ts";

const log = agentLogger("test");

/** Lets pending promise callbacks run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("checkApiUntilReachable() retries with doubling backoff until the check passes", async () => {
  const clock = new FakeClock();
  const attemptsAtMs: number[] = [];
  let failuresLeft = 3;
  const done = checkApiUntilReachable(
    () => {
      attemptsAtMs.push(clock.monotonicMs());
      return failuresLeft-- > 0
        ? Promise.reject(new Error("connection refused"))
        : Promise.resolve();
    },
    { clock, log },
    new AbortController().signal,
  );
  for (let i = 0; i < 10 && attemptsAtMs.length < 4; i++) {
    await settle();
    clock.advance(1000);
  }
  assert.equal(await done, true);
  assert.deepEqual(attemptsAtMs, [0, 1000, 3000, 7000]);
});

Deno.test("checkApiUntilReachable() stops when the signal aborts, without success", async () => {
  const clock = new FakeClock();
  const stop = new AbortController();
  let attempts = 0;
  const done = checkApiUntilReachable(
    () => {
      attempts++;
      return Promise.reject(new Error("HTTP 403 Forbidden"));
    },
    { clock, log },
    stop.signal,
  );
  await settle();
  stop.abort();
  assert.equal(await done, false);
  assert.equal(attempts, 1);
  assert.equal(clock.pendingSleeps, 0);
});
