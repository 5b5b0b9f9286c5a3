import type { HostFs } from "./host_fs.ts";
import { flatKeyedCounter } from "./flat_keyed.ts";

/** Cumulative swap-device I/O counters from `/proc/vmstat`. */
export interface SwapIoCounters {
  /** `pswpin`: pages read from swap since boot. */
  readonly swapInPages: number;
  /** `pswpout`: pages written to swap since boot. */
  readonly swapOutPages: number;
}

/**
 * Parses `/proc/vmstat` text; throws ParseError when pswpin/pswpout are missing or bad.
 * Keys are found by name (7.3 adds `nrswpin`/`nrswpout`, which must not match). Counters
 * above `Number.MAX_SAFE_INTEGER` are accepted with precision loss in the low digits.
 */
export function parseVmstat(text: string): SwapIoCounters {
  return {
    swapInPages: flatKeyedCounter("vmstat", text, "pswpin"),
    swapOutPages: flatKeyedCounter("vmstat", text, "pswpout"),
  };
}

/** Reads `<procRoot>/vmstat`. */
export async function readVmstat(fs: HostFs, procRoot: string): Promise<SwapIoCounters> {
  return parseVmstat(await fs.readTextFile(`${procRoot}/vmstat`));
}
