import assert from "node:assert/strict";
import { hostSensor } from "../../src/sense/node_sensor.ts";
import type { HostFs } from "../../src/sense/host_fs.ts";
import { denoHostFs } from "../../src/sense/host_fs.ts";
import { CgroupTree, fakeContainerId, fakePodUid } from "../fakes/cgroup_tree.ts";
import { writeProc } from "../fakes/proc_tree.ts";

/** Counts reads of memory.stat. */
function countingFs(): HostFs & { memoryStatReads: number } {
  const fs = {
    memoryStatReads: 0,
    readTextFile(path: string) {
      if (path.endsWith("/memory.stat")) fs.memoryStatReads++;
      return denoHostFs.readTextFile(path);
    },
    readDir: denoHostFs.readDir,
  };
  return fs;
}

for (const cgroupSwapIo of [true, false]) {
  Deno.test(`hostSensor() keeps reading memory.stat only where it has pswpin (${cgroupSwapIo})`, async () => {
    await using tree = await CgroupTree.create({ driver: "systemd", cgroupSwapIo });
    await tree.addPod({
      uid: fakePodUid(1),
      qos: "burstable",
      swapCurrentBytes: 1 << 20,
      swapInPages: 10,
      swapOutPages: 20,
      containers: [{ id: fakeContainerId(1) }],
    });
    const procDir = await Deno.makeTempDir();
    try {
      await writeProc(procDir, {});
      const fs = countingFs();
      const sensor = hostSensor(fs, procDir, tree.root);
      const first = await sensor.scanPods();
      await sensor.scanPods();
      await sensor.scanPods();
      if (cgroupSwapIo) {
        assert.deepEqual(first.pods[0]?.swapIo, { swapInPages: 10, swapOutPages: 20 });
        assert.equal(fs.memoryStatReads, 3);
      } else {
        assert.equal(first.pods[0]?.swapIo, null);
        assert.equal(fs.memoryStatReads, 1, "detected once, then never read again");
      }
      assert.equal((await sensor.readMeminfo()).swapTotalBytes > 0, true);
    } finally {
      await Deno.remove(procDir, { recursive: true });
    }
  });
}

Deno.test("hostSensor().recheckSwapBytes() reads swap now, 'gone' for a vanished cgroup", async () => {
  await using tree = await CgroupTree.create({ driver: "systemd" });
  await tree.addPod({
    uid: fakePodUid(1),
    qos: "burstable",
    swapCurrentBytes: 4096,
    containers: [{ id: fakeContainerId(1) }],
  });
  const sensor = hostSensor(denoHostFs, "/nonexistent", tree.root);
  const path = tree.podPath(fakePodUid(1));
  assert.equal(await sensor.recheckSwapBytes(path), 4096);
  await tree.removePod(fakePodUid(1));
  assert.equal(await sensor.recheckSwapBytes(path), "gone");
});
