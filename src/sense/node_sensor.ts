/**
 * Everything the agent senses, behind one interface: the host's files in production,
 * a recorded trace in `replay`. The loop never touches files directly.
 */
import { type HostFs, isVanished } from "./host_fs.ts";
import { type Meminfo, readMeminfo } from "./meminfo.ts";
import { type PodScan, scanPods } from "./pod_scan.ts";
import { readVmstat, type SwapIoCounters, type VmstatCounters } from "./vmstat.ts";

export interface NodeSensor {
  /**
   * Cumulative node swap I/O counters (`/proc/vmstat`), with the node's OOM-kill count
   * where the source has it. Throws when unreadable.
   */
  readSwapIo(): Promise<SwapIoCounters & Partial<Pick<VmstatCounters, "oomKills">>>;
  /** Node memory and swap totals (`/proc/meminfo`). Throws when unreadable. */
  readMeminfo(): Promise<Meminfo>;
  /** Every pod cgroup's figures. Never throws. */
  scanPods(): Promise<PodScan>;
  /**
   * A pod's `memory.swap.current` right now, bytes, for the re-check before acting:
   * "gone" when its cgroup vanished, null when it cannot be told.
   */
  recheckSwapBytes(cgroupPath: string): Promise<number | "gone" | null>;
}

/** The live sensor over the host view (`--proc-root`, `--cgroup-root`). */
export function hostSensor(fs: HostFs, procRoot: string, cgroupRoot: string): NodeSensor {
  // Per-pod swap I/O lives in memory.stat from Linux 6.13 on. Read it on the first scan
  // that finds pods; keep reading it only if the keys are there (detected, never guessed
  // from the kernel version), so older kernels never pay for the larger file.
  let memoryStat: boolean | "unknown" = "unknown";
  return {
    readSwapIo: () => readVmstat(fs, procRoot),
    readMeminfo: () => readMeminfo(fs, procRoot),
    async scanPods() {
      const scan = await scanPods(fs, cgroupRoot, undefined, { memoryStat: memoryStat !== false });
      if (memoryStat === "unknown" && scan.pods.length > 0) {
        memoryStat = scan.pods.some((pod) => pod.swapIo);
      }
      return scan;
    },
    async recheckSwapBytes(cgroupPath) {
      try {
        const value = Number((await fs.readTextFile(`${cgroupPath}/memory.swap.current`)).trim());
        return Number.isFinite(value) ? value : null;
      } catch (error) {
        return isVanished(error) ? "gone" : null;
      }
    },
  };
}
