import type { HostFs } from "./host_fs.ts";
import { ParseError } from "./parse_error.ts";

/** The `/proc/meminfo` fields the agent uses, in bytes. */
export interface Meminfo {
  readonly memTotalBytes: number;
  readonly memAvailableBytes: number;
  readonly swapTotalBytes: number;
  readonly swapFreeBytes: number;
}

/** Parses `/proc/meminfo` text (values in kB → bytes); throws ParseError when a field is missing. */
export function parseMeminfo(text: string): Meminfo {
  void text;
  throw new ParseError("meminfo", "not implemented");
}

/** Reads `<procRoot>/meminfo`. */
export async function readMeminfo(fs: HostFs, procRoot: string): Promise<Meminfo> {
  return parseMeminfo(await fs.readTextFile(`${procRoot}/meminfo`));
}
