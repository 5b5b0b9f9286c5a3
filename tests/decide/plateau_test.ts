// The "plateau" headroom model against shapes real servers and leaks take (table-driven),
// next to the first version's straight line ("linear") on the same series.
import assert from "node:assert/strict";
import {
  type ContainerHeadroom,
  INITIAL_HEADROOM_STATE,
  updateHeadroom,
} from "../../src/decide/headroom.ts";
import { headroomEstimator, type HeadroomModel } from "../../src/decide/headroom_settings.ts";
import {
  growthRun,
  type LevelPoint,
  projectLevel,
  secondsToLimit,
} from "../../src/decide/level_projection.ts";
import type { PodStats } from "../../src/sense/pod_stats.ts";

const MiB = 1 << 20;
/** Grace 30 s + the default 10 s margin: the headroom trigger acts below this. */
const NEEDED_S = 40;

function pod(swapBytes: number, swapMaxMiB: number): PodStats {
  const container = {
    id: "c",
    swapCurrentBytes: swapBytes,
    swapMaxBytes: swapMaxMiB * MiB,
    memoryCurrentBytes: 320 * MiB,
    memoryMaxBytes: 320 * MiB,
  };
  return {
    uid: "p",
    cgroupPath: "/cg/p",
    qosClass: "burstable",
    swapCurrentBytes: swapBytes,
    memoryCurrentBytes: 320 * MiB,
    memoryMaxBytes: 320 * MiB,
    fullAvg10Percent: 10,
    someAvg10Percent: 50,
    oomKillCount: 0,
    containers: [container],
  };
}

/** One reading a second for `seconds`; swap capped at the limit (the kernel's wall). */
function estimates(
  model: HeadroomModel,
  swapMaxMiB: number,
  seconds: number,
  swapMiBAt: (t: number) => number,
): ContainerHeadroom[] {
  const settings = headroomEstimator(1000, model);
  let state = INITIAL_HEADROOM_STATE;
  const out: ContainerHeadroom[] = [];
  for (let t = 0; t <= seconds; t++) {
    const swap = Math.min(swapMiBAt(t), swapMaxMiB) * MiB;
    const step = updateHeadroom(state, [pod(swap, swapMaxMiB)], 8192 * MiB, t * 1000, settings);
    state = step.state;
    out.push(step.containers[0]!);
  }
  return out;
}

/** The second the trigger would act (time left under grace + margin), or null. */
function firesAt(series: readonly ContainerHeadroom[]): number | null {
  const i = series.findIndex((c) => c.secondsLeft !== null && c.secondsLeft < NEEDED_S);
  return i < 0 ? null : i;
}

/**
 * A server warming up (issue 11's database): swap from 8 s on, 17 MiB/s at first, slowing
 * down as it approaches a 306 MiB plateau: s(t) = 306·(1 − e^(−(t−8)/18)).
 */
const warmUp = (t: number) => (t < 8 ? 0 : 306 * (1 - Math.exp(-(t - 8) / 18)));
/** A leak: 4 MiB/s from 12 s on. */
const leak = (t: number) => Math.max(0, (t - 12) * 4);
/** A leak in steps: 50 MiB at once every 3 s. */
const steps = (t: number) => 50 * Math.floor(t / 3);
/** A ramp: 6 MiB/s for 5 s from 10 s, then flat for good. */
const ramp = (t: number) => 6 * Math.min(5, Math.max(0, t - 10));
/** A one-off jump: 0 → 200 MiB in one second at 10 s, then flat. */
const jump = (t: number) => (t < 10 ? 0 : 200);

Deno.test("plateau vs linear on the shapes of real servers and leaks: who is acted on, and when", () => {
  // [shape, swap limit MiB, seconds, model, acts at (s) or null, must act by (s)]
  const table: [string, number, number, HeadroomModel, boolean, number][] = [
    // Ample limit: the warm-up levels off at 306 MiB of 512 and lives: never acted on.
    ["warm-up, 512 MiB limit", 512, 300, "plateau", false, 0],
    // The first version projected the early 17 MiB/s straight into the limit: a false kill.
    ["warm-up, 512 MiB limit", 512, 300, "linear", true, 12],
    // Too small: the same curve crosses 256 MiB at 40.6 s; acted on while there is time.
    ["warm-up, 256 MiB limit", 256, 120, "plateau", true, 20],
    ["warm-up, 256 MiB limit", 256, 120, "linear", true, 20],
    // Leaks that never slow down: both project them.
    ["leak 4 MiB/s, 256 MiB limit", 256, 120, "plateau", true, 40],
    ["leak 4 MiB/s, 256 MiB limit", 256, 120, "linear", true, 40],
    // A leak in steps, paused between: the first version never saw sustained growth.
    ["50 MiB every 3 s, 512 MiB limit", 512, 40, "plateau", true, 18],
    ["50 MiB every 3 s, 512 MiB limit", 512, 40, "linear", false, 0],
    // A ramp that stops after 5 s, and a one-off jump: nothing to project.
    ["ramp 5 s, 53 MiB limit", 53, 60, "plateau", false, 0],
    ["ramp 5 s, 53 MiB limit", 53, 60, "linear", true, 20],
    ["jump to 200 MiB, 256 MiB limit", 256, 60, "plateau", false, 0],
    ["jump to 200 MiB, 256 MiB limit", 256, 60, "linear", false, 0],
  ];
  const shapes: Record<string, (t: number) => number> = {
    "warm-up": warmUp,
    "leak 4": leak,
    "50 MiB": steps,
    "ramp 5": ramp,
    "jump to": jump,
  };
  for (const [name, limit, seconds, model, acts, by] of table) {
    const shape = Object.entries(shapes).find(([prefix]) => name.startsWith(prefix))![1];
    const at = firesAt(estimates(model, limit, seconds, shape));
    const label = `${name}, ${model}: acts at ${at}`;
    if (!acts) assert.equal(at, null, label);
    else assert.ok(at !== null && at <= by, label);
  }
});

Deno.test("plateau: the warm-up's plateau is found within 10 % once it slows down, and never fires", () => {
  const series = estimates("plateau", 512, 300, warmUp);
  for (const t of [30, 45, 60]) {
    const plateau = series[t]!.plateauBytes;
    assert.ok(plateau !== null, `plateau at ${t} s`);
    assert.ok(Math.abs(plateau / MiB - 306) < 31, `${t} s: ${(plateau / MiB).toFixed(0)} MiB`);
    assert.equal(series[t]!.secondsLeft, null, "levels off below the limit");
  }
});

Deno.test("plateau: time left along the curve matches the curve's own crossing of a 256 MiB limit", () => {
  // s(t) = 306·(1 − e^(−(t−8)/18)) reaches 256 MiB at t = 8 + 18·ln(306/50) = 40.6 s.
  const crossing = 8 + 18 * Math.log(306 / 50);
  const series = estimates("plateau", 256, 40, warmUp);
  for (const t of [20, 25, 30]) {
    const left = series[t]!.secondsLeft;
    assert.ok(left !== null, `${t} s`);
    assert.ok(Math.abs(t + left - crossing) < 4, `${t} s: projected ${(t + left).toFixed(1)} s`);
  }
});

Deno.test("secondsToLimit() along a straight line and along the decelerating curve", () => {
  const straight = {
    levelBytes: 0,
    growthBytesPerSecond: 2 * MiB,
    decelerationPerSecond: null,
    plateauBytes: null,
  };
  assert.equal(secondsToLimit(straight, 100 * MiB), 50);
  assert.equal(secondsToLimit(straight, 0), 0);
  // rate = 0.1/s × (300 MiB − s): from 100 MiB to 250 MiB takes ln(200/50)/0.1 = 13.9 s.
  const curve = {
    levelBytes: 100 * MiB,
    growthBytesPerSecond: 20 * MiB,
    decelerationPerSecond: 0.1,
    plateauBytes: 300 * MiB,
  };
  assert.ok(Math.abs(secondsToLimit(curve, 150 * MiB)! - Math.log(4) / 0.1) < 1e-9);
  assert.equal(secondsToLimit(curve, 200 * MiB), null, "the limit is at the plateau");
  assert.equal(secondsToLimit(curve, 250 * MiB), null, "the limit is above the plateau");
});

Deno.test("growthRun() tolerates pauses up to 4 s and small dips, never a stall, a gap or a shrink", () => {
  const series = (values: number[], stepMs = 1000): LevelPoint[] =>
    values.map((mib, i) => ({ atMs: i * stepMs, levelBytes: mib * MiB }));
  const plateau = headroomEstimator(1000, "plateau");
  const table: [string, LevelPoint[], number | null][] = [
    ["growth for 6 s only", series([0, 1, 2, 3, 4, 5, 6]), null],
    ["growth for 7 s", series([0, 1, 2, 3, 4, 5, 6, 7]), 8],
    ["flat start is not part of the run", series([5, 5, 5, 5, 6, 7, 8, 9, 10, 11, 12]), 8],
    ["steps every 3 s", series([0, 50, 50, 50, 100, 100, 100, 150, 150]), 9],
    ["stopped 5 s ago", series([0, 1, 2, 3, 4, 5, 6, 7, 8, 8, 8, 8, 8, 8]), null],
    ["a stall of 5 s inside", series([0, 1, 2, 3, 3, 3, 3, 3, 3, 4, 5, 6, 7, 8, 9]), null],
    ["shrinks inside", series([0, 20, 40, 60, 30, 32, 34, 36, 38, 40, 42, 44]), 8],
    // Swap-ins free swap slots: a server's swap dips a little now and then (2 MiB here).
    ["dips inside", series([0, 3, 6, 9, 7, 10, 13, 16, 19]), 9],
    ["read 5 s apart", series([0, 10, 20, 30, 40], 5000), null],
  ];
  for (const [name, points, length] of table) {
    const found = growthRun(points, plateau);
    assert.equal(found?.length ?? null, length, name);
  }
  assert.equal(projectLevel(series([0, 1, 2, 3, 4, 5, 6]), plateau), null);
});
