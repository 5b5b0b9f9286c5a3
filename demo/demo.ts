/**
 * `deno task demo`: the real agent loop against a synthetic node — a temp kubelet-shaped
 * cgroup tree, a scripted /proc/vmstat and an in-process Kubernetes API stand-in — with a
 * readable timeline: the early warning on the pod heading for its swap limit, then the
 * action when the node thrashes. No root, no cluster, about 20 s.
 *
 * It lives outside src/ because it drives the agent with the test fakes (tests/fakes/): product
 * code never imports test code.
 */
import { createKubeClient } from "../src/act/kube_client.ts";
import { Agent } from "../src/agent.ts";
import { systemClock } from "../src/clock.ts";
import { API_TIMEOUT_MS, type Config, DEFAULTS } from "../src/config.ts";
import { agentLogger, setupLogging } from "../src/observe/log.ts";
import { denoHostFs } from "../src/sense/host_fs.ts";
import { hostSensor } from "../src/sense/node_sensor.ts";
import { makePod, standinConnection, startApiStandin } from "../tests/fakes/api_standin.ts";
import { CgroupTree, fakeContainerId, fakePodUid } from "../tests/fakes/cgroup_tree.ts";
import { writeProc } from "../tests/fakes/proc_tree.ts";

const NODE = "demo-node";
const DB = fakePodUid(1);
const WEB = fakePodUid(2);
const BATCH = fakePodUid(3);
const MiB = 1 << 20;
/** The node's pswpin + pswpout when the demo starts, pages. */
const START_SWAP_IO_PAGES = 1_000_000;

const say = (text: string) => console.log(`\n### ${text}`);

async function demo(): Promise<void> {
  await setupLogging("text", "debug");
  const node = await syntheticNode();
  const config = demoConfig(node);
  // /proc/vmstat is there before the agent's first tick reads it.
  await writeProc(node.procRoot, {
    swapInPages: START_SWAP_IO_PAGES / 2,
    swapOutPages: START_SWAP_IO_PAGES / 2,
  });
  const kube = createKubeClient(standinConnection(node.api, "demo"), {
    timeoutMs: API_TIMEOUT_MS,
    allowInsecureHttp: true,
  });
  const agent = new Agent(config, {
    sensor: hostSensor(denoHostFs, config.procRoot, config.cgroupRoot),
    clock: systemClock,
    kube,
    log: agentLogger("agent"),
  });

  const stop = new AbortController();
  const running = agent.run(stop.signal);
  await playScript(node);
  stop.abort();
  await running;
  kube.close();
  await node.api.close();
  await node.tree.dispose();
  await Deno.remove(node.hostDir, { recursive: true });
  summarize(node.api);
}

/** The node the agent watches: a cgroup tree, a /proc directory and the API stand-in. */
interface SyntheticNode {
  readonly tree: CgroupTree;
  readonly hostDir: string;
  readonly procRoot: string;
  readonly api: Awaited<ReturnType<typeof startApiStandin>>;
}

async function syntheticNode(): Promise<SyntheticNode> {
  say("A synthetic node: three pods in a kubelet-shaped cgroup tree (systemd driver)");
  const tree = await CgroupTree.create({ driver: "systemd" });
  const hostDir = await Deno.makeTempDir({ prefix: "soomkiller-demo-" });
  const procRoot = `${hostDir}/proc`;
  const pods = [
    { uid: DB, name: "db-0", namespace: "shop", container: "postgres", swap: 0, full: 0 },
    { uid: WEB, name: "web-1", namespace: "shop", container: "nginx", swap: 20 * MiB, full: 12 },
    { uid: BATCH, name: "report-7", namespace: "batch", container: "report", swap: 0, full: 0 },
  ];
  for (const [index, pod] of pods.entries()) {
    await tree.addPod({
      uid: pod.uid,
      qos: "burstable",
      swapCurrentBytes: pod.swap,
      fullAvg10Percent: pod.full,
      containers: [{
        id: fakeContainerId(index + 1),
        swapCurrentBytes: pod.swap,
        swapMaxBytes: 256 * MiB,
        // At their memory limit, as a container that swaps is: every new page goes to swap.
        memoryCurrentBytes: 512 * MiB,
        memoryMaxBytes: 512 * MiB,
      }],
    });
    console.log(
      `    ${pod.namespace}/${pod.name}  uid ${pod.uid}  cgroup ${tree.podPath(pod.uid)}`,
    );
  }
  const api = await startApiStandin({
    tls: false,
    pods: pods.map((pod, index) =>
      makePod({
        containerIds: { [pod.container]: fakeContainerId(index + 1) },
        name: pod.name,
        namespace: pod.namespace,
        uid: pod.uid,
        nodeName: NODE,
        terminationGracePeriodSeconds: 30,
      })
    ),
  });
  console.log(`    Kubernetes API stand-in at ${api.url}`);
  return { tree, hostDir, procRoot, api };
}

/** Armed, with short windows so the whole story fits in 20 s. */
function demoConfig(node: SyntheticNode): Config {
  const config: Config = {
    ...DEFAULTS,
    nodeName: NODE,
    procRoot: node.procRoot,
    cgroupRoot: node.tree.root,
    pollIntervalMs: 500,
    sustainedDurationMs: 3_000,
    cooldownPeriodMs: 5_000,
    dryRun: false,
    logFormat: "text",
    logLevel: "debug",
  };
  console.log(
    `    Agent: threshold ${config.swapIoThresholdPagesPerSecond} pages/s for ` +
      `${config.sustainedDurationMs / 1000} s, polled every ${config.pollIntervalMs} ms, ` +
      `psi threshold ${config.psiThresholdPercent}%, cooldown ${
        config.cooldownPeriodMs / 1000
      } s, ` +
      `early warning ${config.earlyWarningLookaheadMs / 60_000} min ahead of a swap limit`,
  );
  return config;
}

/**
 * The scripted node, 20 s in 250 ms steps: calm; db-0 starts to leak into swap (the early
 * warning, an Event on db-0, well before any action); then it thrashes and the node swaps
 * until the agent's DELETE; db-0 shuts down a second later and swap I/O stops.
 */
async function playScript(node: SyntheticNode): Promise<void> {
  const { tree, procRoot, api } = node;
  // Swap I/O per phase, pages/s (pswpin + pswpout).
  let swapIoPages = START_SWAP_IO_PAGES;
  let ratePagesPerSecond = 40;
  const startedMs = performance.now();
  let dbDeletedAtMs: number | null = null;
  let dbSwap = 0;

  let leaking = false;
  let warned = false;
  say("Calm: a little swap I/O, no API traffic");
  while (performance.now() - startedMs < 20_000) {
    const t = (performance.now() - startedMs) / 1000;
    if (t >= 1 && !leaking) {
      say("db-0 starts to leak into swap, 2 MiB/s toward its 256 MiB swap limit (~2 min left)");
      leaking = true;
    }
    const warning = api.events.find((e) => e.reason === "SoftOOMKillLikely");
    if (warning && !warned) {
      warned = true;
      say(`Early warning, before any action — kubectl describe pod db-0 shows:`);
      console.log(
        `    Warning  ${warning.reason}  ${warning.reportingController}  ${warning.note}`,
      );
    }
    if (warned && ratePagesPerSecond < 1_000 && dbDeletedAtMs === null && t >= 11) {
      say("db-0 thrashes: the node swaps ~2,600 pages/s, db-0's PSI climbs");
      ratePagesPerSecond = 2_600;
    }
    if (leaking && dbDeletedAtMs === null) {
      dbSwap += 0.5 * MiB;
      await tree.setPodSwap(DB, dbSwap);
      await tree.setContainer(DB, fakeContainerId(1), { swapCurrentBytes: dbSwap });
    }
    if (ratePagesPerSecond > 1_000 && dbDeletedAtMs === null) {
      await tree.setPodPressure(DB, Math.min(62, 20 + (t - 11) * 15), Math.min(80, 40 + t * 5));
    }
    const deleted = api.requests.find((r) => r.method === "DELETE");
    if (deleted && dbDeletedAtMs === null) {
      dbDeletedAtMs = performance.now();
      say(
        `The API got DELETE ${deleted.path} with preconditions.uid — db-0 gets SIGTERM and ` +
          "its 30 s grace period instead of the kernel's SIGKILL",
      );
    }
    if (dbDeletedAtMs !== null && performance.now() - dbDeletedAtMs > 1_000 && ratePagesPerSecond) {
      say("db-0 shut down cleanly and its cgroup is gone: swap I/O falls; the cooldown runs");
      await tree.removePod(DB);
      ratePagesPerSecond = 0;
    }
    swapIoPages += ratePagesPerSecond / 4;
    await writeProc(procRoot, {
      swapInPages: swapIoPages / 2,
      swapOutPages: swapIoPages / 2,
      // The node's swap in use follows the pods' (the agent walks the pods when it moves).
      swapFreeBytes: 2 * 1024 * MiB - 20 * MiB - (dbDeletedAtMs === null ? dbSwap : 0),
    });
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Every request the agent made; throws unless db-0 was deleted. */
function summarize(api: SyntheticNode["api"]): void {
  const summary = api.requests.map((r) => `${r.method} ${r.path}${r.search}`);
  say("API requests the agent made");
  for (const line of summary) console.log(`    ${line}`);
  const deleteAt = summary.findIndex((line) =>
    line.startsWith("DELETE /api/v1/namespaces/shop/pods/db-0")
  );
  if (deleteAt < 0) throw new Error("Demo failed: db-0 was not deleted");
  if (api.events.findIndex((e) => e.reason === "SoftOOMKillLikely") !== 0) {
    throw new Error("Demo failed: no early warning on db-0 before the action");
  }
  say(
    "Done: the early warning (a LIST to name the pod, one Event), then a LIST of the node's " +
      "pods, the DisruptionTarget condition and one DELETE on the pod that caused the " +
      "pressure, and its Event",
  );
}

if (import.meta.main) await demo();
