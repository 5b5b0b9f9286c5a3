import assert from "node:assert/strict";
import {
  buildTerminationEvent,
  type EventV1Body,
  MAX_NOTE_BYTES,
  microTime,
  recordTerminationEvent,
  type TerminationEventInput,
  truncateUtf8,
} from "../../src/act/events.ts";
import { createKubeClient, type KubeClient } from "../../src/act/kube_client.ts";
import { API_TIMEOUT_MS, DEFAULTS } from "../../src/config.ts";
import { agentLogger } from "../../src/observe/log.ts";
import {
  type ApiStandin,
  makePod,
  standinConnection,
  startApiStandin,
} from "../fakes/api_standin.ts";
import { FakeClock } from "../fakes/fake_clock.ts";
import { candidate, observation, podMeta, podStats } from "../observe/helpers.ts";

const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const VICTIM_UID = "7d4c2b1a-93e5-4f60-8a1b-2c3d4e5f6a7b";
const RUNNER_UP_UID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const MiB = 1 << 20;

const victim = candidate(
  podStats(VICTIM_UID, 180 * MiB, 62.5),
  podMeta(VICTIM_UID, "shop", "db-0"),
);
const runnerUp = candidate(
  podStats(RUNNER_UP_UID, 20 * MiB, 51),
  podMeta(RUNNER_UP_UID, "shop", "web-1"),
);

function input(overrides: Partial<TerminationEventInput> = {}): TerminationEventInput {
  return {
    pod: { namespace: "shop", name: "db-0", uid: VICTIM_UID },
    swapCurrentBytes: 180 * MiB,
    fullAvg10Percent: 62.5,
    trigger: "swap-io",
    runnerUp,
    action: "Delete",
    dryRun: false,
    nodeName: "node-a",
    ratePagesPerSecond: 2987.4,
    thresholdPagesPerSecond: 1000,
    windowMs: 10_000,
    at: new Date("2026-01-02T15:04:05.123Z"),
    nameSuffix: "00112233aabbccdd",
    ...overrides,
  };
}

async function withStandin(fn: (api: ApiStandin, kube: KubeClient) => Promise<void>) {
  const api = await startApiStandin({
    tls: false,
    token: "t",
    pods: [makePod({ name: "db-0", namespace: "shop", uid: VICTIM_UID, nodeName: "node-a" })],
  });
  const kube = createKubeClient(standinConnection(api, "t"), {
    timeoutMs: API_TIMEOUT_MS,
    allowInsecureHttp: true,
  });
  try {
    await fn(api, kube);
  } finally {
    kube.close();
    await api.close();
  }
}

Deno.test("buildTerminationEvent() fills every field a real API server requires", () => {
  const event = buildTerminationEvent(input());
  assert.equal(event.apiVersion, "events.k8s.io/v1");
  assert.equal(event.kind, "Event");
  assert.deepEqual(event.metadata, { name: "db-0.00112233aabbccdd", namespace: "shop" });
  assert.equal(event.eventTime, "2026-01-02T15:04:05.123000Z");
  assert.match(event.eventTime, MICRO_TIME);
  assert.equal(event.reportingController, "kube-soomkiller");
  assert.equal(event.reportingInstance, "node-a");
  assert.equal(event.action, "Delete");
  assert.equal(event.reason, "SoftOOMKill");
  assert.equal(event.type, "Warning");
  assert.deepEqual(event.regarding, {
    apiVersion: "v1",
    kind: "Pod",
    namespace: "shop",
    name: "db-0",
    uid: VICTIM_UID,
  });
  assert.equal(
    event.note,
    "Deleted: node swap I/O 2987 pages/s above the threshold of 1000 pages/s for 10 s; " +
      "this pod: swap 188743680 bytes (180.0 MiB), memory.pressure full avg10 62.5%; " +
      "runner-up: shop/web-1 (swap 20971520 bytes (20.0 MiB), full avg10 51%)",
  );
});

Deno.test("buildTerminationEvent() in dry-run: reason SoftOOMKillDryRun, type Normal, 'would delete'", () => {
  const event = buildTerminationEvent(input({ dryRun: true, runnerUp: null }));
  assert.equal(event.reason, "SoftOOMKillDryRun");
  assert.equal(event.type, "Normal");
  assert.equal(event.action, "Delete");
  assert.match(event.note, /^Would delete \(dry run, nothing sent\): /);
  assert.match(event.note, /; runner-up: none$/);
});

Deno.test("buildTerminationEvent() shows the pod's own swap I/O where the kernel has it", () => {
  const event = buildTerminationEvent(input({ ownSwapIoPagesPerSecond: 2400.2 }));
  assert.match(event.note, /; this pod: own swap I\/O 2400 pages\/s, swap 188743680 bytes/);
});

Deno.test("buildTerminationEvent() names the trigger and the Evict action", () => {
  const headroom = buildTerminationEvent(input({ trigger: "headroom", action: "Evict" }));
  assert.equal(headroom.action, "Evict");
  assert.match(headroom.note, /^Evicted: a container of this pod is about to fill its swap limit/);
  const swapFree = buildTerminationEvent(input({ trigger: "node-swap-free" }));
  assert.match(swapFree.note, /^Deleted: the node's swap is nearly exhausted \(node swap I\/O/);
});

Deno.test("buildTerminationEvent() keeps the note within 1024 bytes and the name within 253", () => {
  const longName = "p".repeat(253);
  const event = buildTerminationEvent(input({
    pod: { namespace: "shop", name: longName, uid: VICTIM_UID },
    runnerUp: candidate(
      podStats(RUNNER_UP_UID, 1, 1),
      podMeta(RUNNER_UP_UID, "ns", "ü".repeat(600)),
    ),
  }));
  assert.ok(new TextEncoder().encode(event.note).length <= MAX_NOTE_BYTES);
  assert.match(event.note, /\.\.\.$/);
  assert.ok(!event.note.includes("\uFFFD"), "cut on a character boundary");
  assert.equal(event.metadata.name.length, 253);
  assert.match(event.metadata.name, /^p+\.00112233aabbccdd$/);
});

Deno.test("truncateUtf8() cuts on a character boundary and marks the cut", () => {
  assert.equal(truncateUtf8("short", 10), "short");
  assert.equal(truncateUtf8("abcdefghij", 6), "abc...");
  assert.equal(truncateUtf8("ééééé", 8), "éé...");
  assert.equal(truncateUtf8("😀😀😀", 8), "😀...");
});

Deno.test("microTime() writes exactly six fractional digits", () => {
  assert.equal(microTime(new Date("2026-01-02T15:04:05Z")), "2026-01-02T15:04:05.000000Z");
  assert.match(microTime(new Date()), MICRO_TIME);
});

Deno.test("createEvent() posts the Event and the stand-in stores it as a real server would", async () => {
  await withStandin(async (api, kube) => {
    const body = buildTerminationEvent(input({ dryRun: true }));
    const result = await kube.createEvent("shop", body);
    assert.deepEqual(result, { kind: "created", code: 201 });
    const request = api.requests.at(-1)!;
    assert.equal(request.method, "POST");
    assert.equal(request.path, "/apis/events.k8s.io/v1/namespaces/shop/events");
    assert.equal(request.headers["authorization"], "Bearer t");
    assert.equal(request.headers["content-type"], "application/json");
    assert.deepEqual(request.body, body);
    assert.equal(api.events.length, 1);
    const stored = api.events[0]! as unknown as Record<string, unknown>;
    assert.equal(stored.reason, "SoftOOMKillDryRun");
    assert.equal((stored.regarding as { uid: string }).uid, VICTIM_UID);
  });
});

Deno.test("createEvent() returns the Status of a refused Event and names RBAC on 403", async () => {
  await withStandin(async (api, kube) => {
    const bad = { ...buildTerminationEvent(input()), eventTime: "2026-01-02T15:04:05.123Z" };
    const refused = await kube.createEvent("shop", bad);
    assert.equal(refused.kind, "failed");
    assert.equal(refused.code, 400);
    assert.match((refused as { message: string }).message, /six fractional digits/);

    api.inject({ method: "POST" }, { status: 403 });
    const forbidden = await kube.createEvent("shop", buildTerminationEvent(input()));
    assert.equal(forbidden.code, 403);
    assert.match((forbidden as { message: string }).message, /RBAC forbids create events/);
    assert.equal(api.events.length, 0);
  });
});

Deno.test("recordTerminationEvent() sends the runner-up and the evidence; failures are not fatal", async () => {
  await withStandin(async (api, kube) => {
    const clock = new FakeClock();
    const deps = { kube, clock, log: agentLogger("test") };
    const config = { ...DEFAULTS, nodeName: "node-a" };
    const decision = {
      observation: observation(3000, 10_000, 0, "sustained"),
      selection: { ranked: [victim, runnerUp], rejected: [] },
      victim,
      outcome: { kind: "dry-run" } as const,
    };
    assert.equal(await recordTerminationEvent(deps, config, "swap-io", decision), "sent");
    const event = api.events[0]! as unknown as EventV1Body;
    assert.equal(event.reason, "SoftOOMKillDryRun");
    assert.equal(event.type, "Normal");
    assert.equal(event.reportingInstance, "node-a");
    assert.match(event.eventTime, MICRO_TIME);
    assert.equal(event.eventTime, "2026-01-02T15:04:05.123000Z", "from the clock's wall time");
    assert.match(event.note, /runner-up: shop\/web-1/);
    assert.match(event.note, /node swap I\/O 3000 pages\/s above the threshold of 1000/);

    const deleted = { ...decision, outcome: { kind: "deleted", code: 200 } as const };
    assert.equal(await recordTerminationEvent(deps, config, "swap-io", deleted), "sent");
    const second = api.events[1]! as unknown as EventV1Body;
    assert.equal(second.reason, "SoftOOMKill");
    assert.equal(second.type, "Warning");

    api.inject({ method: "POST" }, { status: 500 }, 2);
    assert.equal(await recordTerminationEvent(deps, config, "swap-io", deleted), "failed");
    kube.close();
    assert.equal(await recordTerminationEvent(deps, config, "swap-io", deleted), "failed");
  });
});

Deno.test("recordTerminationEvent() says Evict for an eviction and for a dry run in evict mode", async () => {
  await withStandin(async (api, kube) => {
    const deps = { kube, clock: new FakeClock(), log: agentLogger("test") };
    const decision = {
      observation: observation(3000, 10_000, 0, "sustained"),
      selection: { ranked: [victim, runnerUp], rejected: [] },
      victim,
    };
    const table = [
      ["delete", { kind: "deleted", code: 200 }, "Delete", /^Deleted:/],
      ["delete", { kind: "deleted", code: 200, fallback: true }, "Delete", /^Deleted:/],
      ["evict", { kind: "evicted", code: 201 }, "Evict", /^Evicted:/],
      ["evict", { kind: "dry-run" }, "Evict", /^Would evict \(dry run/],
      ["delete", { kind: "dry-run" }, "Delete", /^Would delete \(dry run/],
    ] as const;
    for (const [mode, outcome, action, note] of table) {
      const config = { ...DEFAULTS, nodeName: "node-a", terminationMode: mode };
      await recordTerminationEvent(deps, config, "swap-io", { ...decision, outcome });
      const event = api.events.at(-1)! as unknown as EventV1Body;
      assert.equal(event.action, action, `${mode} ${outcome.kind}`);
      assert.match(event.note, note, `${mode} ${outcome.kind}`);
    }
  });
});

Deno.test("recordTerminationEvent() names the Event with the randomness it is given", async () => {
  await withStandin(async (api, kube) => {
    const bytes = new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0x03]);
    const deps = {
      kube,
      clock: new FakeClock(),
      log: agentLogger("test"),
      randomBytes: (length: number) => bytes.slice(0, length),
    };
    const decision = {
      observation: observation(3000, 10_000, 0, "sustained"),
      selection: { ranked: [victim], rejected: [] },
      victim,
      outcome: { kind: "deleted", code: 200 } as const,
    };
    const config = { ...DEFAULTS, nodeName: "node-a" };
    assert.equal(await recordTerminationEvent(deps, config, "swap-io", decision), "sent");
    const event = api.events[0]! as unknown as EventV1Body;
    assert.equal(event.metadata.name, `${victim.pod!.name}.deadbeef00010203`);
  });
});
