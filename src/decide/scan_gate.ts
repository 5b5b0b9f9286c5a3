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
}

export const INITIAL_SCAN_GATE: ScanGateState = {
  lastScanMs: null,
  swapUsedAtScanBytes: 0,
  tracking: false,
};

/** Node swap-in-use change that warrants a scan, bytes. */
export const SCAN_SWAP_DELTA_BYTES = 1 << 20;
/** A scan at least this often while any swap is in use (kernel OOM-kill accounting), ms. */
export const SCAN_MAX_INTERVAL_MS = 60_000;

export type ScanReason =
  | "first"
  | "node trigger"
  | "tracking growth"
  | "swap in use changed"
  | "periodic"
  | "evictions blocked";

/**
 * Whether to scan now, and why; null means skip. `evictionsBlocked`: every candidate's
 * eviction was blocked, so each tick retries them.
 */
export function scanReason(
  gate: ScanGateState,
  nowMs: number,
  swapUsedBytes: number,
  nodeTriggerSustained: boolean,
  evictionsBlocked = false,
): ScanReason | null {
  if (gate.lastScanMs === null) return "first";
  if (nodeTriggerSustained) return "node trigger";
  if (evictionsBlocked) return "evictions blocked";
  if (gate.tracking) return "tracking growth";
  if (Math.abs(swapUsedBytes - gate.swapUsedAtScanBytes) >= SCAN_SWAP_DELTA_BYTES) {
    return "swap in use changed";
  }
  if (swapUsedBytes > 0 && nowMs - gate.lastScanMs >= SCAN_MAX_INTERVAL_MS) return "periodic";
  return null;
}

/** The gate after a scan. */
export function scanned(nowMs: number, swapUsedBytes: number, tracking: boolean): ScanGateState {
  return { lastScanMs: nowMs, swapUsedAtScanBytes: swapUsedBytes, tracking };
}
