import assert from "node:assert/strict";
import { DEFAULTS } from "../../src/config.ts";
import type { ContainerHeadroom } from "../../src/decide/headroom.ts";
import type { PressureObservation } from "../../src/decide/node_pressure.ts";
import {
  exclusionsOf,
  type PolicyConfig,
  roundEnd,
  swapFreeLow,
  type TickFacts,
  triesNextCandidate,
  TRIGGERS,
  underPressure,
} from "../../src/decide/policy.ts";
import type { Meminfo } from "../../src/sense/meminfo.ts";
import { podMeta, podStats } from "../fakes/pod_records.ts";

const MiB = 1 << 20;
const CONFIG: PolicyConfig = { ...DEFAULTS };

function observation(phase: PressureObservation["phase"]): PressureObservation {
  return {
    phase,
    cooldownRemainingMs: 0,
    reading: { ratePagesPerSecond: 2_000, windowMs: 10_000, samplesAbove: 10, samplesNeeded: 10 },
  } as unknown as PressureObservation;
}

function meminfo(swapFreeBytes: number, swapTotalBytes: number): Meminfo {
  return { swapFreeBytes, swapTotalBytes } as Meminfo;
}

function container(podUid: string, secondsLeft: number | null): ContainerHeadroom {
  return {
    podUid,
    containerId: `c-${podUid}`,
    swapBytes: 100 * MiB,
    swapLimitBytes: 256 * MiB,
    limitSource: "memory.swap.max",
    swapFullPercent: 40,
    levelSource: "memory.swap.current",
    levelBytes: 100 * MiB,
    levelLimitBytes: 256 * MiB,
    growthBytesPerSecond: 1 * MiB,
    plateauBytes: null,
    secondsLeft,
    observedSeconds: secondsLeft === null ? null : 20,
    credible: secondsLeft !== null,
    atMemoryMax: true,
    growing: true,
  };
}

function facts(partial: Partial<TickFacts>): TickFacts {
  return {
    observation: observation("calm"),
    meminfo: meminfo(900 * MiB, 1000 * MiB),
    pods: [],
    containers: [],
    atRisk: [],
    swapIoRates: null,
    actedOn: new Set(),
    ...partial,
  };
}

const firing = (f: TickFacts, config: PolicyConfig = CONFIG) =>
  TRIGGERS.filter((t) => t.fires(f, config)).map((t) => t.kind);

Deno.test("TRIGGERS: most urgent first (headroom, node swap free, swap I/O)", () => {
  assert.deepEqual(TRIGGERS.map((t) => t.kind), ["headroom", "node-swap-free", "swap-io"]);
});

Deno.test("TRIGGERS: which rules fire on which facts", () => {
  const table: [string, Partial<TickFacts>, PolicyConfig, string[]][] = [
    ["calm node, headroom on", {}, CONFIG, ["headroom"]],
    ["calm node, headroom off", {}, { ...CONFIG, headroomTrigger: false }, []],
    [
      "swap under 5 % free",
      { meminfo: meminfo(40 * MiB, 1000 * MiB) },
      { ...CONFIG, headroomTrigger: false },
      ["node-swap-free"],
    ],
    [
      "swap exactly at 5 % free",
      { meminfo: meminfo(50 * MiB, 1000 * MiB) },
      { ...CONFIG, headroomTrigger: false },
      [],
    ],
    ["no meminfo", { meminfo: undefined }, { ...CONFIG, headroomTrigger: false }, []],
    [
      "window full",
      { observation: observation("sustained") },
      { ...CONFIG, headroomTrigger: false },
      ["swap-io"],
    ],
    [
      "cooldown",
      { observation: observation("cooldown") },
      { ...CONFIG, headroomTrigger: false },
      [],
    ],
  ];
  for (const [name, partial, config, expected] of table) {
    assert.deepEqual(firing(facts(partial), config), expected, name);
  }
});

Deno.test("swapFreeLow() never fires on a node without swap", () => {
  assert.equal(swapFreeLow(meminfo(0, 0), 5), false);
  assert.equal(swapFreeLow(meminfo(1, 100), 5), true);
  assert.equal(swapFreeLow(undefined, 100), false);
});

Deno.test("headroom: one victim per pod in urgency order, pods acted on ask nothing", () => {
  const [headroom] = TRIGGERS;
  const f = facts({
    pods: [podStats("a", 100 * MiB, 0), podStats("b", 100 * MiB, 90), podStats("z", MiB, 0)],
    containers: [container("b", 35), container("a", 5), container("a", 8), container("z", 1)],
    atRisk: [container("b", 35), container("a", 5), container("z", 1)],
    actedOn: new Set(["z"]),
  });
  assert.deepEqual(headroom!.needsGraceOf(f), ["b", "a"]);
  const shortlist = headroom!.candidates(f, CONFIG, () => 30);
  assert.equal(shortlist.flagged, true);
  // Urgency, not PSI: "a" (5 s left) before "b" (35 s left, needs 40 s).
  assert.deepEqual(shortlist.selection.ranked.map((c) => c.stats.uid), ["a", "b"]);
  const selection = headroom!.victims(
    shortlist,
    [podMeta("a", "alpha", { namespace: "kube-system" }), podMeta("b", "beta")],
    exclusionsOf(CONFIG, f.actedOn),
  );
  assert.deepEqual(selection.ranked.map((c) => c.pod?.name), ["beta"]);
  assert.deepEqual(selection.rejected.map((r) => r.reason), ["protected namespace"]);
  const text = headroom!.explain(selection.ranked[0]!, selection, shortlist, f);
  assert.equal(text.properties.container, "c-b");
  // A long grace period turns 35 s left into no alarm for "b".
  const slow = headroom!.candidates(f, CONFIG, (uid) => (uid === "b" ? 10 : 30));
  assert.deepEqual(slow.selection.ranked.map((c) => c.stats.uid), ["a"]);
});

Deno.test("node triggers: swap-free waives the PSI threshold, swap-io keeps it", () => {
  const [, swapFree, swapIo] = TRIGGERS;
  const f = facts({ pods: [podStats("low", 10 * MiB, 1), podStats("high", MiB, 80)] });
  const free = swapFree!.candidates(f, CONFIG, () => null);
  assert.deepEqual(free.selection.ranked.map((c) => c.stats.uid), ["high", "low"]);
  const io = swapIo!.candidates(f, CONFIG, () => null);
  assert.deepEqual(io.selection.ranked.map((c) => c.stats.uid), ["high"]);
  assert.equal(swapIo!.candidates(facts({}), CONFIG, () => null).flagged, false);
  // Attribution ranks by each pod's own swap I/O; it qualifies only when asked to.
  const rates = new Map([["low", 5_000], ["high", 10]]);
  const attributed = swapIo!.candidates({ ...f, swapIoRates: rates }, CONFIG, () => null);
  assert.deepEqual(attributed.selection.ranked.map((c) => c.stats.uid), ["high"]);
  const qualifies = swapIo!.candidates(
    { ...f, swapIoRates: rates },
    { ...CONFIG, swapIoAttributionQualifies: true },
    () => null,
  );
  assert.deepEqual(qualifies.selection.ranked.map((c) => c.stats.uid), ["low", "high"]);
  // The decision line's table names the pods of the second cut, not the first.
  const named = swapIo!.victims(io, [podMeta("high", "web"), podMeta("low", "db")], {
    ...exclusionsOf(CONFIG, new Set()),
  });
  const text = swapIo!.explain(named.ranked[0]!, named, io, f);
  const rows = text.properties.candidates as { pod: string; status: string }[];
  assert.deepEqual(rows.map((r) => [r.pod, r.status]), [
    ["default/web", "candidate"],
    ["default/db", "below psi threshold"],
  ]);
  assert.equal(swapFree!.ifNoCandidate, "next");
  assert.equal(swapIo!.ifNoCandidate, "report");
});

Deno.test("round rules: blocked tries the next candidate; how a round ends", () => {
  assert.equal(triesNextCandidate({ kind: "blocked" }), true);
  for (const kind of ["deleted", "evicted", "failed", "unknown", "skipped", "gone"]) {
    assert.equal(triesNextCandidate({ kind }), false, kind);
  }
  assert.equal(roundEnd({ kind: "deleted" }, true), "acted");
  assert.equal(roundEnd({ kind: "unknown" }, true), "acted");
  assert.equal(roundEnd({ kind: "blocked" }, false), "all-blocked");
  assert.equal(roundEnd({ kind: "failed" }, false), "inconclusive");
  assert.equal(underPressure(facts({}), CONFIG), false);
  assert.equal(underPressure(facts({ atRisk: [container("a", 5)] }), CONFIG), true);
  assert.equal(underPressure(facts({ observation: observation("sustained") }), CONFIG), true);
});
