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
  /** `/proc/vmstat` oom_kill (absent in traces from before it was recorded). */
  readonly oomKills?: number | null;
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
    if (kind === "header" && header !== null) {
      throw new Error(`Cannot read ${source} line ${i + 1}: a second header line`);
    }
    if (kind === "header") header = checkHeader(value, source, i + 1);
    else if (kind === "tick") lines.push(checkTick(value, source, i + 1));
    else if (kind === "pods") lines.push(checkPods(value, source, i + 1));
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

/** The poll intervals a trace may carry, ms: the range of `--poll-interval`. */
const POLL_INTERVAL_RANGE_MS = [10, 60_000] as const;

/**
 * An ISO 8601 time as `record` writes it (`Date.prototype.toISOString`, whose years outside
 * 0-9999 have a sign and six digits).
 */
const ISO_TIME =
  /^(?:\d{4}|[+-]\d{6})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/**
 * A node name as `record` may have written it (`--node-name` as given): text of 1 to 253
 * characters, none of them a control character.
 */
// deno-lint-ignore no-control-regex -- matching control characters is the point
const NODE_NAME = /^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]{1,253}$/;

/** Every field of the header, checked: each reader (replay, the page) trusts its type. */
function checkHeader(value: unknown, source: string, line: number): TraceHeader {
  const fail = (detail: string): never => {
    throw new Error(`Cannot read ${source} line ${line}: ${detail}`);
  };
  const shown = (v: unknown) => (JSON.stringify(v) ?? String(v)).slice(0, 80);
  if (!isRecord(value)) return fail("the header is not an object");
  const { version, pollIntervalMs, nodeName, startedAt, note } = value;
  if (version !== TRACE_VERSION) fail(`version ${shown(version)}, expected ${TRACE_VERSION}`);
  const [minMs, maxMs] = POLL_INTERVAL_RANGE_MS;
  if (
    typeof pollIntervalMs !== "number" || !Number.isFinite(pollIntervalMs) ||
    pollIntervalMs < minMs || pollIntervalMs > maxMs
  ) {
    fail(
      `"pollIntervalMs" must be a number of ms from ${minMs} to ${maxMs}, not ${
        shown(pollIntervalMs)
      }`,
    );
  }
  if (typeof nodeName !== "string" || !NODE_NAME.test(nodeName)) {
    fail(
      `"nodeName" must be a node name (1 to 253 characters, no control character), not ${
        shown(nodeName)
      }`,
    );
  }
  if (
    typeof startedAt !== "string" || !ISO_TIME.test(startedAt) ||
    !Number.isFinite(Date.parse(startedAt))
  ) {
    fail(`"startedAt" must be an ISO 8601 time, not ${shown(startedAt)}`);
  }
  if (note !== undefined && typeof note !== "string") {
    fail(`"note" must be text, not ${shown(note)}`);
  }
  return {
    kind: "header",
    version: TRACE_VERSION,
    pollIntervalMs: pollIntervalMs as number,
    nodeName: nodeName as string,
    startedAt: startedAt as string,
    ...(note === undefined ? {} : { note: note as string }),
  };
}

function checkTick(value: unknown, source: string, line: number): TraceTick {
  const tick = value as TraceTick;
  const fail = (detail: string): never => {
    throw new Error(`Cannot read ${source} line ${line}: ${detail}`);
  };
  for (const field of ["tMs", "swapInPages", "swapOutPages"] as const) {
    if (typeof tick[field] !== "number") fail(`"${field}" is not a number`);
  }
  if (!isRecord(tick.meminfo) || !Array.isArray(tick.pods)) fail(`"meminfo" or "pods" missing`);
  for (const field of MEMINFO_FIELDS) {
    if (typeof tick.meminfo[field] !== "number") fail(`"meminfo.${field}" is not a number`);
  }
  tick.pods.forEach((pod, i) => {
    if (!isRecord(pod) || typeof pod.uid !== "string" || typeof pod.cgroupPath !== "string") {
      fail(`"pods[${i}]" has no "uid" or "cgroupPath"`);
    }
    for (const field of POD_NUMBERS) {
      if (typeof pod[field] !== "number") fail(`"pods[${i}].${field}" is not a number`);
    }
    if (!Array.isArray(pod.containers)) fail(`"pods[${i}].containers" is not a list`);
    (pod.containers as unknown[]).forEach((c, j) => {
      const at = `"pods[${i}].containers[${j}]`;
      if (!isRecord(c) || typeof c.id !== "string") fail(`${at}" has no "id"`);
      const container = c as Record<string, unknown>;
      for (const field of ["swapCurrentBytes", "memoryCurrentBytes"]) {
        if (typeof container[field] !== "number") fail(`${at}.${field}" is not a number`);
      }
      for (const field of ["swapMaxBytes", "memoryMaxBytes"]) {
        const value = container[field];
        if (value !== null && typeof value !== "number") {
          fail(`${at}.${field}" is neither a number nor null`);
        }
      }
    });
  });
  return tick;
}

function checkPods(value: unknown, source: string, line: number): TracePods {
  const pods = value as TracePods;
  const ok = typeof pods.tMs === "number" && Array.isArray(pods.pods) &&
    pods.pods.every((pod) =>
      isRecord(pod) && typeof pod.uid === "string" && typeof pod.namespace === "string" &&
      typeof pod.name === "string"
    );
  if (!ok) {
    throw new Error(
      `Cannot read ${source} line ${line}: "pods" must list pods with uid, namespace and name`,
    );
  }
  // What the agent reads of each pod (decide/pod_meta.ts), when present, of its own type.
  pods.pods.forEach((pod, i) => {
    const record = pod as unknown as Record<string, unknown>;
    const wrong = (field: string, what: string) => {
      throw new Error(`Cannot read ${source} line ${line}: "pods[${i}].${field}" is not ${what}`);
    };
    const optional = (field: string, type: "string" | "boolean" | "number", nullable: boolean) => {
      const value = record[field];
      if (value === undefined || (nullable && value === null)) return;
      const ok = type === "string"
        ? typeof value === "string"
        : type === "boolean"
        ? typeof value === "boolean"
        : typeof value === "number";
      if (!ok) wrong(field, nullable ? `a ${type} or null` : `a ${type}`);
    };
    optional("nodeName", "string", false);
    optional("terminating", "boolean", false);
    optional("mirrorOfUid", "string", true);
    optional("priority", "number", true);
    optional("terminationGracePeriodSeconds", "number", true);
    const annotations = record.annotations;
    if (
      annotations !== undefined &&
      (!isRecord(annotations) || Object.values(annotations).some((v) => typeof v !== "string"))
    ) {
      wrong("annotations", "a mapping of strings");
    }
  });
  return pods;
}

const MEMINFO_FIELDS = [
  "memTotalBytes",
  "memAvailableBytes",
  "swapTotalBytes",
  "swapFreeBytes",
] as const;

const POD_NUMBERS = [
  "swapCurrentBytes",
  "memoryCurrentBytes",
  "fullAvg10Percent",
  "someAvg10Percent",
  "oomKillCount",
] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** One trace line as JSON text (no newline). */
export function formatTraceLine(line: TraceLine): string {
  return JSON.stringify(line);
}
