import assert from "node:assert/strict";
import type { KubeApi } from "../../src/act/kube_client.ts";
import type { Clock } from "../../src/clock.ts";
import { record } from "../../src/replay/record.ts";
import { parseTrace } from "../../src/replay/trace.ts";
import { hostSensor } from "../../src/sense/node_sensor.ts";
import { denoHostFs } from "../../src/sense/host_fs.ts";
import { CgroupTree, fakeContainerId, fakePodUid } from "../fakes/cgroup_tree.ts";
import { writeProc } from "../fakes/proc_tree.ts";

Deno.test("record() writes a header and one tick per poll with the pods that swap, names once", async () => {
  await using tree = await CgroupTree.create({ driver: "systemd" });
  await tree.addPod({
    uid: fakePodUid(1),
    qos: "burstable",
    swapCurrentBytes: 5 << 20,
    fullAvg10Percent: 40,
    containers: [{ id: fakeContainerId(1), swapCurrentBytes: 5 << 20, swapMaxBytes: 64 << 20 }],
  });
  await tree.addPod({
    uid: fakePodUid(2),
    qos: "burstable",
    containers: [{ id: fakeContainerId(2) }],
  });
  const procDir = await Deno.makeTempDir();
  try {
    await writeProc(procDir, { swapInPages: 10, swapOutPages: 20 });
    let nowMs = 0;
    const clock: Clock = {
      monotonicMs: () => nowMs,
      wallTime: () => new Date("2026-11-28T12:00:00Z"),
      sleep: (ms) => {
        nowMs += ms;
        return Promise.resolve();
      },
    };
    let lists = 0;
    const kube = {
      listNodePods: () => {
        lists++;
        return Promise.resolve([{
          uid: fakePodUid(1),
          namespace: "shop",
          name: "db-0",
          nodeName: "n",
          terminating: false,
          mirrorOfUid: null,
          priority: null,
          terminationGracePeriodSeconds: 60,
          annotations: {},
        }]);
      },
      deletePod: () => {
        throw new Error("record must never delete");
      },
    } as unknown as KubeApi;
    let text = "";
    const ticks = await record(
      { nodeName: "n", pollIntervalMs: 1_000, durationMs: 3_000 },
      {
        sensor: hostSensor(denoHostFs, procDir, tree.root),
        clock,
        kube,
        write: (chunk) => {
          text += chunk;
          return Promise.resolve();
        },
        warn: (message) => {
          throw new Error(message);
        },
      },
      new AbortController().signal,
    );
    assert.equal(ticks, 3);
    assert.equal(lists, 1, "names listed once");
    const trace = parseTrace(text);
    assert.equal(trace.header.pollIntervalMs, 1_000);
    assert.equal(trace.header.startedAt, "2026-11-28T12:00:00.000Z");
    const tickLines = trace.lines.filter((l) => l.kind === "tick");
    assert.deepEqual(tickLines.map((t) => t.tMs), [0, 1_000, 2_000]);
    for (const tick of tickLines) {
      assert.equal(tick.swapInPages, 10);
      assert.deepEqual(tick.pods.map((p) => p.uid), [fakePodUid(1)], "only pods with swap");
      assert.equal(tick.pods[0]!.containers[0]!.swapMaxBytes, 64 << 20);
    }
    const podsLine = trace.lines.find((l) => l.kind === "pods");
    assert.equal(podsLine?.kind === "pods" && podsLine.pods[0]!.name, "db-0");
  } finally {
    await Deno.remove(procDir, { recursive: true });
  }
});
