/**
 * Issue 21 through the real Agent, a fake node and the HTTP API stand-in: the early
 * warning (an Event on a pod heading for its swap limit, once per episode, dry-run or
 * armed, in scope or not) and the opt-in scope (`--pod-selector`, `--namespaces`): pods
 * outside it are never chosen, and the decision line says so.
 */
import { TEST_NODE } from "./fakes/agent_config.ts";
import assert from "node:assert/strict";
import type { TickReport } from "../src/agent.ts";
import type { Config } from "../src/config.ts";
import { parseLabelSelector } from "../src/decide/label_selector.ts";
import { AgentMetrics } from "../src/observe/agent_metrics.ts";
import type { ContainerStats, PodStats } from "../src/sense/pod_stats.ts";
import { startAgentHarness } from "./fakes/agent_harness.ts";
import { makePod, type PodSpecLite } from "./fakes/api_standin.ts";
import { fakeContainerId, fakePodUid } from "./fakes/cgroup_tree.ts";
import { podStats } from "./fakes/pod_records.ts";

const MiB = 1 << 20;
const GiB = 1 << 30;

/** A pod cgroup with one container at memory.max, `swapMiB` of a 512 MiB swap limit. */
function stats(n: number, swapMiB: number, full = 0): PodStats {
  const container: ContainerStats = {
    id: fakeContainerId(n),
    swapCurrentBytes: swapMiB * MiB,
    swapMaxBytes: 512 * MiB,
    memoryCurrentBytes: 64 * MiB,
    memoryMaxBytes: 64 * MiB,
  };
  return podStats(fakePodUid(n), swapMiB * MiB, full, { containers: [container] });
}

type Pod = Omit<PodSpecLite, "nodeName" | "uid">;

async function setup(pods: readonly Pod[], config: Partial<Config>) {
  const h = await startAgentHarness(
    pods.map((pod, i) =>
      makePod({
        ...pod,
        uid: fakePodUid(i + 1),
        nodeName: TEST_NODE,
        containerIds: { [pod.name.replace(/-\d+$/, "")]: fakeContainerId(i + 1) },
      })
    ),
    config,
    { swapTotalBytes: 4 * GiB, swapOutPages: 7 },
  );
  const metrics = new AgentMetrics(h.config, "test");
  return {
    node: h.node,
    api: h.api,
    log: h.log,
    metrics,
    async tick(): Promise<TickReport> {
      const report = await h.agent.tick();
      metrics.tick(report, 1, h.clock.monotonicMs());
      h.clock.advance(h.config.pollIntervalMs);
      return report;
    },
    destructive: () =>
      h.api.requests.filter((r) => r.method === "DELETE" || r.path.endsWith("/eviction"))
        .map((r) => `${r.method} ${r.path}`),
    [Symbol.asyncDispose]: () => h[Symbol.asyncDispose](),
  };
}

const DB: Pod = { name: "mariadb-0", namespace: "shop", labels: { app: "mariadb" } };
const WEB: Pod = { name: "web-0", namespace: "shop", labels: { app: "web", tier: "front" } };

for (const dryRun of [true, false]) {
  Deno.test(`early warning (${dryRun ? "dry-run" : "armed"}): one SoftOOMKillLikely Event per episode, minutes before the action, with the figures`, async () => {
    await using h = await setup([DB, WEB], { dryRun, headroomTrigger: true });
    // mariadb-0 grows 2 MiB/s from 100 MiB toward its 512 MiB limit: ~200 s left, within
    // the 5 minute look-ahead, far from the 40 s (grace period + margin) of the action.
    let warnedAt: number | null = null;
    for (let tick = 0; tick < 40; tick++) {
      h.node.pods = [stats(1, 100 + 2 * tick), stats(2, 5)];
      const report = await h.tick();
      if (report.earlyWarnings && warnedAt === null) warnedAt = tick;
    }
    assert.ok(warnedAt !== null && warnedAt <= 10, `warned at tick ${warnedAt}`);
    const warnings = h.api.events.filter((e) => e.reason === "SoftOOMKillLikely");
    assert.equal(warnings.length, 1, "once per pod and episode");
    const event = warnings[0]!;
    assert.equal(event.type, "Warning");
    assert.equal(event.reportingController, "kube-soomkiller");
    assert.deepEqual(
      { ...event.regarding, resourceVersion: undefined },
      {
        apiVersion: "v1",
        kind: "Pod",
        namespace: "shop",
        name: "mariadb-0",
        uid: fakePodUid(1),
        resourceVersion: undefined,
      },
    );
    assert.match(
      event.note!,
      /^Container mariadb is projected to reach its swap limit in \d+ s \(look-ahead 300 s\): swap \d+\.\d MiB of 512\.0 MiB \(\d+%, limit from memory\.swap\.max\), growing 2\.0 MiB\/s\./,
    );
    assert.match(
      event.note!,
      dryRun ? /runs in dry-run: it will only log what it would do/ : /deletes the pod once/,
    );
    assert.deepEqual(h.destructive(), [], "a warning, not an action");
    const line = h.log.matching(/^Early warning: container "mariadb" of "shop\/mariadb-0"/);
    assert.equal(line.length, 1);
    assert.equal(line[0]!.properties.case, "growing");
    // The per-container series, named from the same LIST.
    const text = h.metrics.registry.render();
    assert.match(
      text,
      /^soomkiller_container_swap_time_to_limit_seconds\{namespace="shop",pod="mariadb-0",container="mariadb"\} \d/m,
    );
    assert.match(text, /^soomkiller_early_warnings_total\{result="success"\} 1$/m);
    assert.match(text, /^soomkiller_node_swap_io_pages_total\{direction="out"\} 7$/m);
  });
}

Deno.test("early warning: a pod outside --pod-selector is still warned (the note says the agent will not act), and --early-warning-lookahead=0 turns it off", async () => {
  const selector = parseLabelSelector("app in (web)");
  assert.ok(typeof selector !== "string");
  {
    await using h = await setup([DB, WEB], { podSelector: selector, headroomTrigger: true });
    for (let tick = 0; tick < 20; tick++) {
      h.node.pods = [stats(1, 100 + 2 * tick), stats(2, 5)];
      await h.tick();
    }
    const warnings = h.api.events.filter((e) => e.reason === "SoftOOMKillLikely");
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0]!.note!,
      /kube-soomkiller will not act on this pod \(outside --pod-selector\): at the limit the kernel OOM-kills the container/,
    );
  }
  {
    await using h = await setup([DB, WEB], { earlyWarningLookaheadMs: 0, headroomTrigger: true });
    for (let tick = 0; tick < 20; tick++) {
      h.node.pods = [stats(1, 100 + 2 * tick), stats(2, 5)];
      await h.tick();
    }
    assert.deepEqual(h.api.events, []);
    assert.equal(h.api.requests.filter((r) => r.method === "POST").length, 0);
  }
});

Deno.test("the opt-in scope: a pod outside --pod-selector or --namespaces is never chosen, and the decision line says so", async () => {
  const table: { what: string; config: Partial<Config>; reason: string }[] = [
    {
      what: "set-based selector",
      config: { podSelector: parseLabelSelector("app notin (mariadb),tier") as never },
      reason: "outside --pod-selector",
    },
    {
      what: "equality selector",
      config: { podSelector: parseLabelSelector("app!=mariadb") as never },
      reason: "outside --pod-selector",
    },
    {
      what: "--namespaces",
      config: { scopeNamespaces: ["web"] },
      reason: "outside --namespaces",
    },
  ];
  for (const { what, config, reason } of table) {
    const web = { ...WEB, namespace: config.scopeNamespaces ? "web" : "shop" };
    await using h = await setup([DB, web], config);
    // The swap-io trigger: mariadb-0 has the higher PSI and would be chosen first.
    h.node.swapIoPagesPerSecond = 5_000;
    h.node.pods = [stats(1, 180, 90), stats(2, 20, 60)];
    for (let tick = 0; tick < 4; tick++) await h.tick();
    assert.deepEqual(
      h.destructive(),
      [`DELETE /api/v1/namespaces/${web.namespace}/pods/web-0`],
      what,
    );
    const line = h.log.matching(/^Sustained swap I\/O .*"delete" ".*web-0" → "deleted"/);
    assert.equal(line.length, 1, what);
    assert.deepEqual(line[0]!.properties.passedOver, [`shop/mariadb-0 (${reason})`], what);
  }
});

Deno.test("the opt-in scope: with every pod outside it, nothing is deleted", async () => {
  await using h = await setup([DB, WEB], {
    podSelector: parseLabelSelector("app=queue") as never,
  });
  h.node.swapIoPagesPerSecond = 5_000;
  h.node.pods = [stats(1, 180, 90), stats(2, 20, 60)];
  for (let tick = 0; tick < 8; tick++) await h.tick();
  assert.deepEqual(h.destructive(), []);
});
