import { parseFlatKeyed } from "./flat_keyed.ts";
import type { SwapIoCounters } from "./vmstat.ts";

/**
 * Parses a cgroup's `memory.stat` into a map of key → value (bytes for sizes, counts for
 * events). Keys differ between kernels and new ones appear anywhere: look them up by name.
 * Throws ParseError on a malformed line.
 */
export function parseMemoryStat(text: string): ReadonlyMap<string, number> {
  return parseFlatKeyed("memory.stat", text);
}

/**
 * The cgroup's own swap-device I/O from a parsed `memory.stat`: `pswpin`/`pswpout`
 * (pages, hierarchical), which exist from Linux 6.13 on. Null when the kernel lacks them:
 * detect by key, never by kernel version.
 */
export function swapIoFromMemoryStat(stat: ReadonlyMap<string, number>): SwapIoCounters | null {
  const swapInPages = stat.get("pswpin");
  const swapOutPages = stat.get("pswpout");
  if (swapInPages === undefined || swapOutPages === undefined) return null;
  return { swapInPages, swapOutPages };
}

/**
 * Where the kernel lacks per-cgroup `pswpin`/`pswpout` (before 6.13): the cgroup's anon
 * refaults, `workingset_refault_anon` (Linux ≥ 5.9), as its swap-in count: every refault of
 * an evicted anon page is a swap-in (from the device or zswap). Swap-out is left at 0: the
 * matching `pgsteal` counts file pages too. On the captured kernels an anon-only workload
 * shows refaults equal to its swap-ins (6.12: 78494 and 7.3: 73561 = pswpin). Null without
 * the key.
 */
export function swapInFromRefaults(stat: ReadonlyMap<string, number>): SwapIoCounters | null {
  const refaults = stat.get("workingset_refault_anon");
  return refaults === undefined ? null : { swapInPages: refaults, swapOutPages: 0 };
}
