/**
 * A hostile or mis-mounted host tree (issue 12, items 9 and 10): a FIFO in place of
 * memory.pressure must not freeze the process, a symlinked file is never read, and a parse
 * error quotes at most a short, escaped excerpt.
 */
import assert from "node:assert/strict";
import { ParseError } from "../../src/sense/parse_error.ts";
import { parsePressure } from "../../src/sense/pressure.ts";
import { CgroupTree, fakeContainerId, fakePodUid } from "../fakes/cgroup_tree.ts";

/** Scans `tree` with the agent's own reader in a subprocess; null if it did not finish. */
async function scanInSubprocess(root: string, timeoutMs: number) {
  const script = `
    import { hostSensor } from ${
    JSON.stringify(new URL("../../src/sense/node_sensor.ts", import.meta.url).href)
  };
    import { denoHostFs } from ${
    JSON.stringify(new URL("../../src/sense/host_fs.ts", import.meta.url).href)
  };
    const scan = await hostSensor(denoHostFs, "/proc", ${JSON.stringify(root)}).scanPods();
    console.log(JSON.stringify({ pods: scan.pods.map((p) => p.uid), errors: scan.errors }));
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", script],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const output = await child.output();
  clearTimeout(timer);
  if (!output.success) return null;
  return JSON.parse(new TextDecoder().decode(output.stdout)) as {
    pods: string[];
    errors: { cgroupPath: string; message: string }[];
  };
}

async function twoPods() {
  const tree = await CgroupTree.create({ driver: "systemd" });
  for (const n of [1, 2]) {
    await tree.addPod({
      uid: fakePodUid(n),
      qos: "burstable",
      swapCurrentBytes: 10 << 20,
      fullAvg10Percent: 40,
      containers: [{ id: fakeContainerId(n), swapCurrentBytes: 10 << 20 }],
    });
  }
  return tree;
}

Deno.test("a FIFO in place of memory.pressure costs that pod, and the scan finishes", async () => {
  const tree = await twoPods();
  try {
    const path = `${tree.podPath(fakePodUid(1))}/memory.pressure`;
    await Deno.remove(path);
    const mkfifo = await new Deno.Command("mkfifo", { args: [path] }).output();
    assert.ok(mkfifo.success, "mkfifo");
    const scan = await scanInSubprocess(tree.root, 10_000);
    assert.ok(scan !== null, "the scan hung on the FIFO (killed after 10 s)");
    assert.deepEqual(scan.pods, [fakePodUid(2)]);
    assert.equal(scan.errors.length, 1);
    assert.match(scan.errors[0]!.message, /memory\.pressure" is a FIFO, not a regular file/);
  } finally {
    await tree.dispose();
  }
});

Deno.test("a symlinked memory.pressure is never read: its target's contents never reach a message", async () => {
  const tree = await twoPods();
  const secretDir = await Deno.makeTempDir();
  try {
    const secret = `${secretDir}/token`;
    await Deno.writeTextFile(secret, "SECRET-TOKEN-abc123 not a pressure line\n");
    const path = `${tree.podPath(fakePodUid(1))}/memory.pressure`;
    await Deno.remove(path);
    await Deno.symlink(secret, path);
    const scan = await scanInSubprocess(tree.root, 10_000);
    assert.ok(scan !== null);
    assert.deepEqual(scan.pods, [fakePodUid(2)]);
    assert.match(scan.errors[0]!.message, /is a symlink, not a regular file: not read/);
    assert.ok(!JSON.stringify(scan).includes("SECRET-TOKEN"), JSON.stringify(scan));
  } finally {
    await tree.dispose();
    await Deno.remove(secretDir, { recursive: true });
  }
});

Deno.test("a parse error quotes a short, escaped excerpt: no forged line, no 41 MB message", () => {
  const forged = "some avg10=1" + "\n2026-01-01 WARN delete prod/FORGED → deleted\n" +
    "x".repeat(20_000_000);
  const error = new ParseError("memory.stat", `line "${forged}" is not "key value"`);
  assert.ok(error.message.length < 400, `${error.message.length} characters`);
  for (const c of ["\n", "\r", "\u001b"]) assert.ok(!error.message.includes(c), error.message);
  assert.match(error.message, /\\n2026-01-01 WARN delete prod\/FORGED/);
  assert.match(error.message, /more characters cut\)$/);
  // Through a real parser: a garbage memory.pressure field.
  assert.throws(
    () => parsePressure(`some avg10=\u001b[31m${"9".repeat(100_000)} avg60=0 avg300=0 total=0\n`),
    (e: Error) => e.message.length < 400 && !e.message.includes("\u001b"),
  );
});
