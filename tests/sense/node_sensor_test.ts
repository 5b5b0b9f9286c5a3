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

const SENSOR_CASES = [
  { name: "pswpin/pswpout (Linux ≥ 6.13)", cgroupSwapIo: true, stripKeys: false },
  { name: "anon refaults only (Linux 5.9-6.12)", cgroupSwapIo: false, stripKeys: false },
  { name: "neither key", cgroupSwapIo: false, stripKeys: true },
] as const;

for (const { name, cgroupSwapIo, stripKeys } of SENSOR_CASES) {
  Deno.test(`hostSensor() reads memory.stat only where it has swap I/O keys: ${name}`, async () => {
    await using tree = await CgroupTree.create({ driver: "systemd", cgroupSwapIo });
    await tree.addPod({
      uid: fakePodUid(1),
      qos: "burstable",
      swapCurrentBytes: 1 << 20,
      swapInPages: 10,
      swapOutPages: 20,
      containers: [{ id: fakeContainerId(1) }],
    });
    const statPath = `${tree.podPath(fakePodUid(1))}/memory.stat`;
    if (stripKeys) await Deno.writeTextFile(statPath, "anon 4096\nfile 0\n");
    const refaults = /^workingset_refault_anon (\d+)$/m.exec(await Deno.readTextFile(statPath));
    const procDir = await Deno.makeTempDir();
    try {
      await writeProc(procDir, {});
      const fs = countingFs();
      const sensor = hostSensor(fs, procDir, tree.root);
      const first = await sensor.scanPods();
      await sensor.scanPods();
      await sensor.scanPods();
      const pod = first.pods[0]!;
      if (cgroupSwapIo) {
        assert.deepEqual(pod.swapIo, { swapInPages: 10, swapOutPages: 20 });
        assert.equal(pod.swapIoSource, "pswpin/pswpout");
        assert.equal(fs.memoryStatReads, 3);
      } else if (!stripKeys) {
        assert.deepEqual(pod.swapIo, { swapInPages: Number(refaults![1]), swapOutPages: 0 });
        assert.equal(pod.swapIoSource, "workingset_refault_anon");
        assert.equal(fs.memoryStatReads, 3);
      } else {
        assert.equal(pod.swapIo, null);
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
