import type { HostFs } from "./host_fs.ts";
import { ParseError } from "./parse_error.ts";

/** Cumulative swap-device I/O counters from `/proc/vmstat`. */
export interface SwapIoCounters {
  /** `pswpin`: pages read from swap since boot. */
  readonly swapInPages: number;
  /** `pswpout`: pages written to swap since boot. */
  readonly swapOutPages: number;
}

/** Parses `/proc/vmstat` text; throws ParseError when pswpin/pswpout are missing or bad. */
export function parseVmstat(text: string): SwapIoCounters {
  void text;
  throw new ParseError("vmstat", "not implemented");
}

/** Reads `<procRoot>/vmstat`. */
export async function readVmstat(fs: HostFs, procRoot: string): Promise<SwapIoCounters> {
  return parseVmstat(await fs.readTextFile(`${procRoot}/vmstat`));
}
