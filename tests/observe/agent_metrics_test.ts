import assert from "node:assert/strict";
import type { Outcome } from "../../src/act/outcome.ts";
import { DEFAULTS } from "../../src/config.ts";
import { AgentMetrics, NO_RESPONSE_CODE } from "../../src/observe/agent_metrics.ts";
import { actedTick, candidate, observation, podMeta, podStats } from "./helpers.ts";
import { promtoolStep } from "./promtool.ts";
import { PROMTOOL, tool } from "../tools.ts";

const promtool = tool(PROMTOOL);

const CONFIG = { ...DEFAULTS, swapIoThresholdPagesPerSecond: 1000, dryRun: false };
const MiB = 1 << 20;

function sample(metrics: AgentMetrics, name: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of metrics.registry.render().split("\n")) {
    if (line.startsWith("#") || line === "") continue;
    const [series, value] = line.split(" ") as [string, string];
    if (series === name || series.startsWith(`${name}{`)) {
      values.set(series.slice(name.length), Number(value));
    }
  }
  return values;
}

Deno.test("AgentMetrics starts with build info, threshold and zeroed counters, before any tick", async (t) => {
  const metrics = new AgentMetrics(CONFIG, "1.2.3");
  assert.deepEqual(sample(metrics, "soomkiller_build_info"), new Map([['{version="1.2.3"}', 1]]));
  assert.equal(metrics.swapIoThreshold.get(), 1000);
  assert.equal(metrics.dryRun.get(), 0);
  assert.equal(metrics.triggerWindow.get(), 0);
  assert.equal(metrics.cooldownRemaining.get(), 0);
  assert.equal(metrics.candidates.get(), 0);
  assert.equal(metrics.swapIoRate.get(), undefined, "no rate before the second sample");
  assert.deepEqual(sample(metrics, "soomkiller_kernel_oom_kills_total"), new Map([["", 0]]));
  assert.deepEqual(
    sample(metrics, "soomkiller_terminations_total"),
    new Map([
      ['{mode="delete",result="success"}', 0],
      ['{mode="delete",result="failed"}', 0],
      ['{mode="delete",result="skipped"}', 0],
    ]),
  );
  await promtoolStep(t, promtool, metrics.registry.render());
});

Deno.test("AgentMetrics follows a sequence of ticks: rate, window, cooldown, candidates, terminations", () => {
  const metrics = new AgentMetrics(CONFIG, "0.1.0");
  const db = candidate(podStats("u1", 180 * MiB, 62), podMeta("u1", "shop", "db-0"));
  const web = candidate(podStats("u2", 20 * MiB, 55), podMeta("u2", "shop", "web-1"));

  metrics.tick({ observation: observation(null) }, 0.4, 0);
  assert.equal(metrics.swapIoRate.get(), undefined);

  metrics.tick({ observation: observation(2500, 4000) }, 0.3, 1000);
  assert.equal(metrics.swapIoRate.get(), 2500);
  assert.equal(metrics.triggerWindow.get(), 4);

  metrics.tick(
    actedTick(observation(3000, 10_000, 0, "sustained"), [db, web], {
      kind: "deleted",
      code: 200,
    }, { event: "sent" }),
    42,
    2000,
  );
  assert.equal(metrics.swapIoRate.get(), 3000);
  // The observation predates the action, which closed the window and started the cooldown.
  assert.equal(metrics.triggerWindow.get(), 0);
  assert.equal(metrics.cooldownRemaining.get(), 30);
  assert.equal(metrics.candidates.get(), 2);
  assert.equal(metrics.terminations.get({ mode: "delete", result: "success" }), 1);
  assert.equal(metrics.events.get({ result: "success" }), 1);

  metrics.tick({ observation: observation(2800, 0, 29_000) }, 0.2, 3000);
  assert.equal(metrics.triggerWindow.get(), 0);
  assert.equal(metrics.cooldownRemaining.get(), 29);
  assert.equal(metrics.candidates.get(), 2, "candidates keep the last scan's count");

  // Other outcomes: re-check skip, 404, 409, failure, eviction blocked by a PDB.
  const outcomes = [
    { kind: "skipped", why: "its swap dropped to 0 bytes" },
    { kind: "gone" },
    { kind: "conflict", message: "uid changed" },
    { kind: "failed", code: 500, message: "boom" },
    { kind: "blocked", message: "PDB" },
    { kind: "evicted", code: 201 },
  ] as const;
  for (const outcome of outcomes) {
    // "blocked" and "evicted" are outcomes of the Eviction work, not yet in the Outcome type.
    metrics.tick(
      actedTick(observation(3000, 10_000, 0, "sustained"), [db], outcome as unknown as Outcome),
      5,
      4000,
    );
  }
  assert.equal(metrics.terminations.get({ mode: "delete", result: "skipped" }), 3);
  assert.equal(metrics.terminations.get({ mode: "delete", result: "failed" }), 1);
  assert.equal(metrics.terminations.get({ mode: "evict", result: "blocked" }), 1);
  assert.equal(metrics.terminations.get({ mode: "evict", result: "success" }), 1);

  metrics.tick({ observation: null }, 0.1, 5000);
  assert.equal(metrics.swapSampleErrors.get(), 1);
  assert.equal(metrics.swapIoRate.get(), 3000, "the last measured rate stays");
});

Deno.test("AgentMetrics counts dry-run decisions under mode dry_run", () => {
  const metrics = new AgentMetrics({ ...CONFIG, dryRun: true }, "0.1.0");
  const db = candidate(podStats("u1", MiB, 60), podMeta("u1", "shop", "db-0"));
  metrics.tick(
    actedTick(observation(3000, 10_000, 0, "sustained"), [db], { kind: "dry-run" }, {
      event: "failed",
    }),
    3,
    0,
  );
  assert.equal(metrics.dryRun.get(), 1);
  assert.equal(metrics.terminations.get({ mode: "dry_run", result: "success" }), 1);
  assert.equal(metrics.events.get({ result: "failed" }), 1);
});

Deno.test("AgentMetrics fills the tick duration histogram in seconds", () => {
  const metrics = new AgentMetrics(CONFIG, "0.1.0");
  for (const ms of [0.2, 0.8, 3, 40, 1200, 45_000]) {
    metrics.tick({ observation: observation(0) }, ms, 0);
  }
  const histogram = metrics.tickDuration.get()!;
  const bounds = metrics.tickDuration.bounds;
  const cumulativeAt = (bound: number) => histogram.cumulative[bounds.indexOf(bound)];
  assert.equal(cumulativeAt(0.0005), 1);
  assert.equal(cumulativeAt(0.001), 2);
  assert.equal(cumulativeAt(0.005), 3);
  assert.equal(cumulativeAt(0.05), 4);
  assert.equal(cumulativeAt(2.5), 5);
  assert.equal(cumulativeAt(30), 5);
  assert.equal(histogram.cumulative.at(-1), 6, "+Inf holds every observation");
  assert.equal(histogram.count, 6);
  assert.ok(Math.abs(histogram.sum - 46.244) < 1e-9);
});

Deno.test("AgentMetrics counts API requests by verb and code, <error> for no response", () => {
  const metrics = new AgentMetrics(CONFIG, "0.1.0");
  metrics.apiRequest("GET", 200);
  metrics.apiRequest("GET", 200);
  metrics.apiRequest("DELETE", 409);
  metrics.apiRequest("POST", null);
  assert.deepEqual(
    sample(metrics, "soomkiller_api_requests_total"),
    new Map([
      ['{verb="GET",code="200"}', 2],
      ['{verb="DELETE",code="409"}', 1],
      [`{verb="POST",code="${NO_RESPONSE_CODE}"}`, 1],
    ]),
  );
});

Deno.test("AgentMetrics pod gauges: named pods of the latest scan only, dropped when stale", () => {
  const metrics = new AgentMetrics(CONFIG, "0.1.0");
  const dbStats = podStats("u1", 180 * MiB, 62);
  const webStats = podStats("u2", 20 * MiB, 41);
  const anonymous = podStats("u3", 5 * MiB, 70);
  // A scan that listed pods: db-0 and web-1 get names; u3 is unknown to the API.
  metrics.tick(
    {
      observation: observation(3000, 10_000, 0, "sustained"),
      pods: [dbStats, webStats, anonymous, podStats("u4", 0, 0)],
      selection: {
        ranked: [candidate(dbStats, podMeta("u1", "shop", "db-0"))],
        rejected: [
          {
            candidate: candidate(webStats, podMeta("u2", "shop", "web-1")),
            reason: "below psi threshold",
          },
          { candidate: candidate(anonymous), reason: "unknown to the API" },
        ],
      },
    },
    10,
    0,
  );
  assert.deepEqual(
    sample(metrics, "soomkiller_pod_swap_bytes"),
    new Map([['{namespace="shop",pod="db-0"}', 180 * MiB], [
      '{namespace="shop",pod="web-1"}',
      20 * MiB,
    ]]),
  );
  // A ratio 0-1 (issue 21): the kernel's 41 percent.
  assert.equal(metrics.podFullAvg10.get({ namespace: "shop", pod: "web-1" }), 0.41);

  // A later scan without a LIST: names are remembered; db-0 is gone from the scan.
  metrics.tick(
    {
      observation: observation(500),
      pods: [podStats("u2", 30 * MiB, 12)],
    },
    1,
    1000,
  );
  assert.deepEqual(
    sample(metrics, "soomkiller_pod_swap_bytes"),
    new Map([['{namespace="shop",pod="web-1"}', 30 * MiB]]),
  );
  assert.equal(metrics.candidates.get(), 0, "cgroup-only candidates: none at or above 50%");

  // Ticks without a scan leave the series, until no scan happened for 5 minutes.
  metrics.tick({ observation: observation(0) }, 1, 200_000);
  assert.equal(metrics.podSwap.size, 1);
  metrics.tick({ observation: observation(0) }, 1, 1000 + 5 * 60_000 + 1);
  assert.equal(metrics.podSwap.size, 0);
  assert.equal(metrics.podFullAvg10.size, 0);
});

Deno.test("kernelOomKills can be incremented from outside and renders as a counter", () => {
  const metrics = new AgentMetrics(CONFIG, "0.1.0");
  metrics.kernelOomKills.inc();
  metrics.kernelOomKills.inc(undefined, 2);
  assert.deepEqual(sample(metrics, "soomkiller_kernel_oom_kills_total"), new Map([["", 3]]));
});

Deno.test("AgentMetrics counts the kernel OOM kills a tick reports", () => {
  const metrics = new AgentMetrics({ ...DEFAULTS, nodeName: "n" } as never, "0.1.0");
  const pod = {
    uid: "u",
    cgroupPath: "/cg",
    qosClass: "burstable" as const,
    swapCurrentBytes: 0,
    memoryCurrentBytes: 0,
    memoryMaxBytes: null,
    fullAvg10Percent: 0,
    someAvg10Percent: 0,
    oomKillCount: 2,
    containers: [],
  };
  metrics.tick({ observation: null, kernelOomKills: [{ pod, newKills: 2 }] }, 1, 0);
  assert.match(metrics.registry.render(), /^soomkiller_kernel_oom_kills_total 2$/m);
});

Deno.test("AgentMetrics in evict mode starts the blocked series and the fallback counter at 0, and counts each attempt", async (t) => {
  const metrics = new AgentMetrics({ ...CONFIG, terminationMode: "evict" }, "0.1.0");
  assert.deepEqual(
    sample(metrics, "soomkiller_terminations_total"),
    new Map([
      ['{mode="evict",result="success"}', 0],
      ['{mode="evict",result="blocked"}', 0],
      ['{mode="evict",result="failed"}', 0],
      ['{mode="evict",result="skipped"}', 0],
    ]),
  );
  assert.deepEqual(sample(metrics, "soomkiller_evict_fallbacks_total"), new Map([["", 0]]));
  const db = candidate(podStats("u1", 180 * MiB, 62), podMeta("u1", "shop", "db-0"));
  const web = candidate(podStats("u2", 20 * MiB, 55), podMeta("u2", "shop", "web-1"));
  const blocked = { kind: "blocked", code: 429, message: "PDB" } as const;
  metrics.tick(
    actedTick(observation(3000, 10_000, 0, "sustained"), [db, web], blocked, {
      attempts: [{ victim: db, outcome: blocked }],
    }),
    1,
    0,
  );
  metrics.tick(
    actedTick(observation(3000, 70_000, 0, "sustained"), [db, web], {
      kind: "deleted",
      code: 200,
      fallback: true,
    }),
    1,
    1000,
  );
  const terminations = sample(metrics, "soomkiller_terminations_total");
  assert.equal(terminations.get('{mode="evict",result="blocked"}'), 2);
  assert.equal(terminations.get('{mode="delete",result="success"}'), 1);
  assert.deepEqual(sample(metrics, "soomkiller_evict_fallbacks_total"), new Map([["", 1]]));
  await promtoolStep(t, promtool, metrics.registry.render());
});
