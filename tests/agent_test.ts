/**
 * The loop as a whole: who may never be chosen (for every trigger), delete and evict
 * modes with the fallback deadline, kill-once bookkeeping, and hostile input — from the
 * host files, the clock and the API — each driven through the real Agent with a fake
 * clock and the HTTP API stand-in.
 */
import { AGENT_TEST_CONFIG, TEST_NODE } from "./fakes/agent_config.ts";
import assert from "node:assert/strict";
import {
  createKubeClient,
  type KubeClient,
  type KubeClientOptions,
  type KubeConnection,
} from "../src/act/kube_client.ts";
import { denoConnectionDeps, fileTokenSource, staticTokenSource } from "../src/act/token_source.ts";
import { Agent, type TickReport } from "../src/agent.ts";
import { API_TIMEOUT_MS, type Config } from "../src/config.ts";
import { EXCLUDE_ANNOTATION } from "../src/decide/select.ts";
import { AgentMetrics } from "../src/observe/agent_metrics.ts";
import { denoHostFs } from "../src/sense/host_fs.ts";
import type { Meminfo } from "../src/sense/meminfo.ts";
import { hostSensor, type NodeSensor } from "../src/sense/node_sensor.ts";
import type { PodScan, PodScanError } from "../src/sense/pod_scan.ts";
import type { ContainerStats, PodStats } from "../src/sense/pod_stats.ts";
import {
  type ApiStandin,
  type ApiStandinOptions,
  makePod,
  makeUnrelatedCaPem,
  nodeOwner,
  type PodSpecLite,
  type RecordedRequest,
  standinConnection,
  startApiStandin,
  statusBody,
} from "./fakes/api_standin.ts";
import { CgroupTree, fakeContainerId, fakePodUid } from "./fakes/cgroup_tree.ts";
import { FakeClock } from "./fakes/fake_clock.ts";
import { writeProc } from "./fakes/proc_tree.ts";
import { RecordingLog } from "./fakes/recording_log.ts";

const NODE = TEST_NODE;
const MiB = 1 << 20;
const GiB = 1 << 30;
const HOUR_MS = 3_600_000;

const CONFIG: Config = AGENT_TEST_CONFIG;

/** Ticks until the swap-io window is full under steady pressure. */
const TICKS_TO_SUSTAIN = 4;

/** A pod as the API knows it, with what its cgroup shows (no `swapMiB`: no cgroup). */
interface TestPod extends Omit<PodSpecLite, "nodeName"> {
  readonly swapMiB?: number;
  readonly fullAvg10Percent?: number;
  /** The UID in the cgroup path when it differs from the API's (a static pod). */
  readonly cgroupUid?: string;
  /** Containers of the cgroup (headroom tests). */
  readonly containers?: readonly ContainerStats[];
}

function podStats(pod: TestPod): PodStats {
  const uid = pod.cgroupUid ?? pod.uid;
  return {
    uid,
    cgroupPath: `/cg/pod${uid}`,
    qosClass: "burstable",
    swapCurrentBytes: (pod.swapMiB ?? 0) * MiB,
    memoryCurrentBytes: 64 * MiB,
    memoryMaxBytes: 64 * MiB,
    fullAvg10Percent: pod.fullAvg10Percent ?? 0,
    someAvg10Percent: pod.fullAvg10Percent ?? 0,
    oomKillCount: 0,
    containers: pod.containers ?? [],
  };
}

/**
 * A node in memory: swap counters that grow at `ratePagesPerSecond` of fake-clock time,
 * node memory, pod cgroups and faults to switch on.
 */
class FakeNode implements NodeSensor {
  ratePagesPerSecond = 0;
  meminfo: Meminfo = {
    memTotalBytes: 8 * GiB,
    memAvailableBytes: 4 * GiB,
    swapTotalBytes: 2 * GiB,
    swapFreeBytes: GiB,
  };
  pods: PodStats[] = [];
  scanErrors: PodScanError[] = [];
  /** Thrown by readSwapIo (vmstat unreadable). */
  vmstatError: Error | null = null;
  /** Thrown by scanPods, which must never throw: the loop's last line of defence. */
  scanCrash: Error | null = null;
  /** Moves the node's swap in use by 2 MiB each read, so that every tick scans the pods. */
  churnSwap = false;
  /** vmstat `oom_kill`; null: a kernel without it. */
  oomKills: number | null = 0;
  #pages = 1_000_000;
  #lastMs: number | null = null;
  #reads = 0;

  constructor(readonly clock: FakeClock) {}

  readSwapIo() {
    if (this.vmstatError) return Promise.reject(this.vmstatError);
    const nowMs = this.clock.monotonicMs();
    if (this.#lastMs !== null) {
      this.#pages += this.ratePagesPerSecond * (nowMs - this.#lastMs) / 1000;
    }
    this.#lastMs = nowMs;
    return Promise.resolve({
      swapInPages: Math.round(this.#pages),
      swapOutPages: 0,
      oomKills: this.oomKills,
    });
  }

  readMeminfo() {
    const churn = this.churnSwap ? (this.#reads++ % 2) * 2 * MiB : 0;
    return Promise.resolve({ ...this.meminfo, swapFreeBytes: this.meminfo.swapFreeBytes - churn });
  }

  scanPods(): Promise<PodScan> {
    if (this.scanCrash) return Promise.reject(this.scanCrash);
    return Promise.resolve({ pods: [...this.pods], errors: [...this.scanErrors] });
  }

  recheckSwapBytes(cgroupPath: string) {
    const pod = this.pods.find((p) => p.cgroupPath === cgroupPath);
    return Promise.resolve(pod ? pod.swapCurrentBytes : "gone" as const);
  }
}

interface SetupOptions {
  readonly pods: readonly TestPod[];
  readonly config?: Partial<Config>;
  readonly standin?: ApiStandinOptions;
  readonly connection?: (api: ApiStandin) => Partial<KubeConnection>;
  readonly client?: KubeClientOptions;
}

/** A fake node, the stand-in holding its pods, a client, and an Agent on a fake clock. */
async function setup(options: SetupOptions) {
  const clock = new FakeClock(0);
  const node = new FakeNode(clock);
  node.pods = options.pods.filter((pod) => pod.swapMiB !== undefined).map(podStats);
  const api = await startApiStandin({
    tls: false,
    pods: options.pods.map(({ swapMiB: _s, fullAvg10Percent: _f, cgroupUid: _c, ...pod }) =>
      makePod({ ...pod, nodeName: NODE })
    ),
    ...options.standin,
  });
  const token = options.standin?.token;
  const kube: KubeClient = createKubeClient({
    server: api.url,
    caPem: api.caPem,
    insecureSkipTlsVerify: false,
    clientCertPem: null,
    clientKeyPem: null,
    token: token ? staticTokenSource(token) : null,
    ...options.connection?.(api),
  }, { timeoutMs: 2_000, allowInsecureHttp: true, ...options.client });
  const log = new RecordingLog();
  const config: Config = { ...CONFIG, ...options.config };
  const agent = new Agent(config, { sensor: node, clock, kube, log: log.logger });
  const reports: TickReport[] = [];
  return {
    clock,
    node,
    api,
    kube,
    log,
    agent,
    config,
    reports,
    /** One tick, then one poll interval of fake time. */
    async tick(): Promise<TickReport> {
      const report = await agent.tick();
      reports.push(report);
      clock.advance(config.pollIntervalMs);
      return report;
    },
    async ticks(n: number): Promise<TickReport[]> {
      const out: TickReport[] = [];
      for (let i = 0; i < n; i++) out.push(await this.tick());
      return out;
    },
    /** DELETEs and eviction POSTs, as `METHOD namespace/name`. */
    destructive(): string[] {
      return api.requests.filter(isDestructive).map(describeRequest);
    },
    async [Symbol.asyncDispose]() {
      kube.close();
      await api.close();
    },
  };
}

function isDestructive(request: RecordedRequest): boolean {
  return request.method === "DELETE" || request.path.endsWith("/eviction");
}

function describeRequest(request: RecordedRequest): string {
  const match = /namespaces\/([^/]+)\/pods\/([^/]+)(\/eviction)?$/.exec(request.path);
  const verb = match?.[3] ? "EVICT" : request.method;
  return `${verb} ${match?.[1]}/${match?.[2]}`;
}

function outcomes(reports: readonly TickReport[]): (string | null)[] {
  return reports.map((report) => report.outcome?.kind ?? null);
}

/** The two pods most tests use: db-0 is the worst, web-0 the runner-up. */
const DB: TestPod = { name: "db-0", uid: fakePodUid(1), swapMiB: 180, fullAvg10Percent: 90 };
const WEB: TestPod = { name: "web-0", uid: fakePodUid(2), swapMiB: 20, fullAvg10Percent: 60 };

const STATIC_UID = "0123456789abcdef0123456789abcdef";

// ---- who may never be chosen ----

Deno.test("the agent never chooses an excluded pod: it takes the next one and logs who was passed over and why", async () => {
  const table: { what: string; top: TestPod; config?: Partial<Config>; reason: string }[] = [
    {
      what: "kube-system (default protected namespace)",
      top: { ...DB, namespace: "kube-system" },
      reason: "protected namespace",
    },
    {
      what: "a namespace added with --protected-namespaces",
      top: { ...DB, namespace: "monitoring" },
      config: { protectedNamespaces: ["kube-system", "monitoring"] },
      reason: "protected namespace",
    },
    {
      what: 'annotation kube-soomkiller.io/exclude: "true"',
      top: { ...DB, annotations: { [EXCLUDE_ANNOTATION]: "true" } },
      reason: "excluded by annotation",
    },
    {
      what: "system-node-critical priority",
      top: { ...DB, priority: 2_000_001_000 },
      reason: "protected priority",
    },
    {
      what: "priority at --protected-priority",
      top: { ...DB, priority: 1_000 },
      config: { protectedPriority: 1_000 },
      reason: "protected priority",
    },
    {
      what: "the agent's own pod by POD_UID",
      top: { ...DB, namespace: "kube-soomkiller", name: "kube-soomkiller-x7k2p" },
      config: { ownPod: { uid: DB.uid, namespace: null, name: null } },
      reason: "own pod",
    },
    {
      what: "the agent's own pod by POD_NAMESPACE and POD_NAME",
      top: { ...DB, namespace: "kube-soomkiller", name: "kube-soomkiller-x7k2p" },
      config: {
        ownPod: { uid: null, namespace: "kube-soomkiller", name: "kube-soomkiller-x7k2p" },
      },
      reason: "own pod",
    },
    {
      what: "a mirror pod (its static pod's cgroup has another UID)",
      top: {
        ...DB,
        name: "etcd-node-a",
        namespace: "default",
        cgroupUid: STATIC_UID,
        annotations: { "kubernetes.io/config.mirror": STATIC_UID },
        ownerReferences: [nodeOwner(NODE)],
      },
      reason: "mirror pod of a static pod",
    },
    {
      what: "a terminating pod",
      top: { ...DB, deletionTimestamp: new Date() },
      reason: "terminating",
    },
  ];
  for (const { what, top, config, reason } of table) {
    await using h = await setup({ pods: [top, WEB], config });
    h.node.ratePagesPerSecond = 5_000;
    const reports = await h.ticks(TICKS_TO_SUSTAIN);
    const acted = reports[TICKS_TO_SUSTAIN - 1]!;
    assert.deepEqual(h.destructive(), ["DELETE default/web-0"], what);
    assert.equal(acted.outcome?.kind, "deleted", what);
    const name = `${top.namespace ?? "default"}/${top.name}`;
    const line = h.log.matching(/^Sustained swap I\/O .*: "delete" "default\/web-0" → "deleted"/);
    assert.equal(line.length, 1, what);
    assert.deepEqual(line[0]!.properties.passedOver, [`${name} (${reason})`], what);
    assert.ok(line[0]!.text.includes(`passed over [ "${name} (${reason})" ]`), what);
    if (reason === "mirror pod of a static pod") {
      const source = h.log.matching(
        /^Static pod "default\/etcd-node-a" is a source of the pressure/,
      );
      assert.equal(source.length, 1, "the log says the static pod is the source");
      assert.match(source[0]!.text, /never deletes its mirror pod, which would not stop it/);
    }
  }
});

Deno.test("a forged mirror annotation never hides the hog: the decoy's claim is ignored, logged once, and the hog is deleted", async () => {
  const claim = { "kubernetes.io/config.mirror": DB.uid };
  // Not a kubelet's mirror pod: an ordinary pod, no conflict to tell. Every mark copied: a
  // conflict, told once.
  const decoys: { what: string; decoy: TestPod; told: number }[] = [
    {
      what: "the annotation alone",
      decoy: { name: "decoy", uid: fakePodUid(9), annotations: claim },
      told: 0,
    },
    {
      // Every mark of a kubelet's mirror pod, copied: the hog's own UID still wins.
      what: "the annotation, the Node owner and the -<node> name",
      decoy: {
        name: `decoy-${NODE}`,
        uid: fakePodUid(9),
        annotations: claim,
        ownerReferences: [nodeOwner(NODE)],
      },
      told: 1,
    },
  ];
  for (const { what, decoy, told } of decoys) {
    // The decoy is listed after the hog (the stand-in lists in this order).
    await using h = await setup({ pods: [DB, WEB, decoy], config: { dryRun: true } });
    h.node.ratePagesPerSecond = 5_000;
    // Two decisions, a cooldown apart: two LISTs that both carry the conflict.
    const reports = await h.ticks(TICKS_TO_SUSTAIN + 10 + TICKS_TO_SUSTAIN);
    const acted = reports.filter((report) => report.outcome !== undefined);
    assert.deepEqual(
      acted.map((report) => [report.outcome?.kind, report.victim?.pod?.name]),
      [["dry-run", "db-0"], ["dry-run", "db-0"]],
      what,
    );
    const conflicts = h.log.matching(/claims to be the mirror pod of static pod/);
    assert.equal(conflicts.length, told, `${what}: a conflict is logged once`);
    for (const line of conflicts) {
      assert.equal(line.level, "warning", what);
      assert.equal(line.properties.holder, "default/db-0", what);
    }
    assert.deepEqual(h.log.matching(/passed over/).filter((l) => /db-0/.test(l.text)), [], what);
  }
});

Deno.test("a pod with every mark of a mirror pod is still chosen when its own cgroup is the hog", async () => {
  // A tenant's pod that copies the kubelet's marks to opt itself out: its cgroup carries its
  // own UID, so it is no static pod's mirror.
  const forged: TestPod = {
    ...DB,
    name: `hog-${NODE}`,
    annotations: { "kubernetes.io/config.mirror": STATIC_UID },
    ownerReferences: [nodeOwner(NODE)],
  };
  await using h = await setup({ pods: [forged, WEB] });
  h.node.ratePagesPerSecond = 5_000;
  await h.ticks(TICKS_TO_SUSTAIN);
  assert.deepEqual(h.destructive(), [`DELETE default/hog-${NODE}`]);
});

Deno.test("the headroom and node-swap-free triggers pass over excluded pods too", async () => {
  // A container at memory.max with 98% of its swap limit in use: the headroom alarm.
  const full = (n: number): ContainerStats => ({
    id: fakeContainerId(n),
    swapCurrentBytes: 98 * MiB,
    swapMaxBytes: 100 * MiB,
    memoryCurrentBytes: 64 * MiB,
    memoryMaxBytes: 64 * MiB,
  });
  const table: { trigger: string; config: Partial<Config>; meminfo?: Partial<Meminfo> }[] = [
    { trigger: "headroom", config: { headroomTrigger: true } },
    {
      trigger: "node-swap-free",
      config: { nodeSwapFreePercent: 5 },
      meminfo: { swapFreeBytes: 20 * MiB },
    },
  ];
  for (const { trigger, config, meminfo } of table) {
    await using h = await setup({
      pods: [
        { ...DB, namespace: "kube-system", containers: [full(1)] },
        { ...WEB, annotations: { [EXCLUDE_ANNOTATION]: "true" }, containers: [full(2)] },
        {
          name: "batch-0",
          uid: fakePodUid(3),
          swapMiB: 10,
          fullAvg10Percent: 5,
          containers: [full(3)],
        },
      ],
      config,
    });
    h.node.meminfo = { ...h.node.meminfo, ...meminfo };
    // No node swap I/O: only the trigger under test can fire, on the first tick.
    const report = await h.tick();
    assert.equal(report.trigger, trigger);
    assert.deepEqual(h.destructive(), ["DELETE default/batch-0"], trigger);
    assert.deepEqual(
      report.selection?.rejected.map((r) => r.reason).sort(),
      ["excluded by annotation", "protected namespace"],
      trigger,
    );
  }
});

// ---- termination modes ----

const PDB_429 = {
  status: 429,
  body: statusBody(
    429,
    "TooManyRequests",
    "Cannot evict pod as it would violate the pod's disruption budget.",
    { causes: [{ reason: "DisruptionBudget", message: "The disruption budget db needs 1" }] },
  ),
};

Deno.test("evict mode: a PodDisruptionBudget blocks the top candidate, the next is evicted in the same tick", async () => {
  await using h = await setup({ pods: [DB, WEB], config: { terminationMode: "evict" } });
  h.api.inject({ method: "POST", pathPrefix: "/api/v1/namespaces/default/pods/db-0/" }, PDB_429);
  h.node.ratePagesPerSecond = 5_000;
  const acted = (await h.ticks(TICKS_TO_SUSTAIN))[TICKS_TO_SUSTAIN - 1]!;
  assert.deepEqual(h.destructive(), ["EVICT default/db-0", "EVICT default/web-0"]);
  assert.deepEqual(acted.attempts?.map((a) => [a.victim.pod?.name, a.outcome.kind]), [
    ["db-0", "blocked"],
  ]);
  assert.equal(acted.outcome?.kind, "evicted");
  assert.equal(acted.victim?.pod?.name, "web-0");
  assert.equal(h.api.events.length, 1);
  assert.equal((h.api.events[0] as { action?: string }).action, "Evict");
  const line = h.log.matching(/→ "evicted"; evictions blocked: \[ "default\/db-0" \]$/);
  assert.equal(line.length, 1);
  assert.equal(line[0]!.properties.action, "evict");
  // The metrics count the blocked attempt and the eviction.
  const metrics = new AgentMetrics({ ...h.config }, "test");
  metrics.tick(acted, 1, 0);
  const rendered = metrics.registry.render();
  assert.match(rendered, /soomkiller_terminations_total\{mode="evict",result="blocked"\} 1/);
  assert.match(rendered, /soomkiller_terminations_total\{mode="evict",result="success"\} 1/);
});

Deno.test("evict mode: every eviction blocked → retried each tick, DELETE of the top candidate after --evict-fallback-after", async () => {
  await using h = await setup({
    pods: [DB, WEB],
    config: { terminationMode: "evict", evictFallbackAfterMs: 5_000 },
  });
  h.api.inject({ method: "POST", pathPrefix: "/api/v1/namespaces/default/pods/" }, PDB_429, 1_000);
  h.node.ratePagesPerSecond = 5_000;
  // Sustained from t=3 s; every round blocked until t=8 s, when 5 s have passed.
  const reports = await h.ticks(TICKS_TO_SUSTAIN + 6);
  assert.deepEqual(outcomes(reports), [
    null,
    null,
    null,
    "blocked", // t=3 s: the clock starts
    "blocked",
    "blocked",
    "blocked",
    "blocked",
    "deleted", // t=8 s: the fallback
    null, // cooldown
  ]);
  const fallback = reports[TICKS_TO_SUSTAIN + 4]!;
  assert.deepEqual(fallback.outcome, { kind: "deleted", code: 200, fallback: true });
  assert.equal(fallback.victim?.pod?.name, "db-0", "the top candidate");
  assert.equal(fallback.attempts?.length, 2, "both evictions were tried first");
  const deletes = h.destructive().filter((r) => r.startsWith("DELETE"));
  assert.deepEqual(deletes, ["DELETE default/db-0"]);
  assert.equal(h.destructive().filter((r) => r.startsWith("EVICT")).length, 12);
  // Logged: the first all-blocked round once at warning, the fallback as such.
  const blocked = h.log.matching(/every eviction blocked: retrying every tick/);
  assert.deepEqual(blocked.map((l) => l.level), ["warning", "debug", "debug", "debug", "debug"]);
  const fell = h.log.matching(/every eviction blocked for 5 s: fell back to DELETE/);
  assert.equal(fell.length, 1);
  assert.equal(fell[0]!.properties.action, "delete (eviction fallback)");
  // Counted as a fallback.
  const metrics = new AgentMetrics({ ...h.config }, "test");
  for (const report of reports) metrics.tick(report, 1, 0);
  const rendered = metrics.registry.render();
  assert.match(rendered, /soomkiller_evict_fallbacks_total 1/);
  assert.match(rendered, /soomkiller_terminations_total\{mode="evict",result="blocked"\} 12/);
  assert.match(rendered, /soomkiller_terminations_total\{mode="delete",result="success"\} 1/);
});

Deno.test("evict mode with --evict-fallback-after=0 never deletes", async () => {
  await using h = await setup({
    pods: [DB],
    config: { terminationMode: "evict", evictFallbackAfterMs: 0 },
  });
  h.api.inject({ method: "POST", pathPrefix: "/api/v1/namespaces/default/pods/" }, PDB_429, 1_000);
  h.node.ratePagesPerSecond = 5_000;
  const reports = await h.ticks(70);
  assert.ok(h.destructive().every((r) => r.startsWith("EVICT")));
  assert.equal(outcomes(reports).filter((o) => o === "blocked").length, 70 - 3);
  assert.equal(h.log.matching(/--evict-fallback-after=0: no DELETE/).length, 67);
});

Deno.test("evict mode: several PodDisruptionBudgets on a pod give a clear error for it; the next pod is evicted", async () => {
  await using h = await setup({ pods: [DB, WEB], config: { terminationMode: "evict" } });
  h.api.inject({ method: "POST", pathPrefix: "/api/v1/namespaces/default/pods/db-0/" }, {
    status: 500,
    body: statusBody(
      500,
      "InternalError",
      "This pod has more than one PodDisruptionBudget, which the eviction subresource does " +
        "not support.",
    ),
  });
  h.node.ratePagesPerSecond = 5_000;
  const acted = (await h.ticks(TICKS_TO_SUSTAIN))[TICKS_TO_SUSTAIN - 1]!;
  assert.equal(acted.outcome?.kind, "evicted");
  assert.equal(acted.victim?.pod?.name, "web-0");
  const errors = h.log.atLeast("error");
  assert.equal(errors.length, 1);
  assert.match(
    errors[0]!.text,
    /^Cannot evict "default\/db-0": 'Cannot evict pod "default\/db-0": more than one PodDisruptionBudget selects it/,
  );
});

// ---- kill-once ----

Deno.test("a pod acted on is never acted on again, even when the API's list is stale; stuck terminating is reported once", async () => {
  await using h = await setup({ pods: [DB, WEB] });
  // From the first LIST on, the API serves a stale list: nobody is ever shown terminating.
  const stale = {
    apiVersion: "v1",
    kind: "PodList",
    metadata: { resourceVersion: "1" },
    items: [makePod({ ...DB, nodeName: NODE }), makePod({ ...WEB, nodeName: NODE })],
  };
  h.api.inject({ method: "GET", pathPrefix: "/api/v1/pods" }, { status: 200, body: stale }, 1_000);
  h.node.ratePagesPerSecond = 5_000;
  h.node.churnSwap = true;
  // db-0 at t=3 s; after the 10 s cooldown and a new 3 s window, web-0 at t=16 s.
  const reports = await h.ticks(60);
  assert.deepEqual(h.destructive(), ["DELETE default/db-0", "DELETE default/web-0"]);
  const second = reports.find((r) => r.victim?.pod?.name === "web-0")!;
  assert.deepEqual(
    second.selection?.rejected.map((r) => [r.candidate.pod?.name, r.reason]),
    [["db-0", "already acted on"]],
  );
  // db-0 got 30 s grace + 10 s slack: still there at t=43 s → stuck, reported once.
  const stuck = h.log.matching(/stuck terminating/);
  assert.equal(stuck.length, 2, "db-0 and, later, web-0");
  assert.match(stuck[0]!.text, /^Pod "default\/db-0" is stuck terminating: still there 40 s after/);
  assert.equal(stuck[0]!.properties.apiShowsTerminating, false);
  // Once its cgroup is gone it is forgotten; nothing else changes.
  h.node.pods = h.node.pods.filter((p) => p.uid !== DB.uid);
  await h.ticks(2);
  assert.equal(h.destructive().length, 2);
});

// ---- hostile input: host files ----

Deno.test("a malformed pod file is logged for that pod and the others are still chosen", async () => {
  const tree = await CgroupTree.create({ driver: "systemd" });
  const procRoot = `${tree.root}/../proc`;
  try {
    await tree.addPod({
      uid: DB.uid,
      qos: "burstable",
      swapCurrentBytes: 180 * MiB,
      fullAvg10Percent: 90,
      containers: [{ id: fakeContainerId(1), swapCurrentBytes: 180 * MiB }],
    });
    await tree.addPod({
      uid: WEB.uid,
      qos: "burstable",
      swapCurrentBytes: 20 * MiB,
      fullAvg10Percent: 60,
      containers: [{ id: fakeContainerId(2), swapCurrentBytes: 20 * MiB }],
    });
    // The worst pod's memory.pressure turns to garbage.
    await Deno.writeTextFile(`${tree.podPath(DB.uid)}/memory.pressure`, "some avg10=banana\n");
    const api = await startApiStandin({
      tls: false,
      pods: [makePod({ ...DB, nodeName: NODE }), makePod({ ...WEB, nodeName: NODE })],
    });
    const kube = createKubeClient(standinConnection(api), {
      timeoutMs: API_TIMEOUT_MS,
      allowInsecureHttp: true,
    });
    try {
      const clock = new FakeClock(0);
      const log = new RecordingLog();
      const agent = new Agent(CONFIG, {
        sensor: hostSensor(denoHostFs, procRoot, tree.root),
        clock,
        kube,
        log: log.logger,
      });
      let pages = 0;
      for (let i = 0; i < TICKS_TO_SUSTAIN; i++) {
        await writeProc(procRoot, { swapInPages: pages, swapOutPages: 0 });
        await agent.tick();
        clock.advance(1_000);
        pages += 5_000;
      }
      const errors = log.atLeast("error");
      assert.equal(errors.length, 1, "one line for the bad pod (repeats are held back)");
      assert.match(
        errors[0]!.text,
        /^Cannot read pod cgroup ".*pod00000000_0000_4000_8000_000000000001\.slice": 'Cannot parse "memory\.pressure": "some avg10" is "banana"/,
      );
      assert.deepEqual(
        api.requests.filter((r) => r.method === "DELETE").map((r) => r.path),
        ["/api/v1/namespaces/default/pods/web-0"],
      );
    } finally {
      kube.close();
      await api.close();
    }
  } finally {
    await tree.dispose();
  }
});

Deno.test("the loop never stops: vmstat unreadable, a crashing scan and a calm node all pass through run()", async () => {
  await using h = await setup({ pods: [DB, WEB] });
  const reports: TickReport[] = [];
  let notify = () => {};
  const agent = new Agent(h.config, {
    sensor: h.node,
    clock: h.clock,
    kube: h.kube,
    log: h.log.logger,
    onTick: (report) => {
      reports.push(report);
      notify();
    },
  });
  const stop = new AbortController();
  const step = async () => {
    const done = new Promise<void>((resolve) => notify = resolve);
    h.clock.advance(1_000);
    await done;
  };
  h.node.vmstatError = new Deno.errors.PermissionDenied(
    'Permission denied (os error 13): readfile "/host/proc/vmstat"',
  );
  const first = new Promise<void>((resolve) => notify = resolve);
  const running = agent.run(stop.signal);
  await first;
  for (let i = 0; i < 4; i++) await step();
  assert.equal(reports.length, 5);
  assert.ok(reports.every((r) => r.observation === null));
  const vmstat = h.log.matching(/^Cannot read swap counters/);
  assert.equal(vmstat.length, 1, "logged once, not every tick");
  assert.match(vmstat[0]!.text, /Permission denied \(os error 13\)/);
  // vmstat readable again; the scan crashes once (it must never throw: this is a bug).
  h.node.vmstatError = null;
  h.node.scanCrash = new Error("scan exploded");
  await step();
  assert.equal(h.log.matching(/^Swap counters readable again after 5 failed ticks/).length, 1);
  assert.equal(h.log.matching(/^Tick failed: "scan exploded"/).length, 1);
  h.node.scanCrash = null;
  // Pressure: the loop acts as usual.
  h.node.ratePagesPerSecond = 5_000;
  for (let i = 0; i < TICKS_TO_SUSTAIN; i++) await step();
  assert.deepEqual(h.destructive(), ["DELETE default/db-0"]);
  stop.abort();
  await running;
});

// ---- hostile input: the clock ----

Deno.test("a wall-clock jump of an hour either way changes no window, cooldown or decision", async () => {
  async function run(jumps: boolean) {
    await using h = await setup({ pods: [DB, WEB] });
    h.node.ratePagesPerSecond = 5_000;
    h.node.churnSwap = true;
    const seen: string[] = [];
    for (let i = 0; i < 30; i++) {
      if (jumps) h.clock.jumpWall(i % 2 === 0 ? HOUR_MS : -2 * HOUR_MS);
      const report = await h.tick();
      const o = report.observation;
      seen.push(
        `${o?.phase} ${o?.reading.windowMs} ${o?.cooldownRemainingMs} ` +
          `${report.outcome?.kind ?? "-"} ${report.victim?.pod?.name ?? "-"}`,
      );
    }
    return { seen, destructive: h.destructive() };
  }
  const steady = await run(false);
  const jumping = await run(true);
  assert.deepEqual(jumping, steady);
  assert.deepEqual(steady.destructive, ["DELETE default/db-0", "DELETE default/web-0"]);
});

// ---- hostile input: the API ----

Deno.test("a server paging in a circle (continue tokens A, B, A, B …) costs at most 3 requests per LIST and backs off; nothing is deleted", async () => {
  await using h = await setup({ pods: [DB, WEB] });
  for (let i = 0; i < 2_000; i++) {
    h.api.inject({ method: "GET", pathPrefix: "/api/v1/pods" }, {
      status: 200,
      body: { kind: "PodList", metadata: { continue: i % 2 === 0 ? "A" : "B" }, items: [] },
    });
  }
  h.node.ratePagesPerSecond = 5_000;
  await h.ticks(12);
  const lists = h.api.requests.filter((r) => r.path === "/api/v1/pods");
  const firsts = lists.filter((r) => !r.search.includes("continue="));
  assert.ok(firsts.length >= 1, "the agent tried to LIST");
  assert.equal(lists.length, 3 * firsts.length, "3 requests per LIST: the loop is seen at A again");
  assert.ok(lists.length <= 3 * 12, `${lists.length} LIST requests in 12 ticks`);
  assert.deepEqual(h.destructive(), []);
  assert.match(
    h.log.matching(/^Cannot list pods on node/)[0]!.text,
    /a continue token seen before/,
  );
});

Deno.test("API faults: the loop goes on, logs what to do, and never acts twice in one cooldown", async () => {
  const OTHER_CA = await makeUnrelatedCaPem();
  const pods = "/api/v1/pods";
  const dbPath = "/api/v1/namespaces/default/pods/db-0";
  const table: {
    what: string;
    inject?: (api: ApiStandin) => void;
    setup?: Partial<SetupOptions>;
    /** The outcome of the first sustained tick (null: no action was tried). */
    first: string | null;
    log?: RegExp;
    /** The level of the `log` line (default error). */
    logLevel?: "warning";
    /** DELETEs that succeeded over the run (10 ticks, within one cooldown). */
    deleted: number;
  }[] = [
    {
      what: "403 on LIST names the missing verb",
      inject: (api) => api.inject({ method: "GET", pathPrefix: pods }, { status: 403 }),
      first: null,
      log: /RBAC forbids list pods: grant verb "list" on "pods"/,
      deleted: 1,
    },
    {
      what: "403 on DELETE names the missing verb",
      inject: (api) => api.inject({ method: "DELETE" }, { status: 403 }),
      first: "failed",
      log: /RBAC forbids delete pods: grant verb "delete" on "pods"/,
      deleted: 1,
    },
    {
      what: "404: the pod is gone, which is fine",
      inject: (api) => api.inject({ method: "DELETE" }, { status: 404 }),
      first: "gone",
      deleted: 1,
    },
    {
      what: "429 on DELETE (the API server asks to back off)",
      inject: (api) => api.inject({ method: "DELETE" }, { status: 429 }),
      first: "failed",
      log: /HTTP 429 TooManyRequests/,
      deleted: 1,
    },
    {
      // The server may have acted: counted as done, the cooldown holds, db-0 is read back.
      what: "500",
      inject: (api) => api.inject({ method: "DELETE" }, { status: 500 }),
      first: "unknown",
      log: /Cannot delete pod "default\/db-0": HTTP 500 InternalError/,
      logLevel: "warning",
      deleted: 0,
    },
    {
      what: "503 on LIST",
      inject: (api) => api.inject({ method: "GET", pathPrefix: pods }, { status: 503 }),
      first: null,
      log: /Cannot list pods on node "node-a": HTTP 503 ServiceUnavailable/,
      deleted: 1,
    },
    {
      what: "a server that accepts the connection and never answers",
      inject: (api) => api.inject({ method: "DELETE", pathPrefix: dbPath }, "hang"),
      setup: { client: { timeoutMs: 300 } },
      first: "unknown",
      log: /DELETE "\/api\/v1\/namespaces\/default\/pods\/db-0" timed out after 0\.3 s/,
      logLevel: "warning",
      deleted: 0,
    },
    {
      what: "TLS: the server's certificate is not signed by the configured CA",
      setup: {
        standin: { tls: true },
        connection: () => ({ caPem: OTHER_CA, caSource: 'the CA "/etc/kube-soomkiller/ca.crt"' }),
      },
      first: null,
      log:
        /TLS verification against the CA "\/etc\/kube-soomkiller\/ca\.crt" failed: invalid peer certificate: UnknownIssuer/,
      deleted: 0,
    },
  ];
  for (const row of table) {
    await using h = await setup({ pods: [DB, WEB], ...row.setup });
    row.inject?.(h.api);
    h.node.ratePagesPerSecond = 5_000;
    const reports = await h.ticks(TICKS_TO_SUSTAIN + 9);
    const first = reports[TICKS_TO_SUSTAIN - 1]!;
    assert.equal(first.outcome?.kind ?? null, row.first, row.what);
    if (row.log) {
      const said = h.log.mentioning(row.log).filter((l) => l.level === (row.logLevel ?? "error"));
      assert.ok(said.length > 0, `${row.what}: ${JSON.stringify(h.log.atLeast("error"))}`);
    }
    const deleted = outcomes(reports).filter((o) => o === "deleted").length;
    assert.equal(deleted, row.deleted, row.what);
    assert.equal(reports.length, TICKS_TO_SUSTAIN + 9, `${row.what}: every tick returned`);
    // Only ever the worst pod, never the bystander.
    assert.ok(h.destructive().every((r) => r === "DELETE default/db-0"), row.what);
  }
});

Deno.test("API 401: a rotated token is re-read and the request sent once more", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const tokenPath = `${dir}/token`;
    await Deno.writeTextFile(tokenPath, "old-token\n");
    await using h = await setup({
      pods: [DB, WEB],
      standin: { token: "old-token" },
      connection: () => ({
        token: fileTokenSource(tokenPath, { ...denoConnectionDeps, maxAgeMs: HOUR_MS }),
      }),
    });
    // One call with the old token (as the startup readiness check makes), which is cached.
    await h.kube.listNodePods(NODE);
    h.node.ratePagesPerSecond = 5_000;
    await h.ticks(1);
    // The kubelet rotates the token while the node is under pressure.
    h.api.setToken("new-token");
    await Deno.writeTextFile(tokenPath, "new-token\n");
    const acted = (await h.ticks(TICKS_TO_SUSTAIN - 1))[TICKS_TO_SUSTAIN - 2]!;
    assert.equal(acted.outcome?.kind, "deleted");
    const calls = h.api.requests.map((r) => `${r.method} ${r.headers["authorization"]}`);
    assert.deepEqual(calls, [
      "GET Bearer old-token",
      "GET Bearer old-token", // 401: re-read the token file …
      "GET Bearer new-token", // … and send the LIST once more
      "PATCH Bearer new-token", // the DisruptionTarget condition, before …
      "DELETE Bearer new-token", // … the DELETE
      "POST Bearer new-token", // the Event
    ]);
    assert.deepEqual(h.destructive(), ["DELETE default/db-0"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("API 409: a pod re-created under the same name is never deleted", async () => {
  const NEW_UID = fakePodUid(99);
  // The API now holds a new db-0; the agent's (stale) list still shows the old one.
  await using h = await setup({ pods: [{ ...WEB }, { ...DB, uid: NEW_UID, swapMiB: undefined }] });
  h.node.pods.push(podStats(DB));
  const stale = {
    apiVersion: "v1",
    kind: "PodList",
    metadata: { resourceVersion: "1" },
    items: [makePod({ ...DB, nodeName: NODE }), makePod({ ...WEB, nodeName: NODE })],
  };
  h.api.inject({ method: "GET", pathPrefix: "/api/v1/pods" }, { status: 200, body: stale });
  h.node.ratePagesPerSecond = 5_000;
  const reports = await h.ticks(TICKS_TO_SUSTAIN + 3);
  assert.equal(reports[TICKS_TO_SUSTAIN - 1]!.outcome?.kind, "conflict");
  const fresh = h.api.pods.find((p) => p.metadata?.uid === NEW_UID)!;
  assert.equal(fresh.metadata?.deletionTimestamp, undefined, "the new db-0 lives on");
  // Later lists are fresh: the old cgroup is unknown to the API and passed over.
  const later = reports[TICKS_TO_SUSTAIN]!;
  assert.deepEqual(later.selection?.rejected.map((r) => r.reason), ["unknown to the API"]);
  assert.equal(later.victim?.pod?.name, "web-0");
  assert.deepEqual(h.destructive(), ["DELETE default/db-0", "DELETE default/web-0"]);
});

Deno.test("a kernel OOM kill is seen the tick vmstat oom_kill moves, with no periodic pod walk", async () => {
  await using t = await setup({ pods: [DB] });
  const first = await t.tick();
  assert.ok(first.pods, "the first tick scans once");
  // A calm hour: swap in use steady, oom_kill unchanged: no pod walk at all.
  for (let i = 0; i < 120; i++) assert.equal((await t.tick()).pods, undefined);
  // The kernel kills a process in db-0: vmstat and the pod's memory.events move together.
  t.node.oomKills = 1;
  t.node.pods = t.node.pods.map((pod) => ({ ...pod, oomKillCount: pod.oomKillCount + 1 }));
  const report = await t.tick();
  assert.deepEqual(report.kernelOomKills?.map((k) => [k.pod.uid, k.newKills]), [[DB.uid, 1]]);
  assert.ok(t.log.lines.some((line) => /Kernel OOM-killed a process/.test(line.text)));
});
