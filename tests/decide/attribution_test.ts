import assert from "node:assert/strict";
import { attributeSwapIo, INITIAL_ATTRIBUTION_STATE } from "../../src/decide/attribution.ts";
import type { PodStats } from "../../src/sense/pod_stats.ts";

function pod(uid: string, swapIo: PodStats["swapIo"]): PodStats {
  return {
    uid,
    cgroupPath: `/cg/${uid}`,
    qosClass: "burstable",
    swapCurrentBytes: 1,
    memoryCurrentBytes: 0,
    memoryMaxBytes: null,
    fullAvg10Percent: 0,
    someAvg10Percent: 0,
    oomKillCount: 0,
    containers: [],
    swapIo,
  };
}

Deno.test("attributeSwapIo() gives each pod's own swap I/O rate between scans", () => {
  const first = attributeSwapIo(INITIAL_ATTRIBUTION_STATE, [
    pod("a", { swapInPages: 100, swapOutPages: 100 }),
    pod("b", { swapInPages: 0, swapOutPages: 0 }),
  ], 0);
  assert.equal(first.available, true);
  assert.equal(first.ratesPagesPerSecond.size, 0, "no rate from a single reading");
  const second = attributeSwapIo(first.state, [
    pod("a", { swapInPages: 1_100, swapOutPages: 2_100 }),
    pod("b", { swapInPages: 10, swapOutPages: 0 }),
  ], 2_000);
  assert.deepEqual([...second.ratesPagesPerSecond], [["a", 1_500], ["b", 5]]);
});

Deno.test("attributeSwapIo() is unavailable where memory.stat lacks pswpin (kernel < 6.13)", () => {
  const result = attributeSwapIo(
    INITIAL_ATTRIBUTION_STATE,
    [pod("a", null), pod("b", undefined)],
    0,
  );
  assert.equal(result.available, false);
});

Deno.test("attributeSwapIo() clamps a counter that steps back to 0, never negative", () => {
  const first = attributeSwapIo(INITIAL_ATTRIBUTION_STATE, [
    pod("a", { swapInPages: 500, swapOutPages: 0 }),
  ], 0);
  const second = attributeSwapIo(
    first.state,
    [pod("a", { swapInPages: 400, swapOutPages: 0 })],
    1_000,
  );
  assert.equal(second.ratesPagesPerSecond.get("a"), 0);
});
