import type { HostFs } from "./host_fs.ts";
import { discoverPodCgroups } from "./cgroup_layout.ts";
import { mapLimit } from "./map_limit.ts";
import type { PodStats, PodStatsOptions } from "./pod_stats.ts";
import { readPodStats } from "./pod_stats.ts";

/** A pod (or the walk) that could not be read this time. */
export interface PodScanError {
  /** The pod cgroup, or the cgroup root when discovery itself failed. */
  readonly cgroupPath: string;
  /** The error's message, ready for the log. */
  readonly message: string;
}

/** The result of one scan of all pods on the node. */
export interface PodScan {
  /** Figures of every pod read without error, sorted by cgroup path. */
  readonly pods: PodStats[];
  /** Pods that failed (malformed file, permission …); vanished pods are not errors. */
  readonly errors: PodScanError[];
}

/** Pod cgroups read at once by default. */
const DEFAULT_CONCURRENCY = 16;

/** The message of any thrown value. */
function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Finds every pod cgroup under `cgroupRoot` and reads its figures, `concurrency` pods at
 * a time. Never throws: a pod that vanished is left out quietly, a pod that fails is
 * reported in `errors`, and a failed walk gives one error for `cgroupRoot`.
 */
export async function scanPods(
  fs: HostFs,
  cgroupRoot: string,
  concurrency = DEFAULT_CONCURRENCY,
  options: PodStatsOptions = {},
): Promise<PodScan> {
  const pods: PodStats[] = [];
  const errors: PodScanError[] = [];
  let cgroups;
  try {
    cgroups = await discoverPodCgroups(fs, cgroupRoot);
  } catch (error) {
    errors.push({ cgroupPath: cgroupRoot, message: messageOf(error) });
    return { pods, errors };
  }
  const results = await mapLimit(cgroups, concurrency, async (cgroup) => {
    try {
      return await readPodStats(fs, cgroup, options);
    } catch (error) {
      return { cgroupPath: cgroup.path, message: messageOf(error) };
    }
  });
  for (const result of results) {
    if (result === null) continue;
    if ("uid" in result) pods.push(result);
    else errors.push(result);
  }
  return { pods, errors };
}
