/**
 * A synthetic node for the benchmarks: a kubelet-shaped cgroup tree with `pods` pods of
 * `containersPerPod` containers each (on a tmpfs when there is one), a calm fake `/proc`,
 * and the API objects of the same pods. A few pods swap under pressure, so that a full
 * window finds candidates.
 */
import type { V1Pod } from "@kubernetes/client-node";
import type { QosClass } from "../../src/sense/cgroup_layout.ts";
import { makePod } from "../fakes/api_standin.ts";
import { CgroupTree, fakeContainerId, fakePodUid, fastTempDir } from "../fakes/cgroup_tree.ts";
import { type FakeProcOptions, writeProc } from "../fakes/proc_tree.ts";

const MIB = 1024 * 1024;

/** The node name every synthetic pod runs on. */
export const BENCH_NODE = "bench-node";

/** What `buildSyntheticNode` makes. Optional fields default as in brackets. */
export interface SyntheticNodeOptions {
  /** Pods on the node [250]. */
  readonly pods?: number;
  /** Containers per pod, the sandbox included [3]. */
  readonly containersPerPod?: number;
  /** Pods that swap, with `memory.pressure` full avg10 from 70 % down [10]. */
  readonly swappingPods?: number;
  /** Where the temp directories go [`fastTempDir()`: /dev/shm when writable]. */
  readonly tempDir?: string;
  /**
   * meminfo shows the pods' swap as in use [true]. False shows all swap free, which keeps
   * the agent's periodic scan (while swap is in use) off: for experiments.
   */
  readonly swapInUse?: boolean;
  /** `memory.stat` has `pswpin`/`pswpout`, as on Linux ≥ 6.13 [false]. */
  readonly cgroupSwapIo?: boolean;
}

/** A synthetic node on disk; `dispose()` removes it. */
export interface SyntheticNode {
  /** The kubelet-shaped cgroup tree (its `root` is the agent's `--cgroup-root`). */
  readonly tree: CgroupTree;
  /** A temp directory holding `proc/` (and whatever else a caller puts there). */
  readonly hostDir: string;
  /**
   * The fake `/proc` (`--proc-root`): counters at 1,000 pages each, 8 GiB of RAM, 2 GiB of
   * swap of which the swapping pods use their share (so swap is in use, as on a real node).
   */
  readonly procRoot: string;
  /** Node swap in use per meminfo, bytes (the sum of the pods' swap). */
  readonly swapUsedBytes: number;
  /** Rewrites `/proc` with new swap I/O counters; meminfo stays as it was. */
  setSwapCounters(swapInPages: number, swapOutPages: number): Promise<void>;
  /** The pods' API objects, for the stand-in (all on `BENCH_NODE`). */
  readonly apiPods: V1Pod[];
  /** UIDs of the pods, in the order they were added. */
  readonly uids: readonly string[];
  /** Removes both temp directories. */
  dispose(): Promise<void>;
  /** Removes both temp directories synchronously (for `unload` handlers). */
  disposeSync(): void;
}

/** QoS class of pod `n`: mostly Burstable, as on a swap-enabled node. */
function qosOf(n: number): QosClass {
  return n % 10 === 0 ? "guaranteed" : n % 5 === 0 ? "besteffort" : "burstable";
}

/** Builds the node; see the module doc. A 250 × 3 node takes about a second on tmpfs. */
export async function buildSyntheticNode(
  options: SyntheticNodeOptions = {},
): Promise<SyntheticNode> {
  const podCount = options.pods ?? 250;
  const containersPerPod = options.containersPerPod ?? 3;
  const swapping = Math.min(options.swappingPods ?? 10, podCount);
  const tempDir = options.tempDir ?? fastTempDir();
  const tree = await CgroupTree.create({
    driver: "systemd",
    tempDir,
    cgroupSwapIo: options.cgroupSwapIo ?? false,
  });
  const hostDir = await Deno.makeTempDir({ prefix: "soomkiller-bench-", dir: tempDir });
  const procRoot = `${hostDir}/proc`;
  try {
    const uids: string[] = [];
    const apiPods: V1Pod[] = [];
    for (let n = 1; n <= podCount; n++) {
      const uid = fakePodUid(n);
      const qos = qosOf(n);
      // Pods 1..swapping swap (only Burstable pods get swap, but the agent does not care).
      const swapBytes = n <= swapping ? (swapping - n + 1) * 16 * MIB : 0;
      const containers = [];
      for (let c = 0; c < containersPerPod; c++) {
        const limited = qos !== "besteffort";
        containers.push({
          id: fakeContainerId(n * 16 + c),
          memoryCurrentBytes: (c === 0 ? 1 : 64 + (n % 7) * 16) * MIB,
          memoryMaxBytes: limited ? 512 * MIB : null,
          swapCurrentBytes: c === 1 ? swapBytes : 0,
          swapMaxBytes: qos === "burstable" ? 256 * MIB : 0,
        });
      }
      await tree.addPod({
        uid,
        qos,
        fullAvg10Percent: n <= swapping ? 70 - (n - 1) * 2 : 0,
        containers,
      });
      uids.push(uid);
      apiPods.push(
        makePod({
          name: `app-${n}`,
          namespace: `team-${n % 8}`,
          uid,
          nodeName: BENCH_NODE,
          terminationGracePeriodSeconds: 30,
        }),
      );
    }
    let swapUsedBytes = 0;
    if (options.swapInUse ?? true) {
      for (let n = 1; n <= swapping; n++) swapUsedBytes += (swapping - n + 1) * 16 * MIB;
    }
    const proc: FakeProcOptions = {
      swapTotalBytes: 2048 * MIB,
      swapFreeBytes: 2048 * MIB - swapUsedBytes,
    };
    await writeProc(procRoot, { ...proc, swapInPages: 1_000, swapOutPages: 1_000 });
    const base = tree.root.replace(/\/cgroup$/, "");
    return {
      tree,
      hostDir,
      procRoot,
      apiPods,
      uids,
      swapUsedBytes,
      setSwapCounters: (swapInPages, swapOutPages) =>
        writeProc(procRoot, { ...proc, swapInPages, swapOutPages }),
      async dispose() {
        await tree.dispose();
        await Deno.remove(hostDir, { recursive: true }).catch(() => {});
      },
      disposeSync() {
        for (const dir of [base, hostDir]) {
          try {
            Deno.removeSync(dir, { recursive: true });
          } catch {
            // Already gone.
          }
        }
      },
    };
  } catch (error) {
    await tree.dispose();
    await Deno.remove(hostDir, { recursive: true }).catch(() => {});
    throw error;
  }
}
