import assert from "node:assert/strict";
import { Health } from "../../src/observe/health.ts";
import { FakeClock } from "../fakes/fake_clock.ts";

Deno.test("Health: ready only after the first sample and the API check, in either order", () => {
  for (const order of [["sample", "api"], ["api", "sample"]]) {
    const clock = new FakeClock();
    const health = new Health(clock, 1000);
    assert.deepEqual(health.readiness(), {
      ok: false,
      detail: "not ready: no swap sample read yet; the API server has not answered yet",
    });
    // A tick that could not read the swap counters does not count as a sample.
    health.tickDone(false);
    assert.equal(health.readiness().ok, false);
    for (const step of order) {
      assert.equal(health.readiness().ok, false, `not ready before ${step}`);
      if (step === "sample") health.tickDone(true);
      else health.apiReachable();
    }
    assert.deepEqual(health.readiness(), { ok: true, detail: "ok" });
  }
});

Deno.test("Health: live → stalled after more than 3 poll intervals → live again on the next tick", () => {
  const clock = new FakeClock(5_000);
  const health = new Health(clock, 1000);
  assert.deepEqual(health.liveness(), { ok: true, detail: "ok" }, "live from the start");
  clock.advance(900);
  health.tickDone(true);
  clock.advance(3000);
  assert.equal(health.liveness().ok, true, "exactly 3 intervals is not a stall");
  clock.advance(1);
  const stalled = health.liveness();
  assert.equal(stalled.ok, false);
  assert.match(stalled.detail, /^stalled: no tick for 3 s \(limit 3 s, 3 poll intervals\)$/);
  clock.advance(10_000);
  assert.match(health.liveness().detail, /no tick for 13 s/);
  health.tickDone(false);
  assert.deepEqual(health.liveness(), { ok: true, detail: "ok" }, "recovers with the next tick");
});

Deno.test("Health: a loop that never ticks is stalled after 3 intervals from the start", () => {
  const clock = new FakeClock();
  const health = new Health(clock, 500);
  clock.advance(1500);
  assert.equal(health.liveness().ok, true);
  clock.advance(1);
  assert.equal(health.liveness().ok, false);
});
