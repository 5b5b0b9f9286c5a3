/**
 * Swap headroom: per container, how long until the kernel OOM-kills it. Under LimitedSwap a
 * container that sits at `memory.max` and has filled `memory.swap.max` is SIGKILLed when it
 * needs one more page; the pod needs its grace period before that moment. Pure.
 *
 * What is followed is the container's swap-backed footprint, `anon + shmem + swap −
 * swapcached` (`memory.stat`, `memory.swap.current`): what the kernel must hold in RAM or in
 * swap. Swap churn moves pages between the two and leaves it flat (a page swapped back in
 * keeps its slot in the swap cache and is counted in both); a leak or a warm-up raises it.
 * Its growth is held against the room the kernel leaves: the swap left under
 * `memory.swap.max` (and on the node), plus free memory under `memory.max` and page cache
 * that is not shmem (both can take a new anon page without a swap slot). Where `memory.stat`
 * was not read (traces from before it was recorded), `memory.swap.current` against the swap
 * limit, as before.
 */
import type { ContainerStats, PodStats } from "../sense/pod_stats.ts";
import { HEADROOM_ESTIMATOR, type HeadroomSettings } from "./headroom_settings.ts";
import { intervalRate, type LevelPoint, projectLevel, secondsToLimit } from "./level_projection.ts";

/** Which level a container's readings follow. */
export type LevelSource = "footprint" | "memory.swap.current";

/** Recent readings of one container: one source throughout (a change starts over). */
export interface ContainerTrack {
  readonly source: LevelSource;
  readonly points: readonly LevelPoint[];
}

/** Recent readings per container, keyed `podUid/containerId`. */
export type HeadroomState = ReadonlyMap<string, ContainerTrack>;

export const INITIAL_HEADROOM_STATE: HeadroomState = new Map();

/** What the estimator says of one container. */
export interface ContainerHeadroom {
  readonly podUid: string;
  readonly containerId: string;
  /** `memory.swap.current`, bytes. */
  readonly swapBytes: number;
  /** The swap it may still reach before the kernel kills it, bytes (see `limitSource`). */
  readonly swapLimitBytes: number;
  /** `memory.swap.max`, or the node's free swap when that is lower or the limit is `max`. */
  readonly limitSource: "memory.swap.max" | "node free swap";
  /** Swap in use as a share of the limit, percent. */
  readonly swapFullPercent: number;
  /** What the projection follows: the footprint, or swap where memory.stat was not read. */
  readonly levelSource: LevelSource;
  /** That level now, bytes. */
  readonly levelBytes: number;
  /** The level at which the kernel kills it: the level now plus the room left, bytes. */
  readonly levelLimitBytes: number;
  /** Growth now, bytes/s; null without sustained growth. */
  readonly growthBytesPerSecond: number | null;
  /**
   * Where swap levels off, bytes ("plateau" model, growth slowing down); null when it is
   * projected in a straight line or not growing.
   */
  readonly plateauBytes: number | null;
  /**
   * Projected seconds until the limit; null when not growing, or when the growth levels
   * off below the limit.
   */
  readonly secondsLeft: number | null;
  /** How long the projected growth has been seen, s; null when not growing. */
  readonly observedSeconds: number | null;
  /**
   * The projection reaches no further than `maxExtrapolationRatio` × the growth seen: only
   * then is `secondsLeft` acted on.
   */
  readonly credible: boolean;
  /** True when `memory.current` is at `memory.max`: every new page must go to swap. */
  readonly atMemoryMax: boolean;
  /** True when the level grew since the previous reading: the agent then reads every tick. */
  readonly growing: boolean;
}

/**
 * Adds this scan's readings and estimates every container that can swap. Containers that
 * cannot swap (`memory.swap.max` 0) are left out; vanished ones are forgotten.
 */
export function updateHeadroom(
  state: HeadroomState,
  pods: readonly PodStats[],
  nodeSwapFreeBytes: number,
  nowMs: number,
  settings: HeadroomSettings = HEADROOM_ESTIMATOR,
): { state: HeadroomState; containers: ContainerHeadroom[] } {
  const next = new Map<string, ContainerTrack>();
  const containers: ContainerHeadroom[] = [];
  for (const pod of pods) {
    for (const container of pod.containers) {
      if (container.swapMaxBytes === 0) continue;
      const key = `${pod.uid}/${container.id}`;
      const reading = levelOf(container, nodeSwapFreeBytes, settings);
      const previous = state.get(key);
      const kept = previous?.source === reading.source ? previous.points : [];
      const points = [
        ...kept.filter((p) => nowMs - p.atMs <= settings.estimateWindowMs && p.atMs < nowMs),
        { atMs: nowMs, levelBytes: reading.levelBytes },
      ];
      next.set(key, { source: reading.source, points });
      containers.push(estimate(pod.uid, container, reading, points, settings));
    }
  }
  return { state: next, containers };
}

/** A container's level now, and the room the kernel leaves it. */
interface LevelReading {
  readonly source: LevelSource;
  readonly levelBytes: number;
  /** How much more the level can take before the kernel kills, bytes. */
  readonly roomBytes: number;
  /** Swap left before `memory.swap.max` or the node's free swap, bytes. */
  readonly swapRoomBytes: number;
  readonly limitSource: ContainerHeadroom["limitSource"];
}

/** The level the settings follow, from one container's figures. */
export function levelOf(
  container: ContainerStats,
  nodeSwapFreeBytes: number,
  settings: Pick<HeadroomSettings, "level">,
): LevelReading {
  const swapBytes = container.swapCurrentBytes;
  // The swap left is the smaller of the container's own limit and the node's free swap.
  const ownRoom = container.swapMaxBytes === null ? Infinity : container.swapMaxBytes - swapBytes;
  const nodeRoom = Math.max(0, nodeSwapFreeBytes);
  const limitSource = ownRoom <= nodeRoom ? "memory.swap.max" : "node free swap";
  const swapRoomBytes = Math.max(0, Math.min(ownRoom, nodeRoom));
  const f = container.footprint;
  if (settings.level === "swap" || f === undefined) {
    return {
      source: "memory.swap.current",
      levelBytes: swapBytes,
      roomBytes: swapRoomBytes,
      swapRoomBytes,
      limitSource,
    };
  }
  // Besides free swap, a new anon page fits where the kernel can still make room without a
  // swap slot: free memory under memory.max, page cache that is not shmem (dropped or
  // written back). Swap-cache pages are not counted as room: measured (Redis with its fork
  // for BGSAVE, tests/fixtures/traces/6.12-redis-persist-small.jsonl) the kernel OOM-killed
  // with swap full and 41 MiB of them in RAM, pinned by the child's mappings and the
  // parent's swap entries.
  const freeMemory = container.memoryMaxBytes === null
    ? 0
    : Math.max(0, container.memoryMaxBytes - container.memoryCurrentBytes);
  const pageCache = Math.max(0, f.fileBytes - f.shmemBytes);
  return {
    source: "footprint",
    levelBytes: f.anonBytes + f.shmemBytes + swapBytes - f.swapCachedBytes,
    roomBytes: swapRoomBytes + freeMemory + pageCache,
    swapRoomBytes,
    limitSource,
  };
}

function estimate(
  podUid: string,
  container: ContainerStats,
  reading: LevelReading,
  points: readonly LevelPoint[],
  settings: HeadroomSettings,
): ContainerHeadroom {
  const swapBytes = container.swapCurrentBytes;
  const swapLimitBytes = swapBytes + reading.swapRoomBytes;
  const levelLimitBytes = reading.levelBytes + reading.roomBytes;
  const projection = projectLevel(points, settings);
  // The projection starts from the level on its fitted line: a jump in the latest reading
  // (the swap cache filling for a second) neither sets it nor eats the room.
  const secondsLeft = projection === null
    ? null
    : secondsToLimit(projection, levelLimitBytes - projection.levelBytes);
  const previous = points.length >= 2 ? points[points.length - 2]! : null;
  const growing = previous !== null &&
    intervalRate(previous, points[points.length - 1]!) >= settings.minGrowthBytesPerSecond;
  // Reported in swap terms: where swap levels off if the rest stays as it is now.
  const plateauBytes = projection?.plateauBytes == null
    ? null
    : projection.plateauBytes - (reading.levelBytes - swapBytes);
  return {
    podUid,
    containerId: container.id,
    swapBytes,
    swapLimitBytes,
    limitSource: reading.limitSource,
    swapFullPercent: swapLimitBytes > 0 ? (swapBytes / swapLimitBytes) * 100 : 0,
    levelSource: reading.source,
    levelBytes: reading.levelBytes,
    levelLimitBytes,
    growthBytesPerSecond: projection?.growthBytesPerSecond ?? null,
    plateauBytes,
    secondsLeft,
    observedSeconds: projection?.observedSeconds ?? null,
    credible: projection !== null && secondsLeft !== null &&
      secondsLeft <= settings.maxExtrapolationRatio * projection.observedSeconds,
    atMemoryMax: container.memoryMaxBytes !== null &&
      container.memoryCurrentBytes >= container.memoryMaxBytes * settings.atMemoryMaxRatio,
    growing,
  };
}

/** Why the headroom trigger fires for a container. */
export type HeadroomReason = "time-left" | "swap-full";

export interface HeadroomAlarm {
  readonly container: ContainerHeadroom;
  readonly reason: HeadroomReason;
  /** Grace period + margin the projection was held against, seconds. */
  readonly neededSeconds: number;
}

export interface HeadroomTriggerSettings {
  /** Act when time left < grace period + this, ms. */
  readonly headroomMarginMs: number;
  /** Act when swap ≥ this share of the limit while at memory.max, percent. */
  readonly swapFullPercent: number;
}

/** Kubernetes' default `terminationGracePeriodSeconds`. */
export const DEFAULT_GRACE_SECONDS = 30;

/**
 * The containers whose pod must go now: projected time left below the pod's grace period
 * plus the margin, or swap nearly full while at memory.max. Most urgent first.
 * `graceSeconds(podUid)` gives the pod's grace period (null: not known yet).
 */
export function headroomAlarms(
  containers: readonly ContainerHeadroom[],
  graceSeconds: (podUid: string) => number | null,
  settings: HeadroomTriggerSettings,
): HeadroomAlarm[] {
  const alarms: HeadroomAlarm[] = [];
  for (const container of containers) {
    const neededSeconds = (graceSeconds(container.podUid) ?? DEFAULT_GRACE_SECONDS) +
      settings.headroomMarginMs / 1000;
    if (container.atMemoryMax && container.swapFullPercent >= settings.swapFullPercent) {
      alarms.push({ container, reason: "swap-full", neededSeconds });
    } else if (
      container.credible && container.secondsLeft !== null &&
      container.secondsLeft < neededSeconds
    ) {
      alarms.push({ container, reason: "time-left", neededSeconds });
    }
  }
  return alarms.sort((a, b) =>
    urgency(a) - urgency(b) || a.container.podUid.localeCompare(b.container.podUid)
  );
}

function urgency(alarm: HeadroomAlarm): number {
  return alarm.reason === "swap-full" ? -1 : alarm.container.secondsLeft ?? Infinity;
}

/**
 * Containers whose swap grows toward their limit within `horizonSeconds`: the pod's grace
 * period then matters, so the agent learns it from the API (one LIST, cached). A container
 * whose swap is high but steady is not at risk: it costs no API call.
 */
export function containersAtRisk(
  containers: readonly ContainerHeadroom[],
  horizonSeconds: number,
): ContainerHeadroom[] {
  return containers.filter((c) => c.secondsLeft !== null && c.secondsLeft < horizonSeconds);
}
