import assert from "node:assert/strict";
import { INITIAL_OOM_WATCH_STATE, watchOomKills } from "../../src/decide/oom_watch.ts";
import type { PodStats } from "../../src/sense/pod_stats.ts";

const pod = (uid: string, oomKillCount: number): PodStats => ({
  uid,
  cgroupPath: `/cg/${uid}`,
  qosClass: "burstable",
  swapCurrentBytes: 0,
  memoryCurrentBytes: 0,
  memoryMaxBytes: null,
  fullAvg10Percent: 0,
  someAvg10Percent: 0,
  oomKillCount,
  containers: [],
});

Deno.test("watchOomKills() counts increases of oom_kill, not the first sight of a pod", () => {
  const first = watchOomKills(INITIAL_OOM_WATCH_STATE, [pod("a", 0), pod("old", 3)]);
  assert.deepEqual(first.kills, [], "kills before the agent watched are not counted");
  const second = watchOomKills(first.state, [pod("a", 2), pod("old", 3), pod("new", 1)]);
  assert.deepEqual(second.kills.map((k) => [k.pod.uid, k.newKills]), [["a", 2]]);
  const third = watchOomKills(second.state, [pod("new", 1)]);
  assert.deepEqual(third.kills, []);
  assert.deepEqual([...third.state.keys()], ["new"], "gone pods are forgotten");
});
