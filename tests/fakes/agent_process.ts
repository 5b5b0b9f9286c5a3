/**
 * `src/main.ts` as a subprocess against a fake node: a temp cgroup tree with two swapping
 * pods, a scripted /proc, the HTTPS API stand-in and a kubeconfig, under permissions shaped
 * like deno.json's "agent" set. Shared by the end-to-end tests.
 */
import { type ApiStandin, makePod, startApiStandin, writeKubeconfig } from "./api_standin.ts";
import { CgroupTree, fakeContainerId, fakePodUid } from "./cgroup_tree.ts";
import { writeProc } from "./proc_tree.ts";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;
export const NODE_TOKEN = "e2e-token";
/** shop/db-0: 180 MiB of swap, full avg10 62 %. */
export const VICTIM_UID = fakePodUid(1);
/** shop/web-1: 20 MiB of swap, full avg10 51 %. */
export const RUNNER_UP_UID = fakePodUid(2);

export interface FakeNode {
  readonly tree: CgroupTree;
  readonly api: ApiStandin;
  readonly procRoot: string;
  readonly kubeconfig: string;
  readonly hostDir: string;
  dispose(): Promise<void>;
}

/** A node "node-a" with two swapping pods, a calm /proc, the stand-in and a kubeconfig. */
export async function fakeNode(): Promise<FakeNode> {
  const tree = await CgroupTree.create({ driver: "systemd" });
  for (
    const [n, uid, swapMiB, full] of [[1, VICTIM_UID, 180, 62], [2, RUNNER_UP_UID, 20, 51]] as const
  ) {
    await tree.addPod({
      uid,
      qos: "burstable",
      swapCurrentBytes: swapMiB << 20,
      fullAvg10Percent: full,
      containers: [{
        id: fakeContainerId(n),
        swapCurrentBytes: swapMiB << 20,
        swapMaxBytes: 256 << 20,
      }],
    });
  }
  const hostDir = await Deno.makeTempDir({ prefix: "soomkiller-e2e-" });
  const procRoot = `${hostDir}/proc`;
  await writeProc(procRoot, { swapInPages: 1_000, swapOutPages: 1_000 });
  const api = await startApiStandin({
    tls: true,
    token: NODE_TOKEN,
    pods: [
      makePod({
        name: "db-0",
        namespace: "shop",
        uid: VICTIM_UID,
        nodeName: "node-a",
        containerIds: { mariadb: fakeContainerId(1) },
      }),
      makePod({
        name: "web-1",
        namespace: "shop",
        uid: RUNNER_UP_UID,
        nodeName: "node-a",
        containerIds: { nginx: fakeContainerId(2) },
      }),
      // Same namespace/name on another node: must never be touched.
      makePod({ name: "db-0", namespace: "other", uid: fakePodUid(3), nodeName: "node-b" }),
    ],
  });
  const kubeconfig = await writeKubeconfig(hostDir, {
    server: api.url,
    caPem: api.caPem,
    token: NODE_TOKEN,
  });
  return {
    tree,
    api,
    procRoot,
    kubeconfig,
    hostDir,
    async dispose() {
      await api.close();
      await tree.dispose();
      await Deno.remove(hostDir, { recursive: true });
    },
  };
}

/** Starts the agent on `node` with the same shape of permissions as the "agent" set. */
export function startAgent(node: FakeNode, flags: readonly string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      `--allow-read=${node.hostDir},${node.tree.root}`,
      "--allow-env=NODE_NAME,KUBECONFIG,KUBERNETES_SERVICE_HOST,KUBERNETES_SERVICE_PORT,POD_NAMESPACE",
      // As the "agent" set: any other variable reads as unset (npm yaml probes LOG_TOKENS).
      "--ignore-env",
      "--allow-net",
      MAIN,
      "--node-name=node-a",
      `--kubeconfig=${node.kubeconfig}`,
      `--proc-root=${node.procRoot}`,
      `--cgroup-root=${node.tree.root}`,
      ...flags,
    ],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
}

/** Sends SIGTERM (if still running) and collects the output and how long the stop took. */
export async function stopAgent(child: Deno.ChildProcess) {
  const sentMs = performance.now();
  try {
    child.kill("SIGTERM");
  } catch {
    // Already exited: the assertions on its exit code and output say why.
  }
  const output = await child.output();
  return { output, stopMs: performance.now() - sentMs };
}

/** Raises the node's swap counters by `ratePagesPerSecond` every 250 ms until stopped. */
export function scriptSwapIo(procRoot: string, ratePagesPerSecond: number): () => void {
  let pages = 1_000;
  const timer = setInterval(() => {
    pages += ratePagesPerSecond / 4;
    writeProc(procRoot, { swapInPages: pages, swapOutPages: pages }).catch(() => {});
  }, 250);
  return () => clearInterval(timer);
}

/** Polls `check` every 50 ms until it holds or `timeoutMs` passes. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return await check();
}

/** A TCP port free right now on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** The JSON log lines of an output. */
export function jsonLines(bytes: Uint8Array): Record<string, unknown>[] {
  return new TextDecoder().decode(bytes).split("\n").filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line));
}
