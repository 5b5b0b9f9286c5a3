import assert from "node:assert/strict";
import {
  containerIdFromComponent,
  discoverPodCgroups,
  type PodCgroup,
  podUidFromComponent,
} from "../../src/sense/cgroup_layout.ts";
import { denoHostFs } from "../../src/sense/host_fs.ts";
import { CgroupTree, fakeContainerId, fakePodUid, fastTempDir } from "../fakes/cgroup_tree.ts";
import { recordingFs, vanishingFs } from "./helpers.ts";

const UID = "7d4c2b1a-93e5-4f60-8a1b-2c3d4e5f6a7b";
const STATIC_UID = "0123456789abcdef0123456789abcdef";

Deno.test("podUidFromComponent() reads pod UIDs of both drivers and static pods", () => {
  const cases: [string, string | null][] = [
    [`kubepods-burstable-pod${UID.replaceAll("-", "_")}.slice`, UID],
    [`kubepods-besteffort-pod${UID.replaceAll("-", "_")}.slice`, UID],
    [`kubepods-pod${UID.replaceAll("-", "_")}.slice`, UID],
    [`kubelet-kubepods-burstable-pod${UID.replaceAll("-", "_")}.slice`, UID],
    [`pod${UID}`, UID],
    [`pod${STATIC_UID}`, STATIC_UID],
    [`kubepods-burstable-pod${STATIC_UID}.slice`, STATIC_UID],
    ["kubepods.slice", null],
    ["kubepods-burstable.slice", null],
    ["burstable", null],
    [`cri-containerd-${fakeContainerId(1)}.scope`, null],
    [`pod${UID}x`, null],
    [`pod${UID.toUpperCase()}`, null],
    [`pod${STATIC_UID.slice(1)}`, null],
    ["pod", null],
    ["", null],
  ];
  for (const [component, uid] of cases) {
    assert.equal(podUidFromComponent(component), uid, component);
  }
});

Deno.test("containerIdFromComponent() strips runtime prefixes and skips conmon and units", () => {
  const id = fakeContainerId(7);
  const cases: [string, string | null][] = [
    [`cri-containerd-${id}.scope`, id],
    [`crio-${id}.scope`, id],
    [`docker-${id}.scope`, id],
    [`crio-${id}`, id],
    [id, id],
    [`crio-conmon-${id}.scope`, null],
    [`crio-conmon-${id}`, null],
    ["init.scope", null],
    ["something.slice", null],
    ["cri-containerd-.scope", null],
  ];
  for (const [component, expected] of cases) {
    assert.equal(containerIdFromComponent(component), expected, component);
  }
});

/** Adds one pod per QoS class, two containers each, and returns their expected cgroups. */
async function addThreePods(tree: CgroupTree): Promise<PodCgroup[]> {
  const pods: PodCgroup[] = [];
  let n = 0;
  for (const qos of ["guaranteed", "burstable", "besteffort"] as const) {
    n++;
    pods.push(
      await tree.addPod({
        uid: fakePodUid(n),
        qos,
        containers: [{ id: fakeContainerId(n * 10) }, { id: fakeContainerId(n * 10 + 1) }],
      }),
    );
  }
  return pods.sort((a, b) => (a.path < b.path ? -1 : 1));
}

Deno.test("discoverPodCgroups() finds all QoS classes under the systemd driver with containerd", async () => {
  await using tree = await CgroupTree.create({ driver: "systemd", runtime: "containerd" });
  const expected = await addThreePods(tree);
  const found = await discoverPodCgroups(denoHostFs, tree.root);
  assert.deepEqual(found, expected);
  assert.deepEqual(
    found.map((p) => [p.qosClass, p.path.slice(tree.root.length)]),
    [
      [
        "besteffort",
        "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod00000000_0000_4000_8000_000000000003.slice",
      ],
      [
        "burstable",
        "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod00000000_0000_4000_8000_000000000002.slice",
      ],
      ["guaranteed", "/kubepods.slice/kubepods-pod00000000_0000_4000_8000_000000000001.slice"],
    ],
  );
  assert.ok(found[0]?.containers[0]?.path.endsWith(`/cri-containerd-${fakeContainerId(30)}.scope`));
});

Deno.test("discoverPodCgroups() finds CRI-O scopes and skips crio-conmon scopes", async () => {
  for (const driver of ["systemd", "cgroupfs"] as const) {
    await using tree = await CgroupTree.create({ driver, runtime: "crio" });
    const expected = await addThreePods(tree);
    // The conmon cgroups are there…
    const names = [...Deno.readDirSync(expected[0]!.path)].map((e) => e.name);
    assert.ok(names.some((name) => name.startsWith("crio-conmon-")), driver);
    // …but are no containers.
    const found = await discoverPodCgroups(denoHostFs, tree.root);
    assert.deepEqual(found, expected, driver);
    assert.deepEqual(found[0]?.containers.map((c) => c.id), [
      fakeContainerId(30),
      fakeContainerId(31),
    ]);
  }
});

Deno.test("discoverPodCgroups() finds Docker scopes", async () => {
  await using tree = await CgroupTree.create({ runtime: "docker" });
  const expected = await addThreePods(tree);
  assert.deepEqual(await discoverPodCgroups(denoHostFs, tree.root), expected);
  assert.ok(expected[0]?.containers[0]?.path.endsWith(".scope"));
});

Deno.test("discoverPodCgroups() finds all QoS classes under the cgroupfs driver", async () => {
  await using tree = await CgroupTree.create({ driver: "cgroupfs" });
  const expected = await addThreePods(tree);
  const found = await discoverPodCgroups(denoHostFs, tree.root);
  assert.deepEqual(found, expected);
  assert.deepEqual(found.map((p) => [p.qosClass, p.path.slice(tree.root.length)]), [
    ["besteffort", "/kubepods/besteffort/pod00000000-0000-4000-8000-000000000003"],
    ["burstable", "/kubepods/burstable/pod00000000-0000-4000-8000-000000000002"],
    ["guaranteed", "/kubepods/pod00000000-0000-4000-8000-000000000001"],
  ]);
  assert.equal(found[0]?.containers[0]?.id, fakeContainerId(30));
  assert.equal(found[0]?.containers[0]?.path, `${found[0]?.path}/${fakeContainerId(30)}`);
});

Deno.test("discoverPodCgroups() finds pods under kind's kubelet.slice/kubelet-kubepods.slice", async () => {
  await using tree = await CgroupTree.create({ driver: "systemd", prefix: "kubelet" });
  const expected = await addThreePods(tree);
  const found = await discoverPodCgroups(denoHostFs, tree.root);
  assert.deepEqual(found, expected);
  assert.deepEqual(found.map((p) => [p.qosClass, p.path.slice(tree.root.length)]), [
    [
      "besteffort",
      "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod00000000_0000_4000_8000_000000000003.slice",
    ],
    [
      "burstable",
      "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-pod00000000_0000_4000_8000_000000000002.slice",
    ],
    [
      "guaranteed",
      "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-pod00000000_0000_4000_8000_000000000001.slice",
    ],
  ]);
});

Deno.test("discoverPodCgroups() finds cgroupfs pods under a kubelet/ prefix", async () => {
  await using tree = await CgroupTree.create({ driver: "cgroupfs", prefix: "kubelet" });
  const expected = await addThreePods(tree);
  const found = await discoverPodCgroups(denoHostFs, tree.root);
  assert.deepEqual(found, expected);
  assert.ok(found.every((p) => p.path.startsWith(`${tree.root}/kubelet/kubepods/`)));
});

Deno.test("discoverPodCgroups() finds a static pod with a 32-hex UID", async () => {
  for (const driver of ["systemd", "cgroupfs"] as const) {
    await using tree = await CgroupTree.create({ driver });
    const pod = await tree.addPod({
      uid: STATIC_UID,
      qos: "burstable",
      containers: [{ id: "e1" }],
    });
    const found = await discoverPodCgroups(denoHostFs, tree.root);
    assert.deepEqual(found, [pod], driver);
    assert.equal(found[0]?.uid, STATIC_UID);
  }
});

Deno.test("discoverPodCgroups() never lists system.slice, user.slice or init.scope", async () => {
  await using tree = await CgroupTree.create({ systemCgroups: true });
  await addThreePods(tree);
  // A pod-shaped name outside the kubelet's tree is not a pod of this node's kubelet.
  await tree.addCgroup(`system.slice/kubepods-pod${fakePodUid(99).replaceAll("-", "_")}.slice`);
  const { fs, paths } = recordingFs();
  const found = await discoverPodCgroups(fs, tree.root);
  assert.equal(found.length, 3);
  for (const unrelated of ["system.slice", "user.slice", "init.scope"]) {
    assert.ok(!paths.some((p) => p.startsWith(`${tree.root}/${unrelated}`)), unrelated);
  }
  // One listing for the root, kubepods.slice, two QoS slices and each of the three pods.
  assert.equal(paths.length, 1 + 1 + 2 + 3);
});

Deno.test("discoverPodCgroups() skips a pod directory that vanishes mid-walk", async () => {
  await using tree = await CgroupTree.create();
  const [a, b, c] = await addThreePods(tree);
  const found = await discoverPodCgroups(vanishingFs(b!.path), tree.root);
  assert.deepEqual(found, [a, c]);
});

Deno.test("discoverPodCgroups() skips a QoS directory that vanishes mid-walk", async () => {
  await using tree = await CgroupTree.create({ driver: "cgroupfs" });
  const pods = await addThreePods(tree);
  const found = await discoverPodCgroups(vanishingFs(`${tree.root}/kubepods/burstable`), tree.root);
  assert.deepEqual(found, pods.filter((p) => p.qosClass !== "burstable"));
});

Deno.test("discoverPodCgroups() returns no pods for an empty kubelet tree", async () => {
  await using tree = await CgroupTree.create();
  assert.deepEqual(await discoverPodCgroups(denoHostFs, tree.root), []);
});

Deno.test("discoverPodCgroups() throws NotFound for a missing cgroup root", async () => {
  await using tree = await CgroupTree.create();
  await assert.rejects(
    () => discoverPodCgroups(denoHostFs, `${tree.root}/no-such-root`),
    Deno.errors.NotFound,
  );
});

Deno.test("discoverPodCgroups() accepts a cgroup root with a trailing slash", async () => {
  await using tree = await CgroupTree.create();
  const expected = await addThreePods(tree);
  assert.deepEqual(await discoverPodCgroups(denoHostFs, `${tree.root}/`), expected);
});

Deno.test("discoverPodCgroups() takes the QoS class from a cgroup root that is a QoS directory", async () => {
  await using tree = await CgroupTree.create({ driver: "cgroupfs" });
  const [, burstable] = await addThreePods(tree);
  const found = await discoverPodCgroups(denoHostFs, `${tree.root}/kubepods/burstable`);
  assert.deepEqual(found, [burstable]);
});

Deno.test("discoverPodCgroups() goes at most 6 levels deep", async () => {
  // kubelet/kubelet/kubelet/kubepods/burstable/pod… is at depth 6: found.
  await using shallow = await CgroupTree.create({
    driver: "cgroupfs",
    prefix: "kubelet/kubelet/kubelet",
  });
  const [, burstable] = await addThreePods(shallow);
  const found = await discoverPodCgroups(denoHostFs, shallow.root);
  assert.equal(found.length, 3);
  assert.deepEqual(found[1], burstable);
  // One level more: the guaranteed pod (depth 6) is found, the others (depth 7) are not.
  await using deep = await CgroupTree.create({
    driver: "cgroupfs",
    prefix: "kubelet/kubelet/kubelet/kubelet",
  });
  await addThreePods(deep);
  const deepFound = await discoverPodCgroups(denoHostFs, deep.root);
  assert.deepEqual(deepFound.map((p) => p.qosClass), ["guaranteed"]);
});

Deno.test("discoverPodCgroups() returns hundreds of pods sorted by path", async () => {
  await using tree = await CgroupTree.create({ tempDir: fastTempDir() });
  const qos = ["guaranteed", "burstable", "besteffort"] as const;
  for (let i = 300; i > 0; i--) {
    await tree.addPod({ uid: fakePodUid(i), qos: qos[i % 3]!, containers: [{ id: `c${i}` }] });
  }
  const found = await discoverPodCgroups(denoHostFs, tree.root);
  assert.equal(found.length, 300);
  const paths = found.map((p) => p.path);
  assert.deepEqual(paths, [...paths].sort());
});
