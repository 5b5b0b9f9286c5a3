/**
 * One action per cooldown, whatever the API answers (issue 12, item 1): the real Agent on a
 * fake clock against the HTTP stand-in, with every destructive request and every LIST
 * answered from a generated sequence of answers, committed or not: 2xx, 204, 4xx,
 * 5xx after the server acted, a timeout, a broken body. Invariant: two destructive requests
 * for different pods within one cooldown only when the first was refused outright (4xx:
 * the server did nothing).
 */
import { AGENT_TEST_CONFIG, TEST_NODE } from "./fakes/agent_config.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import { createKubeClient } from "../src/act/kube_client.ts";
import { Agent } from "../src/agent.ts";
import type { Config } from "../src/config.ts";
import type { Meminfo } from "../src/sense/meminfo.ts";
import type { NodeSensor } from "../src/sense/node_sensor.ts";
import type { PodScan } from "../src/sense/pod_scan.ts";
import type { PodStats } from "../src/sense/pod_stats.ts";
import {
  type ApiStandin,
  type CannedResponse,
  makePod,
  type RecordedRequest,
  standinConnection,
  startApiStandin,
} from "./fakes/api_standin.ts";
import { fakePodUid } from "./fakes/cgroup_tree.ts";
import { FakeClock } from "./fakes/fake_clock.ts";
import { RecordingLog } from "./fakes/recording_log.ts";

const NODE = TEST_NODE;
const MiB = 1 << 20;
const GiB = 1 << 30;

const CONFIG: Config = AGENT_TEST_CONFIG;

const PODS = [
  { name: "db-0", uid: fakePodUid(1), swapMiB: 180, full: 90 },
  { name: "web-0", uid: fakePodUid(2), swapMiB: 60, full: 70 },
  { name: "api-0", uid: fakePodUid(3), swapMiB: 20, full: 60 },
];

/** A node under steady swap I/O with three swapping pods whose cgroups stay. */
class ThrashingNode implements NodeSensor {
  readonly pods: PodStats[] = PODS.map((p) => ({
    uid: p.uid,
    cgroupPath: `/cg/pod${p.uid}`,
    qosClass: "burstable",
    swapCurrentBytes: p.swapMiB * MiB,
    memoryCurrentBytes: 64 * MiB,
    memoryMaxBytes: 64 * MiB,
    fullAvg10Percent: p.full,
    someAvg10Percent: p.full,
    oomKillCount: 0,
    containers: [],
  }));
  #pages = 1_000_000;
  #lastMs: number | null = null;
  constructor(readonly clock: FakeClock) {}
  readSwapIo() {
    const nowMs = this.clock.monotonicMs();
    if (this.#lastMs !== null) this.#pages += 5_000 * (nowMs - this.#lastMs) / 1000;
    this.#lastMs = nowMs;
    return Promise.resolve({ swapInPages: this.#pages, swapOutPages: 0, oomKills: 0 });
  }
  readMeminfo(): Promise<Meminfo> {
    return Promise.resolve({
      memTotalBytes: 8 * GiB,
      memAvailableBytes: 4 * GiB,
      swapTotalBytes: 2 * GiB,
      swapFreeBytes: GiB,
    });
  }
  scanPods(): Promise<PodScan> {
    return Promise.resolve({ pods: [...this.pods], errors: [] });
  }
  recheckSwapBytes(cgroupPath: string) {
    const pod = this.pods.find((p) => p.cgroupPath === cgroupPath);
    return Promise.resolve(pod ? pod.swapCurrentBytes : "gone" as const);
  }
}

/** One answer of the API to one request; "ok" lets the stand-in answer for real. */
export type Answer = "ok" | CannedResponse;

/** Answers that say the server did nothing: another pod may be tried at once. */
function isRefusal(answer: Answer): boolean {
  return answer !== "ok" && !answer.commit && answer.status >= 400 && answer.status < 500;
}

const destructiveAnswer: fc.Arbitrary<Answer> = fc.oneof(
  fc.constant<Answer>("ok"),
  fc.record({
    status: fc.constantFrom(500, 502, 503, 504),
    commit: fc.boolean(),
  }),
  fc.constant<Answer>({ status: 204, commit: true }),
  fc.constant<Answer>({ status: 200, body: "<html>proxy</html>", commit: true }),
  fc.constant<Answer>({ status: 200, brokenBody: true, commit: true }),
  fc.record({ status: fc.constant(200), hang: fc.constant(true), commit: fc.boolean() }),
  fc.constantFrom<Answer>(
    { status: 403 },
    { status: 404 },
    { status: 409 },
    { status: 429, headers: { "retry-after": "2" } },
  ),
);

const listAnswer: fc.Arbitrary<Answer> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Answer>("ok") },
  fc.constantFrom<Answer>(
    { status: 500 },
    { status: 429, headers: { "retry-after": "3" } },
    { status: 200, brokenBody: true },
    { status: 200, hang: true },
  ),
);

function isDestructive(request: RecordedRequest): boolean {
  return request.method === "DELETE" || request.path.endsWith("/eviction");
}

function podOf(request: RecordedRequest): string {
  return request.path.replace(/\/eviction$/, "");
}

interface Run {
  readonly api: ApiStandin;
  /** The tick (fake time in poll intervals) each request arrived in. */
  readonly tickOf: Map<RecordedRequest, number>;
  readonly log: RecordingLog;
}

async function runAgent(
  mode: Config["terminationMode"],
  destructive: readonly Answer[],
  lists: readonly Answer[],
  ticks: number,
  fn: (run: Run) => void,
): Promise<void> {
  const clock = new FakeClock(0);
  const node = new ThrashingNode(clock);
  const api = await startApiStandin({
    tls: false,
    pods: PODS.map((p) => makePod({ name: p.name, uid: p.uid, nodeName: NODE })),
  });
  const kube = createKubeClient(standinConnection(api), {
    timeoutMs: 100,
    allowInsecureHttp: true,
  });
  try {
    const matcher = mode === "evict"
      ? { method: "POST", pathPrefix: "/api/v1/" }
      : { method: "DELETE" };
    for (const answer of destructive) {
      api.inject(matcher, answer === "ok" ? PASS : answer, 1);
    }
    for (const answer of lists) {
      api.inject({ method: "GET", pathPrefix: "/api/v1/pods" }, answer === "ok" ? PASS : answer, 1);
    }
    const log = new RecordingLog();
    const agent = new Agent({ ...CONFIG, terminationMode: mode }, {
      sensor: node,
      clock,
      kube,
      log: log.logger,
    });
    const tickOf = new Map<RecordedRequest, number>();
    for (let tick = 0; tick < ticks; tick++) {
      await agent.tick();
      for (const request of api.requests) if (!tickOf.has(request)) tickOf.set(request, tick);
      clock.advance(CONFIG.pollIntervalMs);
    }
    fn({ api, tickOf, log });
  } finally {
    kube.close();
    await api.close();
  }
}

/** An injection with status 0 means "answer as the server would" (see the stand-in). */
const PASS: CannedResponse = { status: 0 };

/** Destructive requests for different pods within one cooldown, with the first answer. */
function violations(run: Run, answers: readonly Answer[]): string[] {
  const destructive = run.api.requests.filter(isDestructive);
  const found: string[] = [];
  for (let i = 0; i < destructive.length; i++) {
    const first = destructive[i]!;
    const answer = answers[i] ?? "ok";
    if (isRefusal(answer)) continue;
    for (const later of destructive.slice(i + 1)) {
      const gapMs = (run.tickOf.get(later)! - run.tickOf.get(first)!) * CONFIG.pollIntervalMs;
      if (gapMs >= CONFIG.cooldownPeriodMs) break;
      if (podOf(later) !== podOf(first)) {
        found.push(
          `${first.method} ${podOf(first)} answered ${JSON.stringify(answer)}, then ` +
            `${later.method} ${podOf(later)} ${gapMs} ms later`,
        );
      }
    }
  }
  return found;
}

Deno.test("a DELETE committed and answered 504 starts the cooldown: no second pod within it", async () => {
  await runAgent("delete", [{ status: 504, commit: true }], [], 14, (run) => {
    const destructive = run.api.requests.filter(isDestructive).map(podOf);
    assert.deepEqual(destructive, ["/api/v1/namespaces/default/pods/db-0"]);
    assert.deepEqual(violations(run, [{ status: 504, commit: true }]), []);
    // The next tick reads the pod back: terminating, so the DELETE took effect.
    const reads = run.api.requests.filter((r) =>
      r.method === "GET" && r.path === "/api/v1/namespaces/default/pods/db-0"
    );
    assert.equal(reads.length, 1, "one confirming read");
    assert.equal(run.log.matching(/db-0.*terminating: the "delete" took effect/).length, 1);
  });
});

Deno.test("a write that did not happen (500 before commit) is confirmed by reading and the pod may be chosen again after the cooldown", async () => {
  await runAgent("delete", [{ status: 500, commit: false }], [], 20, (run) => {
    const destructive = run.api.requests.filter(isDestructive).map((r) => [
      run.tickOf.get(r),
      podOf(r),
    ]);
    assert.deepEqual(destructive, [
      [3, "/api/v1/namespaces/default/pods/db-0"],
      // Not within the cooldown of 10 s (the swap-io window then fills again): the same
      // pod, which the read found still running.
      [15, "/api/v1/namespaces/default/pods/db-0"],
    ]);
    assert.equal(run.log.matching(/db-0.*still running with the same uid/).length, 1);
  });
});

Deno.test("chaos: 60 s where every other write commits and then errors: no cooldown violation", async () => {
  const answers: Answer[] = [];
  for (let i = 0; i < 30; i++) {
    answers.push(
      i % 2 === 0 ? { status: [500, 502, 503, 504][i % 4]!, commit: true } : "ok",
    );
  }
  for (const mode of ["delete", "evict"] as const) {
    await runAgent(mode, answers, [], 60, (run) => {
      assert.deepEqual(violations(run, answers), [], mode);
      // One write per cooldown at most: 10 s cooldown, 60 s run.
      assert.ok(run.api.requests.filter(isDestructive).length <= 6, mode);
    });
  }
});

for (const mode of ["delete", "evict"] as const) {
  Deno.test(`property (${mode} mode): under any sequence of API answers, never two destructive requests for different pods within one cooldown`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(destructiveAnswer, { minLength: 1, maxLength: 8 }),
        fc.array(listAnswer, { maxLength: 8 }),
        async (destructive, lists) => {
          await runAgent(mode, destructive, lists, 36, (run) => {
            assert.deepEqual(violations(run, destructive), []);
          });
        },
      ),
      { numRuns: 30 },
    );
  });
}
