import assert from "node:assert/strict";
import {
  type ContainerHeadroom,
  containersAtRisk,
  headroomAlarms,
  INITIAL_HEADROOM_STATE,
  updateHeadroom,
} from "../../src/decide/headroom.ts";
import { headroomEstimator } from "../../src/decide/headroom_settings.ts";
import { growthBytesPerSecond, type LevelPoint } from "../../src/decide/level_projection.ts";
import type { PodStats } from "../../src/sense/pod_stats.ts";

const MiB = 1 << 20;

function pod(swapBytes: number, opts: Partial<{
  swapMaxBytes: number | null;
  memoryCurrentBytes: number;
  memoryMaxBytes: number | null;
}> = {}): PodStats {
  return {
    uid: "pod-a",
    cgroupPath: "/cg/pod-a",
    qosClass: "burstable",
    swapCurrentBytes: swapBytes,
    memoryCurrentBytes: 0,
    memoryMaxBytes: null,
    fullAvg10Percent: 12,
    someAvg10Percent: 50,
    oomKillCount: 0,
    containers: [{
      id: "c1",
      swapCurrentBytes: swapBytes,
      swapMaxBytes: opts.swapMaxBytes === undefined ? 256 * MiB : opts.swapMaxBytes,
      memoryCurrentBytes: opts.memoryCurrentBytes ?? 320 * MiB,
      memoryMaxBytes: opts.memoryMaxBytes === undefined ? 320 * MiB : opts.memoryMaxBytes,
    }],
  };
}

/** Feeds one scan per second with swap from `swapAt(second)`; returns each scan's estimate. */
function run(
  seconds: number,
  swapAt: (second: number) => number,
  nodeSwapFreeBytes = 4096 * MiB,
  opts = {},
): ContainerHeadroom[] {
  let state = INITIAL_HEADROOM_STATE;
  const out: ContainerHeadroom[] = [];
  for (let s = 0; s <= seconds; s++) {
    const step = updateHeadroom(state, [pod(swapAt(s), opts)], nodeSwapFreeBytes, s * 1000);
    state = step.state;
    out.push(step.containers[0]!);
  }
  return out;
}

Deno.test("growthBytesPerSecond() projects only growth sustained on every reading for 4 s", () => {
  const series = (values: number[]): LevelPoint[] =>
    values.map((mib, s) => ({ atMs: s * 1000, levelBytes: mib * MiB }));
  const table: [string, number[], number | null][] = [
    ["one reading", [0], null],
    ["growth for 3 s only", [0, 2, 4, 6], null],
    ["steady growth for 4 s", [0, 2, 4, 6, 8], 2 * MiB],
    ["steady growth after a flat start", [5, 5, 5, 7, 9, 11, 13], 2 * MiB],
    // The burst the VM suite saw on 7.3: 0 → 33 MiB in one second, then flat.
    ["one-off jump, then flat", [0, 0, 33, 33, 33, 33, 33], null],
    ["one-off jump, then noise", [0, 0, 33, 33.01, 33.02, 33.03, 33.04], null],
    ["jump in the last interval", [0, 0, 0, 0, 33], null],
    ["shrinking", [40, 38, 36, 34, 32, 30], null],
  ];
  for (const [name, values, expected] of table) {
    const rate = growthBytesPerSecond(series(values));
    if (expected === null) assert.equal(rate, null, name);
    else assert.ok(rate !== null && Math.abs(rate - expected) < 1, `${name}: ${rate}`);
  }
});

Deno.test("growthBytesPerSecond() takes the slower of the run's slope and its last intervals", () => {
  // A ramp that is levelling off (thrash): 20, 17, 3, 1 MiB per second.
  const points = [0, 20, 37, 40, 41].map((mib, s) => ({ atMs: s * 1000, levelBytes: mib * MiB }));
  const rate = growthBytesPerSecond(points)!;
  assert.ok(Math.abs(rate - 2 * MiB) < 1, String(rate / MiB));
});

Deno.test("updateHeadroom() on the MariaDB figures: 2.6 MB/s into a 256M limit", () => {
  const rate = 2.6e6;
  const estimates = run(60, (s) => s * rate);
  for (const e of estimates.slice(0, 7)) assert.equal(e.secondsLeft, null, "7 s of growth first");
  assert.notEqual(estimates[7]!.secondsLeft, null);
  assert.equal(estimates[40]!.plateauBytes, null, "steady growth is not slowing down");
  const at40 = estimates[40]!;
  assert.ok(Math.abs(at40.growthBytesPerSecond! - rate) < 1, String(at40.growthBytesPerSecond));
  const expectedLeft = (256 * MiB - 40 * rate) / rate;
  assert.ok(Math.abs(at40.secondsLeft! - expectedLeft) < 0.01);
  assert.equal(at40.limitSource, "memory.swap.max");
  assert.equal(at40.atMemoryMax, true);
});

Deno.test("updateHeadroom() never projects a burst that stops: 0 → 62 % in 1 s, then flat", () => {
  const estimates = run(10, (s) => (s < 2 ? 0 : 33 * MiB), 4096 * MiB, { swapMaxBytes: 53 * MiB });
  for (const e of estimates) assert.equal(e.secondsLeft, null);
});

Deno.test("updateHeadroom() gives no time left for shrinking or flat swap", () => {
  for (const e of run(20, (s) => 200 * MiB - s * MiB).slice(3)) assert.equal(e.secondsLeft, null);
  for (const e of run(20, () => 50 * MiB).slice(3)) assert.equal(e.secondsLeft, null);
});

Deno.test("updateHeadroom() with swap.max 'max' uses the node's free swap as the limit", () => {
  const estimates = run(10, (s) => s * 10 * MiB, 100 * MiB, { swapMaxBytes: null });
  const last = estimates[10]!;
  assert.equal(last.limitSource, "node free swap");
  assert.equal(last.swapLimitBytes, 200 * MiB);
  assert.ok(Math.abs(last.secondsLeft! - 10) < 1e-9);
  // A swap limit above what the node has free is bounded by the node too.
  const bounded = run(10, (s) => s * 10 * MiB, 50 * MiB, { swapMaxBytes: 1024 * MiB })[10]!;
  assert.equal(bounded.limitSource, "node free swap");
});

Deno.test("updateHeadroom() skips containers that cannot swap and forgets vanished ones", () => {
  const step = updateHeadroom(INITIAL_HEADROOM_STATE, [pod(0, { swapMaxBytes: 0 })], MiB, 0);
  assert.equal(step.containers.length, 0);
  const first = updateHeadroom(INITIAL_HEADROOM_STATE, [pod(MiB)], MiB, 0);
  assert.equal(first.state.size, 1);
  assert.equal(updateHeadroom(first.state, [], MiB, 1000).state.size, 0);
});

function headroom(partial: Partial<ContainerHeadroom>): ContainerHeadroom {
  return {
    podUid: "p",
    containerId: "c",
    swapBytes: 0,
    swapLimitBytes: 256 * MiB,
    limitSource: "memory.swap.max",
    swapFullPercent: 10,
    levelSource: "memory.swap.current",
    levelBytes: 0,
    levelLimitBytes: 256 * MiB,
    growthBytesPerSecond: null,
    plateauBytes: null,
    secondsLeft: null,
    observedSeconds: partial.secondsLeft == null ? null : 20,
    credible: partial.secondsLeft != null,
    atMemoryMax: true,
    growing: false,
    ...partial,
  };
}

Deno.test("headroomAlarms() fires below grace period + margin, or when full at memory.max", () => {
  const settings = { headroomMarginMs: 10_000, swapFullPercent: 95 };
  const grace = (uid: string) => (uid === "slow" ? 120 : uid === "unknown" ? null : 30);
  const table: [Partial<ContainerHeadroom>, string | null][] = [
    [{ podUid: "p", secondsLeft: 41 }, null],
    [{ podUid: "p", secondsLeft: 39.9 }, "time-left"],
    [{ podUid: "slow", secondsLeft: 100 }, "time-left"], // 120 s grace + 10 s
    [{ podUid: "unknown", secondsLeft: 39 }, "time-left"], // default 30 s grace
    [{ podUid: "p", swapFullPercent: 96, atMemoryMax: true }, "swap-full"],
    [{ podUid: "p", swapFullPercent: 96, atMemoryMax: false }, null],
    [{ podUid: "p", swapFullPercent: 94, atMemoryMax: true }, null],
  ];
  for (const [partial, reason] of table) {
    const alarms = headroomAlarms([headroom(partial)], grace, settings);
    assert.equal(alarms[0]?.reason ?? null, reason, JSON.stringify(partial));
  }
});

Deno.test("headroomAlarms() puts the most urgent first", () => {
  const alarms = headroomAlarms(
    [
      headroom({ podUid: "later", secondsLeft: 30 }),
      headroom({ podUid: "sooner", secondsLeft: 5 }),
      headroom({ podUid: "full", swapFullPercent: 99 }),
    ],
    () => 30,
    { headroomMarginMs: 10_000, swapFullPercent: 95 },
  );
  assert.deepEqual(alarms.map((a) => a.container.podUid), ["full", "sooner", "later"]);
});

Deno.test("containersAtRisk() looks ahead only within the horizon, and only at growth", () => {
  const at = containersAtRisk([
    headroom({ podUid: "soon", secondsLeft: 100 }),
    headroom({ podUid: "far", secondsLeft: 10_000 }),
    headroom({ podUid: "high-but-steady", swapFullPercent: 90 }),
  ], 600);
  assert.deepEqual(at.map((c) => c.podUid), ["soon"]);
});

Deno.test("growthBytesPerSecond() never bridges a gap: sparse readings cannot prove growth", () => {
  // What the agent saw on 6.12 (tests/vm): a reading 5.7 s before the thrash began (the pods
  // are not walked on a calm node), then two one second apart. Projected full in 1.7 s.
  const points: LevelPoint[] = [
    { atMs: 0, levelBytes: 0 },
    { atMs: 5_700, levelBytes: 20 * MiB },
    { atMs: 6_700, levelBytes: 41 * MiB },
  ];
  assert.equal(growthBytesPerSecond(points), null);
  // The same growth read every second for 4 s is projected.
  const dense = [0, 1, 2, 3, 4].map((s) => ({ atMs: s * 1000, levelBytes: s * 5 * MiB }));
  assert.ok(growthBytesPerSecond(dense)! > 4 * MiB);
  // A slower poll allows wider readings: 5 s polls, growth read every 5 s for 20 s.
  const slow = [0, 1, 2, 3, 4].map((s) => ({ atMs: s * 5000, levelBytes: s * 5 * MiB }));
  assert.equal(growthBytesPerSecond(slow), null);
  assert.ok(growthBytesPerSecond(slow, headroomEstimator(5_000))! > 0);
});

Deno.test("updateHeadroom() says which containers are growing, so the agent reads every tick", () => {
  const first = updateHeadroom(INITIAL_HEADROOM_STATE, [pod(10 * MiB)], 4096 * MiB, 0);
  assert.equal(first.containers[0]!.growing, false);
  const grew = updateHeadroom(first.state, [pod(12 * MiB)], 4096 * MiB, 6_000);
  assert.equal(grew.containers[0]!.growing, true, "even across a gap");
  const flat = updateHeadroom(grew.state, [pod(12 * MiB)], 4096 * MiB, 7_000);
  assert.equal(flat.containers[0]!.growing, false);
});

Deno.test("headroomAlarms() acts on a projection only as far ahead as 3× the growth seen", () => {
  const settings = { headroomMarginMs: 10_000, swapFullPercent: 95 };
  const grace = () => 30;
  // 8 MiB/s into a 306 MiB limit: after 7 s, 31.25 s left, a line drawn 4.5× further than it
  // was seen: not acted on, though under grace + margin (40 s).
  const series = run(10, (s) => s * 8 * MiB, 4096 * MiB, { swapMaxBytes: 306 * MiB });
  const at7 = series[7]!;
  assert.equal(at7.observedSeconds, 7);
  assert.ok(Math.abs(at7.secondsLeft! - 31.25) < 1e-9, String(at7.secondsLeft));
  assert.equal(at7.credible, false);
  assert.deepEqual(headroomAlarms([at7], grace, settings), []);
  // After 10 s: 28.25 s left, within 3 × 10 s.
  const at10 = series[10]!;
  assert.ok(Math.abs(at10.secondsLeft! - 28.25) < 1e-9, String(at10.secondsLeft));
  assert.equal(at10.credible, true);
  assert.equal(headroomAlarms([at10], grace, settings).length, 1);
});
