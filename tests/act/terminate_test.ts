import assert from "node:assert/strict";
import { createKubeClient } from "../../src/act/kube_client.ts";
import { API_TIMEOUT_MS } from "../../src/config.ts";
import { terminate } from "../../src/act/terminate.ts";
import type { Candidate } from "../../src/decide/select.ts";
import { denoHostFs } from "../../src/sense/host_fs.ts";
import { hostSensor } from "../../src/sense/node_sensor.ts";
import { makePod, standinConnection, startApiStandin } from "../fakes/api_standin.ts";

const UID = "7d4c2b1a-93e5-4f60-8a1b-2c3d4e5f6a7b";

async function setup(swapText: string | null) {
  const dir = await Deno.makeTempDir();
  if (swapText !== null) await Deno.writeTextFile(`${dir}/memory.swap.current`, swapText);
  const api = await startApiStandin({
    tls: false,
    pods: [makePod({ name: "db-0", uid: UID, nodeName: "node-a" })],
  });
  const kube = createKubeClient(standinConnection(api, "t"), {
    timeoutMs: API_TIMEOUT_MS,
    allowInsecureHttp: true,
  });
  const victim: Candidate = {
    stats: {
      uid: UID,
      cgroupPath: dir,
      qosClass: "burstable",
      swapCurrentBytes: 1 << 20,
      memoryCurrentBytes: 0,
      memoryMaxBytes: null,
      fullAvg10Percent: 60,
      someAvg10Percent: 70,
      oomKillCount: 0,
      containers: [],
    },
    pod: {
      uid: UID,
      namespace: "default",
      name: "db-0",
      nodeName: "node-a",
      terminating: false,
      mirrorOfUid: null,
      priority: null,
      terminationGracePeriodSeconds: 30,
      annotations: {},
    },
  };
  const deps = { sensor: hostSensor(denoHostFs, dir, dir), kube };
  const dispose = async () => {
    kube.close();
    await api.close();
    await Deno.remove(dir, { recursive: true });
  };
  return { api, deps, victim, dispose };
}

Deno.test("terminate() deletes with the uid precondition after the re-check", async () => {
  const { api, deps, victim, dispose } = await setup("1048576\n");
  try {
    const outcome = await terminate(victim, { dryRun: false, mode: "delete" }, deps);
    assert.deepEqual(outcome, { kind: "deleted", code: 200 });
    const deletes = api.requests.filter((r) => r.method === "DELETE");
    assert.equal(deletes.length, 1);
    assert.equal(deletes[0]!.path, "/api/v1/namespaces/default/pods/db-0");
    assert.deepEqual(deletes[0]!.body, {
      apiVersion: "v1",
      kind: "DeleteOptions",
      preconditions: { uid: UID },
    });
  } finally {
    await dispose();
  }
});

Deno.test("terminate() in dry-run sends nothing destructive", async () => {
  const { api, deps, victim, dispose } = await setup("1048576\n");
  try {
    assert.deepEqual(await terminate(victim, { dryRun: true, mode: "delete" }, deps), {
      kind: "dry-run",
    });
    assert.deepEqual(api.requests.map((r) => r.method), []);
  } finally {
    await dispose();
  }
});

Deno.test("terminate() skips a victim whose swap dropped to 0 or whose cgroup is gone", async () => {
  for (const [swap, why] of [["0\n", /swap dropped to 0/], [null, /cgroup is gone/]] as const) {
    const { api, deps, victim, dispose } = await setup(swap);
    try {
      const outcome = await terminate(victim, { dryRun: false, mode: "delete" }, deps);
      assert.equal(outcome.kind, "skipped");
      assert.match((outcome as { why: string }).why, why);
      assert.equal(api.requests.length, 0);
    } finally {
      await dispose();
    }
  }
});

Deno.test("terminate() reports 409 (re-created pod) as a conflict, 500 as unknown, 403 as failed", async () => {
  const table = [
    [409, "conflict"],
    [500, "unknown"],
    [403, "failed"],
    [404, "gone"],
  ] as const;
  for (const [status, kind] of table) {
    const { api, deps, victim, dispose } = await setup("4096");
    try {
      api.inject({ method: "DELETE" }, { status });
      assert.equal(
        (await terminate(victim, { dryRun: false, mode: "delete" }, deps)).kind,
        kind,
        String(status),
      );
    } finally {
      await dispose();
    }
  }
});

Deno.test("terminate() in evict mode posts an Eviction with the uid precondition", async () => {
  const { api, deps, victim, dispose } = await setup("4096");
  try {
    const outcome = await terminate(victim, { dryRun: false, mode: "evict" }, deps);
    assert.deepEqual(outcome, { kind: "evicted", code: 201 });
    assert.deepEqual(api.requests.map((r) => [r.method, r.path]), [
      ["POST", "/api/v1/namespaces/default/pods/db-0/eviction"],
    ]);
    assert.deepEqual(
      (api.requests[0]!.body as { deleteOptions: unknown }).deleteOptions,
      { preconditions: { uid: UID } },
    );
  } finally {
    await dispose();
  }
});

Deno.test("terminate() in evict mode reports what the Eviction API answered", async () => {
  const table = [
    [429, "blocked"],
    [404, "gone"],
    [409, "conflict"],
    [503, "unknown"],
    [400, "failed"],
  ] as const;
  for (const [status, kind] of table) {
    const { api, deps, victim, dispose } = await setup("4096");
    try {
      api.inject({ method: "POST" }, { status });
      const outcome = await terminate(victim, { dryRun: false, mode: "evict" }, deps);
      assert.equal(outcome.kind, kind, String(status));
      assert.equal(api.requests.filter((r) => r.method === "DELETE").length, 0);
    } finally {
      await dispose();
    }
  }
});

Deno.test("terminate() in evict mode with dry-run sends nothing", async () => {
  const { api, deps, victim, dispose } = await setup("4096");
  try {
    assert.deepEqual(await terminate(victim, { dryRun: true, mode: "evict" }, deps), {
      kind: "dry-run",
    });
    assert.equal(api.requests.length, 0);
  } finally {
    await dispose();
  }
});
