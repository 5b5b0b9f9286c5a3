import assert from "node:assert/strict";
import { checkHost } from "../../src/sense/host_check.ts";
import { denoHostFs } from "../../src/sense/host_fs.ts";
import { CgroupTree } from "../fakes/cgroup_tree.ts";
import { writeProc } from "../fakes/proc_tree.ts";
import { fixturePath, interceptFs, KERNELS } from "./helpers.ts";

/** A fake node: a proc dir and a cgroup tree, removed at scope end. */
async function fakeNode(): Promise<{ proc: string; tree: CgroupTree } & AsyncDisposable> {
  const tree = await CgroupTree.create();
  const proc = tree.root.replace(/\/cgroup$/, "/proc");
  await writeProc(proc, { swapTotalBytes: 1024 * 1024 * 1024 });
  return { proc, tree, [Symbol.asyncDispose]: () => tree.dispose() };
}

Deno.test("checkHost() passes a swap-enabled cgroup v2 node with PSI", async () => {
  await using node = await fakeNode();
  assert.deepEqual(await checkHost(denoHostFs, node.proc, node.tree.root), {
    ok: true,
    problems: [],
    swapTotalBytes: 1024 * 1024 * 1024,
    memoryPressureAvailable: true,
  });
});

Deno.test("checkHost() passes every captured kernel", async () => {
  for (const kernel of KERNELS) {
    for (const snapshot of ["idle", "pressure", "oom"] as const) {
      const check = await checkHost(
        denoHostFs,
        fixturePath(kernel, snapshot, "proc"),
        fixturePath(kernel, snapshot, "cgroup"),
      );
      assert.deepEqual(check, {
        ok: true,
        problems: [],
        swapTotalBytes: 524284 * 1024,
        memoryPressureAvailable: true,
      }, `${kernel} ${snapshot}`);
    }
  }
});

Deno.test("checkHost() reports a node without swap", async () => {
  await using node = await fakeNode();
  await writeProc(node.proc, { swapTotalBytes: 0, swapFreeBytes: 0 });
  const check = await checkHost(denoHostFs, node.proc, node.tree.root);
  assert.equal(check.ok, false);
  assert.equal(check.swapTotalBytes, 0);
  assert.deepEqual(check.problems, [
    `No swap on this node: SwapTotal is 0 in "${node.proc}/meminfo"; kube-soomkiller only acts ` +
    `on swap-enabled nodes`,
  ]);
});

Deno.test("checkHost() reports a missing cgroup.controllers as no cgroup v2", async () => {
  await using node = await fakeNode();
  await Deno.remove(`${node.tree.root}/cgroup.controllers`);
  const check = await checkHost(denoHostFs, node.proc, node.tree.root);
  assert.equal(check.ok, false);
  assert.deepEqual(check.problems, [
    `cgroup v2 not found: "${node.tree.root}/cgroup.controllers" is missing; mount the host's ` +
    `/sys/fs/cgroup at "${node.tree.root}" (the node must run cgroup v2: ` +
    `systemd.unified_cgroup_hierarchy=1)`,
  ]);
});

Deno.test("checkHost() reports a cgroup root without the memory controller", async () => {
  await using node = await fakeNode();
  await Deno.writeTextFile(`${node.tree.root}/cgroup.controllers`, "cpuset cpu io pids\n");
  const check = await checkHost(denoHostFs, node.proc, node.tree.root);
  assert.deepEqual(check.problems, [
    `Memory controller not available: "${node.tree.root}/cgroup.controllers" lists ` +
    `"cpuset cpu io pids" without "memory"; enable the memory cgroup controller on the node ` +
    `(cgroup_enable=memory)`,
  ]);
});

Deno.test("checkHost() reports swap accounting off when kubepods has no memory.swap.current", async () => {
  await using node = await fakeNode();
  const path = `${node.tree.root}/kubepods.slice/memory.swap.current`;
  await Deno.remove(path);
  const check = await checkHost(denoHostFs, node.proc, node.tree.root);
  assert.deepEqual(check.problems, [
    `Swap accounting is off: "${path}" is missing; cgroups report swap only when the kernel ` +
    `accounts it (no cgroup.memory=noswap or swapaccount=0 on its command line)`,
  ]);
});

Deno.test("checkHost() reports a missing PSI file and memoryPressureAvailable false", async () => {
  await using node = await fakeNode();
  await Deno.remove(`${node.proc}/pressure/memory`);
  const check = await checkHost(denoHostFs, node.proc, node.tree.root);
  assert.equal(check.ok, false);
  assert.equal(check.memoryPressureAvailable, false);
  assert.deepEqual(check.problems, [
    `PSI not found: "${node.proc}/pressure/memory" is missing; boot the node's kernel with ` +
    `psi=1 (CONFIG_PSI) and mount the host's /proc at "${node.proc}"`,
  ]);
});

Deno.test("checkHost() reports a malformed PSI file", async () => {
  await using node = await fakeNode();
  await Deno.writeTextFile(`${node.proc}/pressure/memory`, "garbage\n");
  const check = await checkHost(denoHostFs, node.proc, node.tree.root);
  assert.equal(check.memoryPressureAvailable, false);
  assert.deepEqual(check.problems, [
    `No memory pressure in "${node.proc}/pressure/memory": Cannot parse "pressure/memory": ` +
    `missing "some" line`,
  ]);
});

Deno.test("checkHost() reports a vmstat without pswpin", async () => {
  await using node = await fakeNode();
  await Deno.writeTextFile(`${node.proc}/vmstat`, "nr_free_pages 1\n");
  const check = await checkHost(denoHostFs, node.proc, node.tree.root);
  assert.deepEqual(check.problems, [
    `No swap I/O counters in "${node.proc}/vmstat": Cannot parse "vmstat": missing "pswpin"`,
  ]);
});

Deno.test("checkHost() reports every problem of an empty host view at once", async () => {
  const empty = await Deno.makeTempDir();
  try {
    const check = await checkHost(denoHostFs, `${empty}/proc`, `${empty}/cgroup`);
    assert.equal(check.ok, false);
    assert.equal(check.problems.length, 4);
    assert.match(check.problems[0]!, /^cgroup v2 not found: /);
    assert.match(check.problems[1]!, /^PSI not found: /);
    assert.equal(
      check.problems[2],
      `Cannot read "${empty}/proc/meminfo": the file is missing; mount the host's /proc at ` +
        `"${empty}/proc"`,
    );
    assert.equal(
      check.problems[3],
      `Cannot read "${empty}/proc/vmstat": the file is missing; mount the host's /proc at ` +
        `"${empty}/proc"`,
    );
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});

Deno.test("checkHost() names the path and the fix when Deno refuses a read", async () => {
  await using node = await fakeNode();
  const fs = interceptFs((_op, path) => {
    if (path.endsWith("/vmstat")) {
      throw new Deno.errors.NotCapable(`Requires read access to "${path}"`);
    }
  });
  const check = await checkHost(fs, node.proc, node.tree.root);
  assert.deepEqual(check.problems, [
    `Cannot read "${node.proc}/vmstat": Deno denied the read; allow it with ` +
    `--allow-read=${node.proc} (the "agent" permission set in deno.json allows the /host mounts)`,
  ]);
});

Deno.test("checkHost() names the path and the fix when the OS denies a read", async () => {
  await using node = await fakeNode();
  const fs = interceptFs((_op, path) => {
    if (path.endsWith("/cgroup.controllers")) {
      throw new Deno.errors.PermissionDenied("Permission denied (os error 13)");
    }
  });
  const check = await checkHost(fs, node.proc, node.tree.root);
  assert.deepEqual(check.problems, [
    `Cannot read "${node.tree.root}/cgroup.controllers": permission denied by the operating ` +
    `system; mount the host's /sys/fs/cgroup at "${node.tree.root}" read-only and run the ` +
    `agent as a user that can read it`,
  ]);
});

Deno.test("checkHost() under a scoped --allow-read tells to mount /proc at /host/proc", async () => {
  // A real Deno refusal: /proc/vmstat needs --allow-all whatever --allow-read says.
  const dir = await Deno.makeTempDir();
  try {
    const script = `${dir}/probe.ts`;
    const hostCheck = new URL("../../src/sense/host_check.ts", import.meta.url).href;
    const hostFs = new URL("../../src/sense/host_fs.ts", import.meta.url).href;
    await Deno.writeTextFile(
      script,
      `import { checkHost } from "${hostCheck}";\n` +
        `import { denoHostFs } from "${hostFs}";\n` +
        `const check = await checkHost(denoHostFs, "/proc", "/sys/fs/cgroup");\n` +
        `console.log(JSON.stringify(check.problems));\n`,
    );
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-config", "--no-prompt", `--allow-read=${dir}`, script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.ok(output.success, stderr);
    const problems: string[] = JSON.parse(new TextDecoder().decode(output.stdout));
    assert.ok(
      problems.includes(
        `Cannot read "/proc/vmstat": Deno refuses reads under /proc and /sys without ` +
          `--allow-all; mount the host's /proc at "/host/proc" and point the agent there`,
      ),
      problems.join("\n"),
    );
    assert.ok(
      problems.includes(
        `Cannot read "/sys/fs/cgroup/cgroup.controllers": Deno refuses reads under /proc and ` +
          `/sys without --allow-all; mount the host's /sys/fs/cgroup at "/host/sys/fs/cgroup" ` +
          `and point the agent there`,
      ),
      problems.join("\n"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
