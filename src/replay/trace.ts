/**
 * The trace format of `kube-soomkiller record` and `replay`: JSON lines, one header, then
 * one line per tick with what the sensor read, and a `pods` line whenever pod names are
 * learned from the API. Plain data: a trace from a real kernel is a test fixture.
 */
import type { PodMeta } from "../decide/pod_meta.ts";
import type { Meminfo } from "../sense/meminfo.ts";
import type { PodStats } from "../sense/pod_stats.ts";

export const TRACE_VERSION = 1;

export interface TraceHeader {
  readonly kind: "header";
  readonly version: number;
  /** Poll interval the trace was recorded at, ms. */
  readonly pollIntervalMs: number;
  /** Node the trace was recorded on. */
  readonly nodeName: string;
  /** Wall-clock time of the first tick, ISO 8601 (for people; replay uses `tMs`). */
  readonly startedAt: string;
  /** Free text: kernel, workload, how it was recorded. */
  readonly note?: string;
}

export interface TraceTick {
  readonly kind: "tick";
  /** Monotonic offset from the start of the recording, ms. */
  readonly tMs: number;
  /** `/proc/vmstat` pswpin, pages. */
  readonly swapInPages: number;
  /** `/proc/vmstat` pswpout, pages. */
  readonly swapOutPages: number;
  readonly meminfo: Meminfo;
  /** Pods with swap in use or a kernel OOM kill (others cannot be chosen and are left out). */
  readonly pods: readonly PodStats[];
}

export interface TracePods {
  readonly kind: "pods";
  readonly tMs: number;
  /** The node's pods as the API listed them. */
  readonly pods: readonly PodMeta[];
}

export type TraceLine = TraceHeader | TraceTick | TracePods;

/** A parsed trace. */
export interface Trace {
  readonly header: TraceHeader;
  /** Ticks and pod lists in time order. */
  readonly lines: readonly (TraceTick | TracePods)[];
}

/** Parses trace text; throws an Error naming the line on malformed input. */
export function parseTrace(text: string, source = "trace"): Trace {
  let header: TraceHeader | null = null;
  const lines: (TraceTick | TracePods)[] = [];
  const rows = text.split("\n");
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!.trim();
    if (row === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(row);
    } catch (error) {
      throw new Error(`Cannot read ${source} line ${i + 1}: ${(error as Error).message}`);
    }
    const kind = (value as { kind?: unknown })?.kind;
    if (kind === "header" && header === null) header = checkHeader(value, source, i + 1);
    else if (kind === "tick") lines.push(checkTick(value, source, i + 1));
    else if (kind === "pods") lines.push(value as TracePods);
    else {throw new Error(
        `Cannot read ${source} line ${i + 1}: unknown kind ${JSON.stringify(kind)}`,
      );}
  }
  if (header === null) throw new Error(`Cannot read ${source}: no header line`);
  if (!lines.some((line) => line.kind === "tick")) {
    throw new Error(`Cannot read ${source}: no tick lines`);
  }
  return { header, lines };
}

function checkHeader(value: unknown, source: string, line: number): TraceHeader {
  const header = value as TraceHeader;
  if (header.version !== TRACE_VERSION) {
    throw new Error(
      `Cannot read ${source} line ${line}: version ${header.version}, expected ${TRACE_VERSION}`,
    );
  }
  if (!(header.pollIntervalMs > 0)) {
    throw new Error(`Cannot read ${source} line ${line}: pollIntervalMs must be above 0`);
  }
  return header;
}

function checkTick(value: unknown, source: string, line: number): TraceTick {
  const tick = value as TraceTick;
  for (const field of ["tMs", "swapInPages", "swapOutPages"] as const) {
    if (typeof tick[field] !== "number") {
      throw new Error(`Cannot read ${source} line ${line}: "${field}" is not a number`);
    }
  }
  if (typeof tick.meminfo !== "object" || !Array.isArray(tick.pods)) {
    throw new Error(`Cannot read ${source} line ${line}: "meminfo" or "pods" missing`);
  }
  return tick;
}

/** One trace line as JSON text (no newline). */
export function formatTraceLine(line: TraceLine): string {
  return JSON.stringify(line);
}
