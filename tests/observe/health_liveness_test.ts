/**
 * Liveness is "the loop is alive" (issue 12, item 10): a tick waiting on a hung API server
 * (every call bounded by its timeout) is not a stalled loop; a loop that stops ticking is.
 */
import assert from "node:assert/strict";
import type { KubeApi } from "../../src/act/kube_client.ts";
import { Agent } from "../../src/agent.ts";
import { API_TIMEOUT_MS, DEFAULTS } from "../../src/config.ts";
import { Health, TICK_IN_PROGRESS_ALLOWANCE_MS } from "../../src/observe/health.ts";
import { agentLogger } from "../../src/observe/log.ts";
import { Observability } from "../../src/observe/observability.ts";
import type { NodeSensor } from "../../src/sense/node_sensor.ts";
import { FakeClock } from "../fakes/fake_clock.ts";

Deno.test("Health: a tick in progress may wait on the API for several timeouts; between ticks 3 polls", () => {
  const clock = new FakeClock();
  const health = new Health(clock, 1_000);
  health.tickStarted();
  clock.advance(3 * API_TIMEOUT_MS);
  assert.equal(health.liveness().ok, true, health.liveness().detail);
  clock.advance(3_000 + TICK_IN_PROGRESS_ALLOWANCE_MS - 3 * API_TIMEOUT_MS + 1);
  assert.equal(health.liveness().ok, false);
  assert.match(health.liveness().detail, /a tick in progress/);
  health.tickDone(true);
  assert.equal(health.liveness().ok, true);
  clock.advance(3_001);
  assert.equal(health.liveness().ok, false, "a loop that stops ticking is stalled");
});

Deno.test("the agent's loop waiting on a hanging LIST stays live for /healthz", async () => {
  const clock = new FakeClock();
  const config = { ...DEFAULTS, nodeName: "node-a", pollIntervalMs: 1_000, reportIntervalMs: 0 };
  const observability = new Observability(config, {
    clock,
    log: agentLogger("test"),
    version: "0",
  });
  let listCalled!: () => void;
  const listing = new Promise<void>((resolve) => (listCalled = resolve));
  const pod = {
    uid: "00000000-0000-0000-0000-000000000001",
    cgroupPath: "/cg/pod1",
    qosClass: "burstable" as const,
    swapCurrentBytes: 98 << 20,
    memoryCurrentBytes: 64 << 20,
    memoryMaxBytes: 64 << 20,
    fullAvg10Percent: 0,
    someAvg10Percent: 0,
    oomKillCount: 0,
    containers: [{
      id: "c".repeat(64),
      swapCurrentBytes: 98 << 20,
      swapMaxBytes: 100 << 20,
      memoryCurrentBytes: 64 << 20,
      memoryMaxBytes: 64 << 20,
    }],
  };
  const sensor: NodeSensor = {
    readSwapIo: () => Promise.resolve({ swapInPages: 0, swapOutPages: 0, oomKills: 0 }),
    readMeminfo: () =>
      Promise.resolve({
        memTotalBytes: 1 << 30,
        memAvailableBytes: 1 << 29,
        swapTotalBytes: 1 << 30,
        swapFreeBytes: 1 << 29,
      }),
    scanPods: () => Promise.resolve({ pods: [pod], errors: [] }),
    recheckSwapBytes: () => Promise.resolve(pod.swapCurrentBytes),
  };
  const release: (() => void)[] = [];
  const kube: KubeApi = {
    // A hung API server: the LIST of the headroom trigger never answers (until released).
    listNodePods: () => {
      listCalled();
      return new Promise((_, reject) => release.push(() => reject(new Error("released"))));
    },
    deletePod: () => Promise.reject(new Error("unused")),
    evictPod: () => Promise.reject(new Error("unused")),
    createEvent: () => Promise.reject(new Error("unused")),
  };
  const agent = new Agent(config, {
    sensor,
    clock,
    kube,
    log: agentLogger("test"),
    onTick: observability.onTick,
    onTickStart: observability.onTickStart,
  });
  const stop = new AbortController();
  const running = agent.run(stop.signal);
  await listing;
  clock.advance(15_000);
  const live = observability.health.liveness();
  assert.equal(live.ok, true, live.detail);
  stop.abort();
  for (const r of release) r();
  await running;
});
