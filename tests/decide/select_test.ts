import assert from "node:assert/strict";
import type { PodMeta } from "../../src/decide/pod_meta.ts";
import type { PodStats } from "../../src/sense/pod_stats.ts";
import { podMeta, podStats } from "../fakes/pod_records.ts";
import {
  candidateName,
  DEFAULT_EXCLUSIONS,
  EXCLUDE_ANNOTATION,
  exclusionOf,
  type Exclusions,
  preselect,
  selectVictims,
} from "../../src/decide/select.ts";

const stats = (uid: string, swapBytes: number, full: number) => podStats(uid, swapBytes, full);
const meta = podMeta;

const names = (selection: { ranked: readonly { pod: PodMeta | null }[] }) =>
  selection.ranked.map((c) => c.pod?.name);

Deno.test("preselect() keeps pods with swap and full avg10 at or above the threshold", () => {
  const selection = preselect([
    stats("a", 0, 90), // no swap: left out entirely
    stats("b", 1 << 20, 49.99), // below threshold: rejected with reason
    stats("c", 1 << 20, 50), // at threshold: candidate
    stats("d", 2 << 20, 70),
  ], 50);
  assert.deepEqual(selection.ranked.map((c) => c.stats.uid), ["d", "c"]);
  assert.deepEqual(selection.rejected.map((r) => [r.candidate.stats.uid, r.reason]), [
    ["b", "below psi threshold"],
  ]);
});

Deno.test("selectVictims() prefers the highest full avg10, then the larger swap, then the name", () => {
  const pods = [
    meta("u1", "zeta"),
    meta("u2", "alpha"),
    meta("u3", "beta"),
    meta("u4", "gamma"),
  ];
  const table: { stats: PodStats[]; expected: string[] }[] = [
    {
      stats: [stats("u1", 1 << 20, 60), stats("u2", 9 << 20, 55), stats("u3", 1 << 20, 80)],
      expected: ["beta", "zeta", "alpha"],
    },
    {
      stats: [stats("u1", 1 << 20, 60), stats("u2", 3 << 20, 60), stats("u3", 2 << 20, 60)],
      expected: ["alpha", "beta", "zeta"],
    },
    {
      stats: [stats("u1", 5 << 20, 60), stats("u4", 5 << 20, 60), stats("u2", 5 << 20, 60)],
      expected: ["alpha", "gamma", "zeta"],
    },
  ];
  for (const { stats: podStats, expected } of table) {
    const selection = selectVictims(preselect(podStats, 50), pods);
    assert.deepEqual(names(selection), expected);
    // Deterministic whatever order the cgroup walk returned.
    const reversed = selectVictims(preselect([...podStats].reverse(), 50), pods);
    assert.deepEqual(names(reversed), expected);
  }
});

Deno.test("selectVictims() passes over terminating, mirror and unknown pods, saying why", () => {
  const staticUid = "0123456789abcdef0123456789abcdef";
  const selection = selectVictims(
    preselect([
      stats("t", 9 << 20, 99),
      stats(staticUid, 9 << 20, 98),
      stats("ghost", 9 << 20, 97),
      stats("ok", 1 << 20, 51),
    ], 50),
    [
      meta("t", "terminating-pod", { terminating: true }),
      meta("mirror-uid", "etcd-node-a", { mirrorOfUid: staticUid, namespace: "kube-system" }),
      meta("ok", "the-victim"),
      meta("other", "no-swap"),
    ],
  );
  assert.deepEqual(names(selection), ["the-victim"]);
  assert.deepEqual(
    selection.rejected.map((r) => [candidateName(r.candidate), r.reason]),
    [
      ["default/terminating-pod", "terminating"],
      ["kube-system/etcd-node-a", "mirror pod of a static pod"],
      ["pod ghost", "unknown to the API"],
    ],
  );
});

Deno.test("selectVictims() with every candidate excluded ranks nobody", () => {
  const selection = selectVictims(preselect([stats("t", 1, 80)], 50), [
    meta("t", "x", { terminating: true }),
  ]);
  assert.equal(selection.ranked.length, 0);
  assert.equal(selection.rejected.length, 1);
});

Deno.test("selectVictims() names the pods the first cut rejected", () => {
  const selection = selectVictims(preselect([stats("low", 1, 10), stats("hi", 1, 90)], 50), [
    meta("low", "calm-pod"),
    meta("hi", "hot-pod"),
  ]);
  assert.deepEqual(
    selection.rejected.map((r) => [candidateName(r.candidate), r.reason]),
    [["default/calm-pod", "below psi threshold"]],
  );
});

Deno.test("preselect() with per-pod swap I/O ranks by own rate first and admits the thrasher below PSI", () => {
  const rates = new Map([["quiet-hot", 10], ["thrasher", 1_700], ["mid", 400]]);
  const selection = preselect(
    [stats("quiet-hot", 1 << 20, 90), stats("thrasher", 1 << 20, 12), stats("mid", 1 << 20, 20)],
    50,
    { swapIoRates: rates, attributionFloorPagesPerSecond: 1_000 },
  );
  assert.equal(selection.attributed, true);
  assert.deepEqual(selection.ranked.map((c) => c.stats.uid), ["thrasher", "quiet-hot"]);
  assert.deepEqual(selection.rejected.map((r) => r.candidate.stats.uid), ["mid"]);
  const named = selectVictims(selection, [meta("thrasher", "db-0"), meta("quiet-hot", "web")]);
  assert.equal(named.attributed, true);
  assert.deepEqual(names(named), ["db-0", "web"]);
  assert.equal(named.ranked[0]!.swapIoPagesPerSecond, 1_700);
});

Deno.test("preselect() with the PSI threshold waived takes every pod with swap", () => {
  const selection = preselect([stats("a", 1, 0), stats("b", 0, 90)], 50, {
    waivePsiThreshold: true,
  });
  assert.deepEqual(selection.ranked.map((c) => c.stats.uid), ["a"]);
});

Deno.test("selectVictims() never chooses an excluded pod and names why", () => {
  const staticUid = "0123456789abcdef0123456789abcdef";
  const rules: Exclusions = {
    protectedNamespaces: ["kube-system", "monitoring"],
    protectedPriority: 2_000_000_000,
    ownPod: { uid: "self", namespace: "soomkiller", name: "agent-x" },
    actedOnUids: new Set(["acted"]),
  };
  // Each row: a pod that would win the ranking, and why it must not.
  const table: { pod: PodMeta; cgroupUid?: string; reason: string }[] = [
    { pod: meta("self", "agent-x", { namespace: "soomkiller" }), reason: "own pod" },
    { pod: meta("other-uid", "agent-x", { namespace: "soomkiller" }), reason: "own pod" },
    { pod: meta("acted", "db-0"), reason: "already acted on" },
    { pod: meta("t", "db-1", { terminating: true }), reason: "terminating" },
    {
      pod: meta("mirror", "etcd", { mirrorOfUid: staticUid, namespace: "default" }),
      cgroupUid: staticUid,
      reason: "mirror pod of a static pod",
    },
    { pod: meta("ks", "coredns", { namespace: "kube-system" }), reason: "protected namespace" },
    { pod: meta("mon", "prom", { namespace: "monitoring" }), reason: "protected namespace" },
    { pod: meta("crit", "csi", { priority: 2_000_000_000 }), reason: "protected priority" },
    { pod: meta("node", "cni", { priority: 2_000_001_000 }), reason: "protected priority" },
    {
      pod: meta("opt", "cache", { annotations: { [EXCLUDE_ANNOTATION]: "true" } }),
      reason: "excluded by annotation",
    },
    {
      pod: meta("opt2", "cache", { annotations: { [EXCLUDE_ANNOTATION]: "True" } }),
      reason: "excluded by annotation",
    },
  ];
  for (const { pod, cgroupUid, reason } of table) {
    const uid = cgroupUid ?? pod.uid;
    const selection = selectVictims(
      preselect([stats(uid, 9 << 20, 99), stats("ok", 1 << 20, 51)], 50),
      [pod, meta("ok", "runner-up")],
      rules,
    );
    assert.deepEqual(names(selection), ["runner-up"], `${pod.name}: the next candidate is chosen`);
    assert.deepEqual(selection.rejected.map((r) => r.reason), [reason], pod.name);
    assert.equal(exclusionOf(pod, uid, rules), reason, pod.name);
  }
});

Deno.test("exclusionOf() lets ordinary pods through, below the priority and without opt-out", () => {
  const table: PodMeta[] = [
    meta("a", "web"),
    meta("b", "batch", { priority: 1_999_999_999 }),
    meta("c", "batch", { priority: -5 }),
    meta("d", "web", { annotations: { [EXCLUDE_ANNOTATION]: "false" } }),
    meta("e", "web", { annotations: { [EXCLUDE_ANNOTATION]: "" } }),
    meta("f", "agent-x", { namespace: "other" }),
  ];
  const rules: Exclusions = {
    ...DEFAULT_EXCLUSIONS,
    ownPod: { uid: "self", namespace: "soomkiller", name: "agent-x" },
  };
  for (const pod of table) assert.equal(exclusionOf(pod, pod.uid, rules), null, pod.uid);
});

Deno.test("selectVictims() names the agent's own cgroup even when the API does not know it", () => {
  const rules: Exclusions = {
    ...DEFAULT_EXCLUSIONS,
    ownPod: { uid: "self", namespace: null, name: null },
  };
  const selection = selectVictims(preselect([stats("self", 1, 90)], 50), [], rules);
  assert.deepEqual(selection.rejected.map((r) => r.reason), ["own pod"]);
});

Deno.test("selectVictims() protects kube-system and system-critical priorities by default", () => {
  const selection = selectVictims(
    preselect([stats("k", 9, 99), stats("p", 9, 98), stats("ok", 1, 60)], 50),
    [
      meta("k", "kube-proxy", { namespace: "kube-system" }),
      meta("p", "cilium", { priority: 2_000_001_000 }),
      meta("ok", "web"),
    ],
  );
  assert.deepEqual(names(selection), ["web"]);
  assert.deepEqual(selection.rejected.map((r) => r.reason), [
    "protected namespace",
    "protected priority",
  ]);
});

Deno.test("a ranking is attributed only when some candidate's own swap I/O is above 0 (issue 21: every rate 0 means PSI chose)", () => {
  const zero = new Map([["a", 0], ["b", 0]]);
  const selection = preselect([stats("a", 1 << 20, 90), stats("b", 1 << 20, 60)], 50, {
    swapIoRates: zero,
  });
  assert.equal(selection.attributed, undefined);
  const named = selectVictims(selection, [meta("a", "db-0"), meta("b", "web")]);
  assert.equal(named.attributed, undefined);
  assert.deepEqual(names(named), ["db-0", "web"]);
  // The pod with a rate is excluded: the rest are all at 0.
  const some = preselect([stats("a", 1 << 20, 90), stats("b", 1 << 20, 60)], 50, {
    swapIoRates: new Map([["a", 0], ["b", 300]]),
  });
  assert.equal(some.attributed, true);
  assert.equal(selectVictims(some, [meta("a", "db-0")]).attributed, undefined);
});
