// The headroom estimator's level: the container's footprint (anon + shmem + swap −
// swapcached) against the room the kernel leaves, and fits that one reading cannot steer.
import assert from "node:assert/strict";
import { INITIAL_HEADROOM_STATE, levelOf, updateHeadroom } from "../../src/decide/headroom.ts";
import { headroomEstimator } from "../../src/decide/headroom_settings.ts";
import type { ContainerFootprint, ContainerStats, PodStats } from "../../src/sense/pod_stats.ts";

const MiB = 1 << 20;
const DEFAULT = headroomEstimator(1000);

function container(
  swapMiB: number,
  footprint?: Partial<Record<keyof ContainerFootprint, number>>,
  opts: { swapMaxMiB?: number | null; memoryMiB?: number; memoryMaxMiB?: number | null } = {},
): ContainerStats {
  return {
    id: "c",
    swapCurrentBytes: swapMiB * MiB,
    swapMaxBytes: opts.swapMaxMiB === null ? null : (opts.swapMaxMiB ?? 128) * MiB,
    memoryCurrentBytes: (opts.memoryMiB ?? 128) * MiB,
    memoryMaxBytes: opts.memoryMaxMiB === null ? null : (opts.memoryMaxMiB ?? 128) * MiB,
    ...(footprint
      ? {
        footprint: {
          anonBytes: (footprint.anonBytes ?? 0) * MiB,
          shmemBytes: (footprint.shmemBytes ?? 0) * MiB,
          fileBytes: (footprint.fileBytes ?? 0) * MiB,
          swapCachedBytes: (footprint.swapCachedBytes ?? 0) * MiB,
        },
      }
      : {}),
  };
}

function pod(c: ContainerStats): PodStats {
  return {
    uid: "p",
    cgroupPath: "/cg/p",
    qosClass: "burstable",
    swapCurrentBytes: c.swapCurrentBytes,
    memoryCurrentBytes: c.memoryCurrentBytes,
    memoryMaxBytes: c.memoryMaxBytes,
    fullAvg10Percent: 5,
    someAvg10Percent: 20,
    oomKillCount: 0,
    containers: [c],
  };
}

/** One scan a second; returns each scan's estimate of the one container. */
function run(containers: readonly ContainerStats[], nodeSwapFreeMiB = 4096) {
  let state = INITIAL_HEADROOM_STATE;
  return containers.map((c, s) => {
    const step = updateHeadroom(state, [pod(c)], nodeSwapFreeMiB * MiB, s * 1000, DEFAULT);
    state = step.state;
    return step.containers[0]!;
  });
}

Deno.test("levelOf(): the footprint and the room the kernel leaves, by the table", () => {
  const rows: {
    name: string;
    c: ContainerStats;
    nodeFreeMiB: number;
    level: number;
    room: number;
    source: string;
  }[] = [
    {
      name: "no memory.stat: swap against the swap limit",
      c: container(40),
      nodeFreeMiB: 4096,
      level: 40,
      room: 88,
      source: "memory.swap.current",
    },
    {
      name: "anon + swap − swapcached; room: swap left + page cache",
      c: container(60, { anonBytes: 100, fileBytes: 20, swapCachedBytes: 30 }),
      nodeFreeMiB: 4096,
      level: 130,
      room: 68 + 20,
      source: "footprint",
    },
    {
      name: "shmem is swap-backed: in the level, not in the page cache",
      c: container(10, { anonBytes: 20, shmemBytes: 90, fileBytes: 100 }),
      nodeFreeMiB: 4096,
      level: 120,
      room: 118 + 10,
      source: "footprint",
    },
    {
      name: "free memory under memory.max is room",
      c: container(0, { anonBytes: 50 }, { memoryMiB: 60 }),
      nodeFreeMiB: 4096,
      level: 50,
      room: 128 + 68,
      source: "footprint",
    },
    {
      name: "the node's free swap bounds the swap left",
      c: container(60, { anonBytes: 100 }),
      nodeFreeMiB: 10,
      level: 160,
      room: 10,
      source: "footprint",
    },
    {
      name: "no memory.max: free memory is not counted",
      c: container(60, { anonBytes: 100 }, { memoryMaxMiB: null }),
      nodeFreeMiB: 4096,
      level: 160,
      room: 68,
      source: "footprint",
    },
  ];
  for (const row of rows) {
    const reading = levelOf(row.c, row.nodeFreeMiB * MiB, DEFAULT);
    assert.equal(reading.source, row.source, row.name);
    assert.equal(reading.levelBytes, row.level * MiB, row.name);
    assert.equal(reading.roomBytes, row.room * MiB, row.name);
  }
  // The first version's estimator follows swap whatever memory.stat says.
  const linear = levelOf(
    container(60, { anonBytes: 100 }),
    4096 * MiB,
    headroomEstimator(1000, "linear"),
  );
  assert.equal(linear.source, "memory.swap.current");
});

Deno.test("updateHeadroom(): swap churn that fills the swap cache is not growth", () => {
  // 20 s at memory.max: swap climbs 40 → 78 MiB as swapped-in pages keep their slots (the
  // swap cache grows as fast), the footprint stays at 140 MiB.
  const series = Array.from(
    { length: 21 },
    (_, s) => container(40 + 2 * s, { anonBytes: 100 - (s % 3), swapCachedBytes: 2 * s - (s % 3) }),
  );
  const estimates = run(series);
  for (const e of estimates) {
    assert.equal(e.levelSource, "footprint");
    assert.equal(e.secondsLeft, null, `${e.levelBytes / MiB} MiB`);
  }
  // The same swap figures without memory.stat look like 2 MiB/s into a 128 MiB limit.
  const swapOnly = run(series.map((c) => ({ ...c, footprint: undefined })));
  assert.ok(swapOnly.at(-1)!.secondsLeft !== null && swapOnly.at(-1)!.secondsLeft! < 40);
});

Deno.test("updateHeadroom(): a one-reading jump at the end of flat swap is not projected", () => {
  // 6.12-thrash: flat near 37 MiB with small churn, then 41.5 MiB for one reading.
  const flat = Array.from({ length: 15 }, (_, s) => container(36.5 + (s % 4) * 0.3));
  const estimates = run([...flat, container(41.5)]);
  const last = estimates.at(-1)!;
  assert.ok(last.secondsLeft === null || last.secondsLeft > 40, String(last.secondsLeft));
});

Deno.test("updateHeadroom(): a leak in the footprint is projected against the whole room", () => {
  // 2 MiB/s of new anon pages at memory.max, swap taking them, 10 MiB of page cache.
  const series = Array.from(
    { length: 16 },
    (_, s) => container(20 + 2 * s, { anonBytes: 110, fileBytes: 10, swapCachedBytes: 1 }),
  );
  const last = run(series).at(-1)!;
  assert.ok(Math.abs(last.growthBytesPerSecond! - 2 * MiB) < 1e-6 * MiB);
  // Room: 128 − 50 MiB of swap + 10 MiB of page cache = 88 MiB at 2 MiB/s.
  assert.ok(Math.abs(last.secondsLeft! - 44) < 1e-6, String(last.secondsLeft));
  assert.equal(last.swapBytes, 50 * MiB);
  assert.equal(last.levelBytes, (110 + 50 - 1) * MiB);
});

Deno.test("updateHeadroom(): a change of level source starts the container's readings over", () => {
  const withStat = Array.from({ length: 10 }, (_, s) => container(10 + 5 * s, { anonBytes: 100 }));
  let state = INITIAL_HEADROOM_STATE;
  withStat.forEach((c, s) => {
    state = updateHeadroom(state, [pod(c)], 4096 * MiB, s * 1000, DEFAULT).state;
  });
  assert.equal([...state.values()][0]!.points.length, 10);
  const next = updateHeadroom(state, [pod(container(60))], 4096 * MiB, 10_000, DEFAULT);
  assert.equal([...next.state.values()][0]!.source, "memory.swap.current");
  assert.equal([...next.state.values()][0]!.points.length, 1);
  assert.equal(next.containers[0]!.secondsLeft, null);
});
