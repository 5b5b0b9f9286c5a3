/**
 * When to walk the pod cgroups. A walk reads a handful of files per pod, so it must not
 * happen every second on a calm node; but the headroom estimate needs readings while any
 * container's swap grows. Pure.
 */

export interface ScanGateState {
  /** When the last scan ran (monotonic ms); null before the first. */
  readonly lastScanMs: number | null;
  /** Node swap in use at the last scan, bytes. */
  readonly swapUsedAtScanBytes: number;
  /** True when the last scan saw a container whose swap is heading for its limit. */
  readonly tracking: boolean;
  /** Node `oom_kill` (vmstat) at the last scan; null when the kernel lacks it. */
  readonly oomKillsAtScan: number | null;
}

export const INITIAL_SCAN_GATE: ScanGateState = {
  lastScanMs: null,
  swapUsedAtScanBytes: 0,
  tracking: false,
  oomKillsAtScan: null,
};

/** What the gate looks at on each tick. */
export interface ScanInputs {
  /** Node swap in use (SwapTotal − SwapFree), bytes. */
  readonly swapUsedBytes: number;
  /** Node `oom_kill` from vmstat; null on kernels without it. */
  readonly oomKills: number | null;
  /** The swap-io window is full. */
  readonly nodeTriggerSustained: boolean;
  /** Every candidate's eviction was blocked, so each tick retries them. */
  readonly evictionsBlocked: boolean;
}

/** Node swap-in-use change that warrants a scan, bytes. */
export const SCAN_SWAP_DELTA_BYTES = 1 << 20;
/**
 * Kernels without vmstat `oom_kill` only: a scan at least this often while swap is in use,
 * so kernel OOM kills are still counted, ms. Elsewhere a kill is seen the tick it happens.
 */
export const SCAN_MAX_INTERVAL_MS = 60_000;

export type ScanReason =
  | "first"
  | "node trigger"
  | "tracking growth"
  | "swap in use changed"
  | "kernel OOM kill"
  | "periodic"
  | "evictions blocked";

/** Whether to scan now, and why; null means skip. */
export function scanReason(
  gate: ScanGateState,
  nowMs: number,
  inputs: ScanInputs,
): ScanReason | null {
  if (gate.lastScanMs === null) return "first";
  if (inputs.nodeTriggerSustained) return "node trigger";
  if (inputs.evictionsBlocked) return "evictions blocked";
  if (gate.tracking) return "tracking growth";
  if (Math.abs(inputs.swapUsedBytes - gate.swapUsedAtScanBytes) >= SCAN_SWAP_DELTA_BYTES) {
    return "swap in use changed";
  }
  if (inputs.oomKills !== null) {
    return gate.oomKillsAtScan !== null && inputs.oomKills !== gate.oomKillsAtScan
      ? "kernel OOM kill"
      : null;
  }
  if (inputs.swapUsedBytes > 0 && nowMs - gate.lastScanMs >= SCAN_MAX_INTERVAL_MS) {
    return "periodic";
  }
  return null;
}

/** The gate after a scan. */
export function scanned(nowMs: number, inputs: ScanInputs, tracking: boolean): ScanGateState {
  return {
    lastScanMs: nowMs,
    swapUsedAtScanBytes: inputs.swapUsedBytes,
    tracking,
    oomKillsAtScan: inputs.oomKills,
  };
}
