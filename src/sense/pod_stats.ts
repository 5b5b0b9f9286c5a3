import type { HostFs } from "./host_fs.ts";
import { isVanished } from "./host_fs.ts";
import type { PodCgroup, QosClass } from "./cgroup_layout.ts";
import { flatKeyedCounter, parseBytes, parseBytesOrMax } from "./flat_keyed.ts";
import { parseMemoryStat, swapInFromRefaults, swapIoFromMemoryStat } from "./memory_stat.ts";
import { parsePressure } from "./pressure.ts";
import type { SwapIoCounters } from "./vmstat.ts";

/** Memory figures of one container cgroup. */
export interface ContainerStats {
  /** Container ID, as in `ContainerCgroup.id`. */
  readonly id: string;
  /** `memory.swap.current`, bytes. */
  readonly swapCurrentBytes: number;
  /** `memory.swap.max`, bytes; null when `max` (unlimited). */
  readonly swapMaxBytes: number | null;
  /** `memory.current`, bytes. */
  readonly memoryCurrentBytes: number;
  /** `memory.max`, bytes; null when `max`. */
  readonly memoryMaxBytes: number | null;
  /**
   * What the container's pages are, from its `memory.stat`: read only while it has swap in
   * use (the headroom estimator's footprint); absent otherwise, in traces from before it was
   * recorded, or when the kernel lacks a key.
   */
  readonly footprint?: ContainerFootprint;
}

/**
 * A container's swap-backed memory, from `memory.stat` (bytes). Swap churn moves pages
 * between RAM and swap and leaves `anon + shmem + swap − swapcached` flat: a page swapped
 * back in keeps its swap slot (in the swap cache) and is then counted in both.
 */
export interface ContainerFootprint {
  /** `anon`: anonymous pages in RAM (swap-cache pages included). */
  readonly anonBytes: number;
  /** `shmem`: shared memory and tmpfs in RAM (swap-backed, e.g. PostgreSQL's buffers). */
  readonly shmemBytes: number;
  /** `file`: page cache (shmem included), reclaimable in large part. */
  readonly fileBytes: number;
  /** `swapcached`: pages both in RAM and in swap. */
  readonly swapCachedBytes: number;
}

/** Memory figures of one pod cgroup. */
export interface PodStats {
  /** Pod UID from the cgroup path (dashes; 32 hex for static pods). */
  readonly uid: string;
  /** Absolute path of the pod cgroup directory. */
  readonly cgroupPath: string;
  /** QoS class from the cgroup path. */
  readonly qosClass: QosClass;
  /** `memory.swap.current` of the pod cgroup, bytes. */
  readonly swapCurrentBytes: number;
  /** `memory.current`, bytes. */
  readonly memoryCurrentBytes: number;
  /** `memory.max`, bytes; null when `max`. */
  readonly memoryMaxBytes: number | null;
  /** `memory.pressure` full avg10, percent; 0 when the kernel has no `full` line. */
  readonly fullAvg10Percent: number;
  /** `memory.pressure` some avg10, percent. */
  readonly someAvg10Percent: number;
  /** `memory.events` oom_kill (hierarchical), count since the cgroup was made. */
  readonly oomKillCount: number;
  /** Containers whose cgroup still existed when read, in `PodCgroup.containers` order. */
  readonly containers: readonly ContainerStats[];
  /**
   * The pod's own cumulative swap I/O (`pswpin`/`pswpout` in `memory.stat`, Linux ≥ 6.13);
   * null or absent when the kernel lacks the keys or `memory.stat` was not read.
   */
  readonly swapIo?: SwapIoCounters | null;
  /** Which `memory.stat` keys `swapIo` came from: exact, or swap-ins from anon refaults. */
  readonly swapIoSource?: SwapIoSource;
}

/** `pswpin`/`pswpout` (Linux ≥ 6.13), or `workingset_refault_anon` as swap-ins (≥ 5.9). */
export type SwapIoSource = "pswpin/pswpout" | "workingset_refault_anon";

/** What `readPodStats` reads beyond the essentials. */
export interface PodStatsOptions {
  /** Also read `memory.stat` for per-pod swap I/O (a larger file: only where it has the keys). */
  readonly memoryStat?: boolean;
}

/** The files read from a pod cgroup, in the order `readPodStats` uses them. */
const POD_FILES = [
  "memory.swap.current",
  "memory.current",
  "memory.max",
  "memory.pressure",
  "memory.events",
] as const;

/** The files read from a container cgroup. */
const CONTAINER_FILES = [
  "memory.swap.current",
  "memory.swap.max",
  "memory.current",
  "memory.max",
] as const;

/**
 * Reads `files` of the cgroup `dir` one after another (a handful of tiny files; one read
 * in flight per cgroup keeps the blocking-thread count low). Returns null when the cgroup
 * is gone. A file missing from a cgroup that still exists throws: the memory controller
 * or swap accounting is off there, which the agent cannot work around.
 */
async function readCgroupFiles(
  fs: HostFs,
  dir: string,
  files: readonly string[],
): Promise<string[] | null> {
  const texts: string[] = [];
  for (const file of files) {
    try {
      texts.push(await fs.readTextFile(`${dir}/${file}`));
    } catch (error) {
      if (!isVanished(error)) throw error;
      if (await cgroupGone(fs, dir)) return null;
      const hint = file.startsWith("memory.swap.")
        ? "swap accounting may be off (cgroup.memory=noswap or swapaccount=0 on the kernel command line)"
        : "the memory controller may not be enabled for this cgroup";
      throw new Error(
        `Cannot read "${dir}/${file}": the file is missing but its cgroup exists; ${hint}`,
      );
    }
  }
  return texts;
}

/** True when the cgroup directory no longer exists. Only runs after a failed read. */
async function cgroupGone(fs: HostFs, dir: string): Promise<boolean> {
  try {
    await fs.readDir(dir);
    return false;
  } catch (error) {
    if (isVanished(error)) return true;
    throw error;
  }
}

/**
 * The container's footprint figures from its `memory.stat`; null when the file or one of
 * the keys is missing (the cgroup vanished, or a kernel without them).
 */
async function readFootprint(fs: HostFs, dir: string): Promise<ContainerFootprint | null> {
  let text: string;
  try {
    text = await fs.readTextFile(`${dir}/memory.stat`);
  } catch (error) {
    if (isVanished(error)) return null;
    throw error;
  }
  return footprintFromMemoryStat(parseMemoryStat(text));
}

/** `anon`, `shmem`, `file`, `swapcached` of a parsed `memory.stat`; null without one of them. */
export function footprintFromMemoryStat(
  stat: ReadonlyMap<string, number>,
): ContainerFootprint | null {
  const anonBytes = stat.get("anon");
  const shmemBytes = stat.get("shmem");
  const fileBytes = stat.get("file");
  const swapCachedBytes = stat.get("swapcached");
  if (
    anonBytes === undefined || shmemBytes === undefined || fileBytes === undefined ||
    swapCachedBytes === undefined
  ) return null;
  return { anonBytes, shmemBytes, fileBytes, swapCachedBytes };
}

/**
 * Reads one pod's figures. Returns null when the pod cgroup vanished (normal churn).
 * Throws ParseError for a malformed file; the caller logs it for that pod and goes on.
 * A container whose cgroup vanished is left out of `containers`.
 */
export async function readPodStats(
  fs: HostFs,
  pod: PodCgroup,
  options: PodStatsOptions = {},
): Promise<PodStats | null> {
  const texts = await readCgroupFiles(fs, pod.path, POD_FILES);
  if (texts === null) return null;
  const [swapCurrent = "", memoryCurrent = "", memoryMax = "", pressureText = "", events = ""] =
    texts;
  const pressure = parsePressure(pressureText, "memory.pressure");
  const swapCurrentBytes = parseBytes("memory.swap.current", swapCurrent);
  const memoryCurrentBytes = parseBytes("memory.current", memoryCurrent);
  const memoryMaxBytes = parseBytesOrMax("memory.max", memoryMax);
  const oomKillCount = flatKeyedCounter("memory.events", events, "oom_kill");

  const containers: ContainerStats[] = [];
  for (const container of pod.containers) {
    const files = await readCgroupFiles(fs, container.path, CONTAINER_FILES);
    if (files === null) continue;
    const [cSwapCurrent = "", cSwapMax = "", cMemoryCurrent = "", cMemoryMax = ""] = files;
    const swapCurrentBytes = parseBytes("memory.swap.current", cSwapCurrent);
    // memory.stat only while the container swaps: a calm node pays nothing for it.
    const footprint = swapCurrentBytes > 0 ? await readFootprint(fs, container.path) : null;
    containers.push({
      id: container.id,
      swapCurrentBytes,
      swapMaxBytes: parseBytesOrMax("memory.swap.max", cSwapMax),
      memoryCurrentBytes: parseBytes("memory.current", cMemoryCurrent),
      memoryMaxBytes: parseBytesOrMax("memory.max", cMemoryMax),
      ...(footprint ? { footprint } : {}),
    });
  }

  let swapIo: SwapIoCounters | null = null;
  let swapIoSource: SwapIoSource | undefined;
  if (options.memoryStat) {
    const stat = await readCgroupFiles(fs, pod.path, ["memory.stat"]);
    if (stat === null) return null;
    const parsed = parseMemoryStat(stat[0] ?? "");
    swapIo = swapIoFromMemoryStat(parsed);
    if (swapIo) swapIoSource = "pswpin/pswpout";
    else {
      swapIo = swapInFromRefaults(parsed);
      if (swapIo) swapIoSource = "workingset_refault_anon";
    }
  }

  return {
    uid: pod.uid,
    cgroupPath: pod.path,
    qosClass: pod.qosClass,
    swapCurrentBytes,
    memoryCurrentBytes,
    memoryMaxBytes,
    fullAvg10Percent: pressure.full?.avg10Percent ?? 0,
    someAvg10Percent: pressure.some.avg10Percent,
    oomKillCount,
    containers,
    ...(options.memoryStat ? { swapIo } : {}),
    ...(swapIoSource ? { swapIoSource } : {}),
  };
}
