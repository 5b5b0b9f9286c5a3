import assert from "node:assert/strict";
import {
  DISRUPTION_PATCH_WAIT_MS,
  DISRUPTION_REASON,
  DISRUPTION_TARGET,
  disruptionTargetPatch,
  STRATEGIC_MERGE_PATCH,
} from "../../src/act/disruption_target.ts";
import { createKubeClient } from "../../src/act/kube_client.ts";
import { API_TIMEOUT_MS } from "../../src/config.ts";
import { terminate, type TerminateHow } from "../../src/act/terminate.ts";
import type { Candidate } from "../../src/decide/select.ts";
import { denoHostFs } from "../../src/sense/host_fs.ts";
import { hostSensor } from "../../src/sense/node_sensor.ts";
import { makePod, standinConnection, startApiStandin } from "../fakes/api_standin.ts";
import { RecordingLog } from "../fakes/recording_log.ts";

const UID = "0b9d2c4e-1f3a-4c5b-9d8e-7f6a5b4c3d2e";
const AT = new Date("2026-12-01T21:30:05.123Z");

async function setup() {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/memory.swap.current`, "1048576\n");
  const api = await startApiStandin({
    tls: false,
    pods: [makePod({ name: "batch-7", namespace: "jobs", uid: UID, nodeName: "node-a" })],
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
      swapCurrentBytes: 200 * (1 << 20),
      memoryCurrentBytes: 0,
      memoryMaxBytes: null,
      fullAvg10Percent: 12,
      someAvg10Percent: 55,
      oomKillCount: 0,
      containers: [],
    },
    pod: {
      uid: UID,
      namespace: "jobs",
      name: "batch-7",
      nodeName: "node-a",
      terminating: false,
      mirrorOfUid: null,
      priority: null,
      terminationGracePeriodSeconds: 30,
      annotations: {},
    },
  };
  const log = new RecordingLog();
  const deps = {
    sensor: hostSensor(denoHostFs, dir, dir),
    kube,
    log: log.logger,
    clock: { wallTime: () => AT },
  };
  const dispose = async () => {
    kube.close();
    await api.close();
    await Deno.remove(dir, { recursive: true });
  };
  return { api, deps, victim, log, dispose };
}

const DELETE_MODE: TerminateHow = { dryRun: false, mode: "delete", trigger: "headroom" };

Deno.test("terminate() in delete mode sets condition DisruptionTarget on the pod's status, then DELETEs", async () => {
  const { api, deps, victim, log, dispose } = await setup();
  try {
    assert.deepEqual(await terminate(victim, DELETE_MODE, deps), { kind: "deleted", code: 200 });
    const writes = api.requests.filter((r) => r.method !== "GET");
    assert.deepEqual(writes.map((r) => `${r.method} ${r.path}`), [
      "PATCH /api/v1/namespaces/jobs/pods/batch-7/status",
      "DELETE /api/v1/namespaces/jobs/pods/batch-7",
    ]);
    const patch = writes[0]!;
    assert.equal(patch.headers["content-type"], STRATEGIC_MERGE_PATCH);
    assert.deepEqual(patch.body, {
      metadata: { uid: UID },
      status: {
        conditions: [{
          type: "DisruptionTarget",
          status: "True",
          reason: "SoftOOMKill",
          message: "kube-soomkiller deleted this pod before the kernel could OOM-kill it " +
            "(trigger headroom): swap 200.0 MiB, memory.pressure full avg10 12%",
          lastTransitionTime: "2026-12-01T21:30:05Z",
        }],
      },
    });
    // The stand-in merged it into the pod's conditions, as the API server does.
    const pod = api.pods.find((p) => p.metadata?.uid === UID)!;
    const condition = pod.status?.conditions?.find((c) => c.type === DISRUPTION_TARGET);
    assert.equal(condition?.status, "True");
    assert.equal(condition?.reason, DISRUPTION_REASON);
    assert.deepEqual(log.lines.filter((l) => l.level === "warning"), []);
  } finally {
    await dispose();
  }
});

Deno.test("A refused DisruptionTarget patch (403) is logged with the RBAC hint and the DELETE still goes out", async () => {
  const { api, deps, victim, log, dispose } = await setup();
  try {
    api.inject({ method: "PATCH" }, { status: 403 });
    assert.deepEqual(await terminate(victim, DELETE_MODE, deps), { kind: "deleted", code: 200 });
    assert.equal(api.requests.filter((r) => r.method === "DELETE").length, 1);
    const warnings = log.lines.filter((l) => l.level === "warning");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.text, /Cannot set condition DisruptionTarget on pod "?jobs\/batch-7/);
    assert.match(warnings[0]!.text, /grant verb "patch" on "pods\/status"/);
  } finally {
    await dispose();
  }
});

Deno.test("A DisruptionTarget patch refused with 422 (re-created pod) or 500 never blocks the DELETE", async () => {
  const { api, deps, victim, log, dispose } = await setup();
  try {
    // Same name, another uid: the patch gets 422 (uid is immutable), the DELETE 409.
    const renamed = {
      ...victim,
      pod: { ...victim.pod!, uid: "ffffffff-0000-4000-8000-000000000000" },
    };
    const outcome = await terminate(renamed, DELETE_MODE, deps);
    assert.equal(outcome.kind, "conflict");
    assert.match(
      log.lines[0]!.text,
      /HTTP 422 Invalid: Pod "batch-7" is invalid: metadata\.uid: .*field is immutable/,
    );
    const pod = api.pods.find((p) => p.metadata?.uid === UID)!;
    assert.equal(pod.status?.conditions?.find((c) => c.type === DISRUPTION_TARGET), undefined);

    api.inject({ method: "PATCH" }, { status: 500 });
    assert.deepEqual(await terminate(victim, DELETE_MODE, deps), { kind: "deleted", code: 200 });
  } finally {
    await dispose();
  }
});

Deno.test("terminate() sends no DisruptionTarget patch in dry-run or evict mode", async () => {
  const { api, deps, victim, dispose } = await setup();
  try {
    assert.deepEqual(await terminate(victim, { ...DELETE_MODE, dryRun: true }, deps), {
      kind: "dry-run",
    });
    assert.deepEqual(api.requests.filter((r) => r.method !== "GET"), []);
    // The Eviction API sets DisruptionTarget itself.
    assert.equal(
      (await terminate(victim, { ...DELETE_MODE, mode: "evict" }, deps)).kind,
      "evicted",
    );
    assert.deepEqual(api.requests.map((r) => r.method), ["POST"]);
  } finally {
    await dispose();
  }
});

Deno.test("disruptionTargetPatch() writes metav1.Time in whole seconds", () => {
  const patch = disruptionTargetPatch(UID, "m", AT);
  assert.equal(patch.status.conditions[0].lastTransitionTime, "2026-12-01T21:30:05Z");
  assert.deepEqual(patch.metadata, { uid: UID });
});

Deno.test({
  name:
    "A DisruptionTarget patch the API does not answer holds the DELETE back at most DISRUPTION_PATCH_WAIT_MS",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { api, deps, victim, log, dispose } = await setup();
    try {
      api.inject({ method: "PATCH" }, "hang");
      const started = performance.now();
      assert.deepEqual(await terminate(victim, DELETE_MODE, deps), { kind: "deleted", code: 200 });
      const waitedMs = performance.now() - started;
      assert.ok(waitedMs >= DISRUPTION_PATCH_WAIT_MS - 50, `waited ${waitedMs} ms`);
      assert.ok(waitedMs < DISRUPTION_PATCH_WAIT_MS + 1_500, `waited ${waitedMs} ms`);
      assert.deepEqual(api.requests.map((r) => r.method), ["PATCH", "DELETE"]);
      assert.match(log.lines[0]!.text, /not confirmed within 2 s: deleting now/);
    } finally {
      await dispose();
    }
  },
});
