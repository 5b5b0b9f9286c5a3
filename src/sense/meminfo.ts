import type { HostFs } from "./host_fs.ts";
import { lineValue, parseCounter } from "./flat_keyed.ts";
import { ParseError } from "./parse_error.ts";

/** The `/proc/meminfo` fields the agent uses, in bytes. */
export interface Meminfo {
  /** `MemTotal`: usable RAM, bytes. */
  readonly memTotalBytes: number;
  /** `MemAvailable`: the kernel's estimate of memory available without swapping, bytes. */
  readonly memAvailableBytes: number;
  /** `SwapTotal`: all swap devices, bytes; 0 on a node without swap. */
  readonly swapTotalBytes: number;
  /** `SwapFree`: unused swap, bytes. */
  readonly swapFreeBytes: number;
}

/** One `Name:   123 kB` field of meminfo, in bytes. */
function kibField(text: string, name: string): number {
  const raw = lineValue(text, name + ":");
  if (raw === undefined) throw new ParseError("meminfo", `missing "${name}"`);
  const digits = raw.endsWith(" kB") ? raw.slice(0, -3).trimEnd() : raw;
  return parseCounter("meminfo", name, digits) * 1024;
}

/** Parses `/proc/meminfo` text (values in kB → bytes); throws ParseError when a field is missing. */
export function parseMeminfo(text: string): Meminfo {
  return {
    memTotalBytes: kibField(text, "MemTotal"),
    memAvailableBytes: kibField(text, "MemAvailable"),
    swapTotalBytes: kibField(text, "SwapTotal"),
    swapFreeBytes: kibField(text, "SwapFree"),
  };
}

/** Reads `<procRoot>/meminfo`. */
export async function readMeminfo(fs: HostFs, procRoot: string): Promise<Meminfo> {
  return parseMeminfo(await fs.readTextFile(`${procRoot}/meminfo`));
}
