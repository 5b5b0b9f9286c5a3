import type { HostFs } from "./host_fs.ts";
import { flatKeyedCounter, lineValue, parseCounter } from "./flat_keyed.ts";

/** Cumulative swap-device I/O counters from `/proc/vmstat`. */
export interface SwapIoCounters {
  /** `pswpin`: pages read from swap since boot. */
  readonly swapInPages: number;
  /** `pswpout`: pages written to swap since boot. */
  readonly swapOutPages: number;
}

/** The `/proc/vmstat` counters the agent reads every tick. */
export interface VmstatCounters extends SwapIoCounters {
  /** `oom_kill`: OOM kills since boot, memory-cgroup kills included; null on kernels < 4.13. */
  readonly oomKills: number | null;
}

/**
 * Parses `/proc/vmstat` text; throws ParseError when pswpin/pswpout are missing or bad.
 * Keys are found by name (7.3 adds `nrswpin`/`nrswpout`, which must not match). Counters
 * above `Number.MAX_SAFE_INTEGER` are accepted with precision loss in the low digits.
 */
export function parseVmstat(text: string): VmstatCounters {
  const oomKills = lineValue(text, "oom_kill ");
  return {
    swapInPages: flatKeyedCounter("vmstat", text, "pswpin"),
    swapOutPages: flatKeyedCounter("vmstat", text, "pswpout"),
    oomKills: oomKills === undefined ? null : parseCounter("vmstat", "oom_kill", oomKills),
  };
}

/** Reads `<procRoot>/vmstat`. */
export async function readVmstat(fs: HostFs, procRoot: string): Promise<VmstatCounters> {
  return parseVmstat(await fs.readTextFile(`${procRoot}/vmstat`));
}
