import assert from "node:assert/strict";
import { type PodStats, readPodStats } from "../../src/sense/pod_stats.ts";
import {
  flatKeyedCounter,
  parseBytes,
  parseBytesOrMax,
  parseFlatKeyed,
} from "../../src/sense/flat_keyed.ts";
import { parseMemoryStat, swapIoFromMemoryStat } from "../../src/sense/memory_stat.ts";
import { ParseError } from "../../src/sense/parse_error.ts";
import { denoHostFs } from "../../src/sense/host_fs.ts";
import type { PodCgroup } from "../../src/sense/cgroup_layout.ts";
import { CgroupTree, fakeContainerId, fakePodUid } from "../fakes/cgroup_tree.ts";
import {
  fixturePath,
  interceptFs,
  type Kernel,
  KERNELS,
  readFixture,
  type Snapshot,
} from "./helpers.ts";

const MAIN_UID = "7d4c2b1a-93e5-4f60-8a1b-2c3d4e5f6a7b";
const OOM_UID = "e1f2a3b4-c5d6-4e7f-8091-a2b3c4d5e6f7";
const CONTAINER_ID = "4f1e8a9c2b7d6e5f0a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091";

/** The fixture's pod and container directories as a PodCgroup (they are siblings there). */
function fixturePod(kernel: Kernel, snapshot: Snapshot): PodCgroup {
  return {
    uid: snapshot === "oom" ? OOM_UID : MAIN_UID,
    path: fixturePath(kernel, snapshot, "cgroup/pod"),
    qosClass: "burstable",
    containers: [{ id: CONTAINER_ID, path: fixturePath(kernel, snapshot, "cgroup/container") }],
  };
}

/** Pod: swap current, memory current, memory max, full avg10, some avg10, oom_kill. */
type PodFigures = readonly [number, number, number, number, number, number];
/** Container: swap current, swap max, memory current, memory max. */
type ContainerFigures = readonly [number, number, number, number];

/**
 * Container `memory.stat`: anon, shmem, file, swapcached; read only when the container has
 * swap in use (null: not read).
 */
type FootprintFigures = readonly [number, number, number, number] | null;

/** Every snapshot of every kernel, read from the files by hand. */
const EXPECTED: {
  at: [Kernel, Snapshot];
  pod: PodFigures;
  container: ContainerFigures;
  footprint: FootprintFigures;
}[] = [
  {
    at: ["6.1.0-56-amd64", "idle"],
    pod: [0, 524288, 100663296, 0, 0, 0],
    container: [0, 268435456, 262144, 67108864],
    footprint: null,
  },
  {
    at: ["6.1.0-56-amd64", "pressure"],
    pod: [143458304, 67117056, 100663296, 40.52, 40.52, 0],
    container: [143323136, 268435456, 67076096, 67108864],
    footprint: [66539520, 0, 0, 4096],
  },
  {
    at: ["6.1.0-56-amd64", "oom"],
    pod: [245760, 24576, 33554432, 0, 0, 2],
    container: [245760, 16777216, 16384, 33554432],
    footprint: [0, 0, 0, 0],
  },
  {
    at: ["6.12.95+deb12-amd64", "idle"],
    pod: [0, 524288, 100663296, 0, 0, 0],
    container: [0, 268435456, 262144, 67108864],
    footprint: null,
  },
  {
    at: ["6.12.95+deb12-amd64", "pressure"],
    pod: [143462400, 67051520, 100663296, 31.23, 31.23, 0],
    container: [143298560, 268435456, 66920448, 67108864],
    footprint: [66641920, 0, 0, 0],
  },
  {
    at: ["6.12.95+deb12-amd64", "oom"],
    pod: [36864, 28672, 33554432, 0, 0, 2],
    container: [36864, 16777216, 16384, 33554432],
    footprint: [0, 0, 0, 0],
  },
  {
    at: ["7.3.4+deb13-amd64", "idle"],
    pod: [0, 524288, 100663296, 0, 0, 0],
    container: [0, 268435456, 262144, 67108864],
    footprint: null,
  },
  {
    at: ["7.3.4+deb13-amd64", "pressure"],
    pod: [143589376, 67207168, 100663296, 33.08, 33.08, 0],
    container: [143527936, 268435456, 67067904, 67108864],
    footprint: [66170880, 0, 0, 53248],
  },
  {
    at: ["7.3.4+deb13-amd64", "oom"],
    pod: [0, 163840, 33554432, 0, 0, 2],
    container: [0, 16777216, 147456, 33554432],
    footprint: null,
  },
];

Deno.test("readPodStats() reads the pod and container files of every captured kernel", async () => {
  for (const { at: [kernel, snapshot], pod: figures, container: cFigures, footprint } of EXPECTED) {
    const [swap, current, max, full, some, oomKills] = figures;
    const [cSwap, cSwapMax, cCurrent, cMax] = cFigures;
    const pod = fixturePod(kernel, snapshot);
    const expected: PodStats = {
      uid: pod.uid,
      cgroupPath: pod.path,
      qosClass: "burstable",
      swapCurrentBytes: swap,
      memoryCurrentBytes: current,
      memoryMaxBytes: max,
      fullAvg10Percent: full,
      someAvg10Percent: some,
      oomKillCount: oomKills,
      containers: [{
        id: CONTAINER_ID,
        swapCurrentBytes: cSwap,
        swapMaxBytes: cSwapMax,
        memoryCurrentBytes: cCurrent,
        memoryMaxBytes: cMax,
        ...(footprint
          ? {
            footprint: {
              anonBytes: footprint[0],
              shmemBytes: footprint[1],
              fileBytes: footprint[2],
              swapCachedBytes: footprint[3],
            },
          }
          : {}),
      }],
    };
    assert.deepEqual(await readPodStats(denoHostFs, pod), expected, `${kernel} ${snapshot}`);
  }
});

Deno.test("readPodStats() reads the figures a CgroupTree pod was given, `max` as null", async () => {
  await using tree = await CgroupTree.create();
  const uid = fakePodUid(1);
  const pod = await tree.addPod({
    uid,
    qos: "burstable",
    memoryMaxBytes: null,
    swapCurrentBytes: 300,
    fullAvg10Percent: 12.5,
    someAvg10Percent: 20.25,
    oomKillCount: 3,
    containers: [
      {
        id: fakeContainerId(1),
        swapCurrentBytes: 100,
        swapMaxBytes: 1000,
        memoryCurrentBytes: 50,
        memoryMaxBytes: 500,
      },
      {
        id: fakeContainerId(2),
        swapCurrentBytes: 200,
        swapMaxBytes: null,
        memoryCurrentBytes: 60,
        memoryMaxBytes: null,
      },
    ],
  });
  assert.deepEqual(await readPodStats(denoHostFs, pod), {
    uid,
    cgroupPath: tree.podPath(uid),
    qosClass: "burstable",
    swapCurrentBytes: 300,
    memoryCurrentBytes: 110,
    memoryMaxBytes: null,
    fullAvg10Percent: 12.5,
    someAvg10Percent: 20.25,
    oomKillCount: 3,
    containers: [
      {
        id: fakeContainerId(1),
        swapCurrentBytes: 100,
        swapMaxBytes: 1000,
        memoryCurrentBytes: 50,
        memoryMaxBytes: 500,
        footprint: { anonBytes: 50, shmemBytes: 0, fileBytes: 0, swapCachedBytes: 0 },
      },
      {
        id: fakeContainerId(2),
        swapCurrentBytes: 200,
        swapMaxBytes: null,
        memoryCurrentBytes: 60,
        memoryMaxBytes: null,
        footprint: { anonBytes: 60, shmemBytes: 0, fileBytes: 0, swapCachedBytes: 0 },
      },
    ],
  });
});

Deno.test("readPodStats() follows CgroupTree updates of pressure, swap and OOM kills", async () => {
  await using tree = await CgroupTree.create({ driver: "cgroupfs" });
  const uid = fakePodUid(2);
  const id = fakeContainerId(2);
  const pod = await tree.addPod({ uid, qos: "burstable", containers: [{ id }] });
  await tree.setPodPressure(uid, 55.5, 60);
  await tree.setPodSwap(uid, 4096);
  await tree.setPodOomKills(uid, 1);
  await tree.setContainer(uid, id, { swapCurrentBytes: 2048, swapMaxBytes: 8192 });
  const stats = await readPodStats(denoHostFs, pod);
  assert.equal(stats?.fullAvg10Percent, 55.5);
  assert.equal(stats?.someAvg10Percent, 60);
  assert.equal(stats?.swapCurrentBytes, 4096);
  assert.equal(stats?.oomKillCount, 1);
  assert.deepEqual(stats?.containers[0], {
    id,
    swapCurrentBytes: 2048,
    swapMaxBytes: 8192,
    memoryCurrentBytes: 4 * 1024 * 1024,
    memoryMaxBytes: null,
    footprint: { anonBytes: 4 * 1024 * 1024, shmemBytes: 0, fileBytes: 0, swapCachedBytes: 0 },
  });
});

Deno.test("readPodStats() gives full avg10 0 when memory.pressure has no full line", async () => {
  await using tree = await CgroupTree.create({ pressureFullLine: false });
  const uid = fakePodUid(3);
  const pod = await tree.addPod({
    uid,
    qos: "besteffort",
    fullAvg10Percent: 30,
    someAvg10Percent: 45,
    containers: [],
  });
  const stats = await readPodStats(denoHostFs, pod);
  assert.equal(stats?.fullAvg10Percent, 0);
  assert.equal(stats?.someAvg10Percent, 45);
  assert.deepEqual(stats?.containers, []);
});

Deno.test("readPodStats() returns null for a pod cgroup that was removed", async () => {
  await using tree = await CgroupTree.create();
  const uid = fakePodUid(4);
  const pod = await tree.addPod({ uid, qos: "guaranteed", containers: [{ id: "c4" }] });
  await tree.removePod(uid);
  assert.equal(await readPodStats(denoHostFs, pod), null);
});

Deno.test("readPodStats() returns null when the pod vanishes between two of its reads", async () => {
  await using tree = await CgroupTree.create();
  const uid = fakePodUid(5);
  const pod = await tree.addPod({ uid, qos: "burstable", containers: [{ id: "c5" }] });
  let removed = false;
  const fs = interceptFs(async (_op, path) => {
    if (!removed && path.endsWith("/memory.max")) {
      removed = true;
      await tree.removePod(uid);
    }
  });
  assert.equal(await readPodStats(fs, pod), null);
  assert.ok(removed);
});

Deno.test("readPodStats() drops a container whose cgroup vanished", async () => {
  await using tree = await CgroupTree.create({ runtime: "crio" });
  const uid = fakePodUid(6);
  const pod = await tree.addPod({
    uid,
    qos: "burstable",
    containers: [{ id: "aa" }, { id: "bb" }],
  });
  await tree.removeContainer(uid, "aa");
  const stats = await readPodStats(denoHostFs, pod);
  assert.deepEqual(stats?.containers.map((c) => c.id), ["bb"]);
});

Deno.test("readPodStats() throws ParseError for a malformed pod file", async () => {
  await using tree = await CgroupTree.create();
  const uid = fakePodUid(7);
  const pod = await tree.addPod({ uid, qos: "burstable", containers: [] });
  await Deno.writeTextFile(`${pod.path}/memory.max`, "unlimited\n");
  await assert.rejects(() => readPodStats(denoHostFs, pod), {
    name: "ParseError",
    message: `Cannot parse "memory.max": "unlimited" is not a byte count or "max"`,
  });
});

Deno.test("readPodStats() throws ParseError for memory.events without oom_kill", async () => {
  await using tree = await CgroupTree.create();
  const uid = fakePodUid(8);
  const pod = await tree.addPod({ uid, qos: "burstable", containers: [] });
  await Deno.writeTextFile(`${pod.path}/memory.events`, "low 0\nhigh 0\nmax 0\noom 0\n");
  await assert.rejects(() => readPodStats(denoHostFs, pod), {
    name: "ParseError",
    message: `Cannot parse "memory.events": missing "oom_kill"`,
  });
});

Deno.test("readPodStats() throws a hint when memory.swap.current is missing from a live cgroup", async () => {
  await using tree = await CgroupTree.create();
  const uid = fakePodUid(9);
  const pod = await tree.addPod({ uid, qos: "burstable", containers: [] });
  await Deno.remove(`${pod.path}/memory.swap.current`);
  await assert.rejects(
    () => readPodStats(denoHostFs, pod),
    (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.equal(
        error.message,
        `Cannot read "${pod.path}/memory.swap.current": the file is missing but its cgroup ` +
          `exists; swap accounting may be off (cgroup.memory=noswap or swapaccount=0 on the ` +
          `kernel command line)`,
      );
      return true;
    },
  );
});

Deno.test("parseBytesOrMax() reads bytes, `max` as null, and rejects the rest", () => {
  assert.equal(parseBytesOrMax("memory.max", "max\n"), null);
  assert.equal(parseBytesOrMax("memory.max", "67108864\n"), 67108864);
  assert.equal(parseBytesOrMax("memory.max", "  42  "), 42);
  assert.equal(parseBytesOrMax("memory.max", "0"), 0);
  const cases: [string, string][] = [
    ["", `Cannot parse "memory.max": the file is empty`],
    ["\n", `Cannot parse "memory.max": the file is empty`],
    ["-1\n", `Cannot parse "memory.max": "-1" is not a byte count or "max"`],
    ["MAX\n", `Cannot parse "memory.max": "MAX" is not a byte count or "max"`],
    ["1 2\n", `Cannot parse "memory.max": "1 2" is not a byte count or "max"`],
    ["64M\n", `Cannot parse "memory.max": "64M" is not a byte count or "max"`],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseBytesOrMax("memory.max", text), { name: "ParseError", message });
  }
});

Deno.test("parseBytes() rejects `max` where a byte count belongs", () => {
  assert.equal(parseBytes("memory.current", "524288\n"), 524288);
  assert.throws(() => parseBytes("memory.current", "max\n"), {
    name: "ParseError",
    message: `Cannot parse "memory.current": "max" is not a byte count`,
  });
});

Deno.test("parseFlatKeyed() reads memory.events of every captured kernel by key", async () => {
  for (const kernel of KERNELS) {
    const events = parseFlatKeyed(
      "memory.events",
      await readFixture(kernel, "oom", "cgroup/pod/memory.events"),
    );
    assert.equal(events.get("oom_kill"), 2, kernel);
    assert.equal(events.get("oom_group_kill"), 1, kernel);
    assert.equal(events.get("oom"), 1, kernel);
    // 7.3 adds sock_throttled at the end.
    assert.equal(events.has("sock_throttled"), kernel.startsWith("7.3"), kernel);
  }
});

Deno.test("parseFlatKeyed() throws ParseError for a line that is not `key value`", () => {
  const cases: [string, string][] = [
    ["low 0\ngarbage\n", `Cannot parse "memory.events": line "garbage" is not "key value"`],
    [" 0\n", `Cannot parse "memory.events": line " 0" is not "key value"`],
    ["oom -1\n", `Cannot parse "memory.events": "oom" is "-1", not a non-negative integer`],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseFlatKeyed("memory.events", text), { name: "ParseError", message });
  }
  assert.equal(parseFlatKeyed("memory.events", "").size, 0);
});

Deno.test("flatKeyedCounter() does not match a key that only starts with the name", () => {
  assert.equal(flatKeyedCounter("memory.events", "oom_kill 5\noom 1\n", "oom"), 1);
  assert.throws(() => flatKeyedCounter("memory.events", "oom_kill 5\n", "oom"), ParseError);
});

Deno.test("parseMemoryStat() finds per-cgroup pswpin/pswpout only on 7.3 (Linux ≥ 6.13)", async () => {
  const expected: Record<Kernel, { pod: unknown; container: unknown }> = {
    "6.1.0-56-amd64": { pod: null, container: null },
    "6.12.95+deb12-amd64": { pod: null, container: null },
    "7.3.4+deb13-amd64": {
      pod: { swapInPages: 68836, swapOutPages: 103863 },
      container: { swapInPages: 73561, swapOutPages: 108608 },
    },
  };
  for (const kernel of KERNELS) {
    for (const cgroup of ["pod", "container"] as const) {
      const text = await readFixture(kernel, "pressure", `cgroup/${cgroup}/memory.stat`);
      const stat = parseMemoryStat(text);
      assert.equal(swapIoFromMemoryStat(stat) === null, expected[kernel][cgroup] === null);
      assert.deepEqual(swapIoFromMemoryStat(stat), expected[kernel][cgroup], `${kernel} ${cgroup}`);
    }
  }
});

Deno.test("parseMemoryStat() reads every key of 6.12's pod memory.stat", async () => {
  const text = await readFixture("6.12.95+deb12-amd64", "pressure", "cgroup/pod/memory.stat");
  const stat = parseMemoryStat(text);
  assert.equal(stat.size, text.trimEnd().split("\n").length);
  assert.equal(stat.get("anon"), 66498560);
  assert.equal(stat.get("swapcached"), 4096);
  assert.equal(stat.get("pgmajfault"), 77470);
});

Deno.test("CgroupTree with cgroupSwapIo writes pswpin/pswpout that parseMemoryStat finds", async () => {
  await using tree = await CgroupTree.create({ cgroupSwapIo: true });
  const uid = fakePodUid(10);
  await tree.addPod({ uid, qos: "burstable", containers: [{ id: "c10", swapInPages: 7 }] });
  const read = async () =>
    swapIoFromMemoryStat(
      parseMemoryStat(await Deno.readTextFile(`${tree.podPath(uid)}/memory.stat`)),
    );
  assert.deepEqual(await read(), { swapInPages: 7, swapOutPages: 0 });
  await tree.setPodSwapIo(uid, 100, 200);
  assert.deepEqual(await read(), { swapInPages: 100, swapOutPages: 200 });
});

Deno.test("readPodStats({ memoryStat }) takes pswpin/pswpout on 7.3 and anon refaults on 6.12", async () => {
  const on73 = await readPodStats(denoHostFs, fixturePod("7.3.4+deb13-amd64", "pressure"), {
    memoryStat: true,
  });
  assert.deepEqual(on73?.swapIo, { swapInPages: 68836, swapOutPages: 103863 });
  assert.equal(on73?.swapIoSource, "pswpin/pswpout");
  const on612 = await readPodStats(denoHostFs, fixturePod("6.12.95+deb12-amd64", "pressure"), {
    memoryStat: true,
  });
  assert.deepEqual(on612?.swapIo, { swapInPages: 77470, swapOutPages: 0 });
  assert.equal(on612?.swapIoSource, "workingset_refault_anon");
  const without = await readPodStats(denoHostFs, fixturePod("7.3.4+deb13-amd64", "pressure"));
  assert.equal(without !== null && "swapIo" in without, false, "memory.stat not read by default");
});

Deno.test("readPodStats() reads memory.stat only for a container with swap in use", async () => {
  await using tree = await CgroupTree.create();
  const uid = fakePodUid(9);
  const pod = await tree.addPod({
    uid,
    qos: "burstable",
    containers: [{ id: fakeContainerId(1), swapCurrentBytes: 0 }, {
      id: fakeContainerId(2),
      swapCurrentBytes: 4096,
    }],
  });
  const reads: string[] = [];
  const fs = interceptFs((_op, path) => void reads.push(path));
  const stats = await readPodStats(fs, pod);
  assert.equal(stats?.containers[0]?.footprint, undefined);
  assert.ok(stats?.containers[1]?.footprint);
  const statReads = reads.filter((p) => p.endsWith("/memory.stat"));
  assert.deepEqual(statReads, [`${pod.containers[1]!.path}/memory.stat`]);
});
