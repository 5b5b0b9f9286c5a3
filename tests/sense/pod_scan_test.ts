import assert from "node:assert/strict";
import { scanPods } from "../../src/sense/pod_scan.ts";
import { denoHostFs, type HostFs } from "../../src/sense/host_fs.ts";
import type { PodStats } from "../../src/sense/pod_stats.ts";
import { CgroupTree, fakeContainerId, fakePodUid, fastTempDir } from "../fakes/cgroup_tree.ts";
import { interceptFs, vanishingFs } from "./helpers.ts";

Deno.test("scanPods() reads every pod of the node, sorted by cgroup path", async () => {
  await using tree = await CgroupTree.create();
  for (let i = 1; i <= 5; i++) {
    await tree.addPod({
      uid: fakePodUid(i),
      qos: i % 2 === 0 ? "burstable" : "besteffort",
      swapCurrentBytes: i * 1000,
      fullAvg10Percent: i,
      containers: [{ id: fakeContainerId(i), swapCurrentBytes: i * 1000 }],
    });
  }
  const { pods, errors } = await scanPods(denoHostFs, tree.root);
  assert.deepEqual(errors, []);
  assert.equal(pods.length, 5);
  const paths = pods.map((p) => p.cgroupPath);
  assert.deepEqual(paths, [...paths].sort());
  const second = pods.find((p) => p.uid === fakePodUid(2));
  assert.equal(second?.qosClass, "burstable");
  assert.equal(second?.swapCurrentBytes, 2000);
  assert.equal(second?.fullAvg10Percent, 2);
  assert.equal(second?.containers[0]?.swapCurrentBytes, 2000);
});

Deno.test("scanPods() reports a malformed pod in errors and still reads the others", async () => {
  await using tree = await CgroupTree.create();
  await tree.addPod({ uid: fakePodUid(1), qos: "burstable", containers: [] });
  const bad = await tree.addPod({ uid: fakePodUid(2), qos: "burstable", containers: [] });
  await Deno.writeTextFile(`${bad.path}/memory.pressure`, "some avg10=oops\n");
  const { pods, errors } = await scanPods(denoHostFs, tree.root);
  assert.deepEqual(pods.map((p) => p.uid), [fakePodUid(1)]);
  assert.deepEqual(errors, [{
    cgroupPath: bad.path,
    message: `Cannot parse "memory.pressure": "some avg10" is "oops", not a non-negative number`,
  }]);
});

Deno.test("scanPods() leaves out a pod that vanishes after discovery, without an error", async () => {
  await using tree = await CgroupTree.create({ driver: "cgroupfs" });
  await tree.addPod({ uid: fakePodUid(1), qos: "guaranteed", containers: [{ id: "a1" }] });
  const gone = await tree.addPod({ uid: fakePodUid(2), qos: "guaranteed", containers: [] });
  // The pod is listed by the walk, then removed before its files are read.
  let removed = false;
  const fs = interceptFs(async (op, path) => {
    if (!removed && op === "readTextFile" && path.startsWith(gone.path + "/")) {
      removed = true;
      await tree.removePod(fakePodUid(2));
    }
  });
  const { pods, errors } = await scanPods(fs, tree.root);
  assert.ok(removed);
  assert.deepEqual(pods.map((p) => p.uid), [fakePodUid(1)]);
  assert.deepEqual(errors, []);
});

Deno.test("scanPods() skips a pod whose directory vanishes during the walk", async () => {
  await using tree = await CgroupTree.create();
  await tree.addPod({ uid: fakePodUid(1), qos: "burstable", containers: [] });
  const gone = await tree.addPod({ uid: fakePodUid(2), qos: "burstable", containers: [] });
  const { pods, errors } = await scanPods(vanishingFs(gone.path), tree.root);
  assert.deepEqual(pods.map((p) => p.uid), [fakePodUid(1)]);
  assert.deepEqual(errors, []);
});

Deno.test("scanPods() never throws: a missing cgroup root is one error", async () => {
  await using tree = await CgroupTree.create();
  const root = `${tree.root}/missing`;
  const { pods, errors } = await scanPods(denoHostFs, root);
  assert.deepEqual(pods, []);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]?.cgroupPath, root);
  assert.match(errors[0]?.message ?? "", /No such file or directory/);
});

Deno.test("scanPods() keeps at most `concurrency` reads in flight", async () => {
  await using tree = await CgroupTree.create({ tempDir: fastTempDir() });
  for (let i = 1; i <= 40; i++) {
    await tree.addPod({ uid: fakePodUid(i), qos: "burstable", containers: [{ id: `c${i}` }] });
  }
  let inFlight = 0;
  let most = 0;
  const fs: HostFs = {
    async readTextFile(path) {
      most = Math.max(most, ++inFlight);
      try {
        await new Promise((resolve) => setTimeout(resolve, 0));
        return await denoHostFs.readTextFile(path);
      } finally {
        inFlight--;
      }
    },
    readDir: (path) => denoHostFs.readDir(path),
  };
  const { pods } = await scanPods(fs, tree.root, 4);
  assert.equal(pods.length, 40);
  assert.ok(most <= 4, `${most} reads in flight`);
  assert.ok(most >= 2, `${most} reads in flight: no concurrency at all`);
});

Deno.test("scanPods() reads 500 pods", async () => {
  await using tree = await CgroupTree.create({ tempDir: fastTempDir() });
  for (let i = 1; i <= 500; i++) {
    await tree.addPod({
      uid: fakePodUid(i),
      qos: "burstable",
      containers: [{ id: fakeContainerId(2 * i) }, { id: fakeContainerId(2 * i + 1) }],
    });
  }
  const { pods, errors } = await scanPods(denoHostFs, tree.root);
  assert.deepEqual(errors, []);
  assert.equal(pods.length, 500);
  assert.ok(pods.every((p) => p.containers.length === 2));
});

Deno.test("scanPods() judges each hostile pod file on its own: an error for that pod, the others read", async () => {
  const table: {
    what: string;
    file: string;
    text: string | "permission denied";
    /** The error message for the pod, or null when the file is read as given. */
    error: RegExp | null;
    check?: (pod: PodStats) => void;
  }[] = [
    { what: "empty file", file: "memory.swap.current", text: "", error: /the file is empty/ },
    {
      what: "`max` where a number belongs",
      file: "memory.current",
      text: "max\n",
      error: /Cannot parse "memory\.current": "max" is not a byte count/,
    },
    {
      what: "garbage lines",
      file: "memory.events",
      text: "\u0000\u0001garbage\nlow\n",
      error: /Cannot parse "memory\.events": missing "oom_kill"/,
    },
    {
      what: "a number past 2^53 (accepted, low digits lost)",
      file: "memory.swap.current",
      text: "18446744073709551615\n",
      error: null,
      check: (pod) => assert.ok(pod.swapCurrentBytes > Number.MAX_SAFE_INTEGER),
    },
    {
      what: "a PSI file without a full line (old kernels)",
      file: "memory.pressure",
      text: "some avg10=12.00 avg60=3.00 avg300=1.00 total=42\n",
      error: null,
      check: (pod) => {
        assert.equal(pod.fullAvg10Percent, 0);
        assert.equal(pod.someAvg10Percent, 12);
      },
    },
    {
      what: "permission denied",
      file: "memory.pressure",
      text: "permission denied",
      error: /Permission denied/,
    },
  ];
  for (const { what, file, text, error, check } of table) {
    await using tree = await CgroupTree.create();
    await tree.addPod({ uid: fakePodUid(1), qos: "burstable", containers: [] });
    const bad = await tree.addPod({ uid: fakePodUid(2), qos: "burstable", containers: [] });
    await tree.addPod({ uid: fakePodUid(3), qos: "burstable", containers: [] });
    const path = `${bad.path}/${file}`;
    let fs: HostFs = denoHostFs;
    if (text === "permission denied") {
      // The tests run as root, where chmod denies nothing: the error is thrown instead.
      fs = interceptFs((op, p) => {
        if (op === "readTextFile" && p === path) {
          throw new Deno.errors.PermissionDenied(
            `Permission denied (os error 13): readfile '${p}'`,
          );
        }
      });
    } else await Deno.writeTextFile(path, text);
    const scan = await scanPods(fs, tree.root);
    if (error === null) {
      assert.deepEqual(scan.errors, [], what);
      assert.equal(scan.pods.length, 3, what);
      check?.(scan.pods.find((p) => p.uid === fakePodUid(2))!);
    } else {
      assert.deepEqual(scan.pods.map((p) => p.uid), [fakePodUid(1), fakePodUid(3)], what);
      assert.equal(scan.errors.length, 1, what);
      assert.equal(scan.errors[0]!.cgroupPath, bad.path, what);
      assert.match(scan.errors[0]!.message, error, what);
    }
  }
});

Deno.test("scanPods() never throws when the cgroup root is denied: one error for the root", async () => {
  await using tree = await CgroupTree.create();
  await tree.addPod({ uid: fakePodUid(1), qos: "burstable", containers: [] });
  const fs = interceptFs((op, path) => {
    if (op === "readDir" && path === tree.root) {
      throw new Deno.errors.PermissionDenied(`Permission denied (os error 13): readdir '${path}'`);
    }
  });
  const scan = await scanPods(fs, tree.root);
  assert.deepEqual(scan.pods, []);
  assert.deepEqual(scan.errors.map((e) => e.cgroupPath), [tree.root]);
  assert.match(scan.errors[0]!.message, /Permission denied/);
});

Deno.test("scanPods() finishes 3000 pods without throwing", async () => {
  await using tree = await CgroupTree.create({ tempDir: fastTempDir(), systemCgroups: false });
  for (let i = 1; i <= 3000; i++) {
    await tree.addPod({
      uid: fakePodUid(i),
      qos: i % 3 === 0 ? "besteffort" : "burstable",
      swapCurrentBytes: i,
      containers: [{ id: fakeContainerId(i) }],
    });
  }
  const started = performance.now();
  const { pods, errors } = await scanPods(denoHostFs, tree.root);
  const elapsedMs = performance.now() - started;
  assert.deepEqual(errors, []);
  assert.equal(pods.length, 3000);
  assert.equal(new Set(pods.map((p) => p.uid)).size, 3000);
  console.log(`    3000 pods scanned in ${elapsedMs.toFixed(0)} ms`);
});
