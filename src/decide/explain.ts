/**
 * Why the agent acts, in words: the first half of a decision line (the trigger, its
 * evidence) for each rule. Pure: the loop's decision log and the policies' `explain` use it.
 */
import type { DecisionText, TriggerKind } from "./decision.ts";
import type { HeadroomAlarm } from "./headroom.ts";
import type { PressureObservation } from "./node_pressure.ts";
import { type Candidate, candidateName, type Selection } from "./select.ts";
import type { Meminfo } from "../sense/meminfo.ts";

/** The first half of a node-trigger decision line: why, and the evidence. */
export function describeNodeDecision(
  trigger: TriggerKind,
  observation: PressureObservation,
  selection: Selection,
  meminfo: Meminfo | undefined,
): DecisionText {
  const message = trigger === "node-swap-free"
    ? "Node swap nearly exhausted ({swapFreeBytes} of {swapTotalBytes} bytes free)"
    : "Sustained swap I/O {ratePagesPerSecond} pages/s for {windowSeconds} s";
  return {
    message,
    properties: {
      trigger,
      ...evidence(observation, selection),
      ...(trigger === "node-swap-free" && meminfo
        ? { swapFreeBytes: meminfo.swapFreeBytes, swapTotalBytes: meminfo.swapTotalBytes }
        : {}),
    },
  };
}

/** The message of a headroom decision line, by alarm (at memory.max, linear, plateau). */
function headroomMessage(alarm: HeadroomAlarm): string {
  if (alarm.reason === "swap-full") {
    return "Container {container} of {victim} at memory.max with {swapFullPercent}% of its " +
      "swap limit in use";
  }
  if (alarm.container.plateauBytes === null) {
    return "Container {container} of {victim} fills its swap limit in {secondsLeft} s " +
      "(needs {neededSeconds} s: grace period + margin)";
  }
  return "Container {container} of {victim} fills its swap limit in {secondsLeft} s on a " +
    "slowing curve that levels off at {plateauBytes} bytes, above the limit " +
    "(needs {neededSeconds} s: grace period + margin)";
}

/** The first half of a headroom decision line: the container and its projection. */
export function describeHeadroom(
  alarm: HeadroomAlarm,
  victim: Candidate,
  observation: PressureObservation,
): DecisionText {
  const c = alarm.container;
  return {
    message: headroomMessage(alarm),
    properties: {
      trigger: "headroom",
      reason: alarm.reason,
      container: c.containerId,
      swapBytes: c.swapBytes,
      swapLimitBytes: c.swapLimitBytes,
      limitSource: c.limitSource,
      swapFullPercent: Math.round(c.swapFullPercent * 10) / 10,
      // What the projection followed (the footprint, or swap) and where the kernel kills.
      levelSource: c.levelSource,
      levelBytes: Math.round(c.levelBytes),
      levelLimitBytes: Math.round(c.levelLimitBytes),
      observedSeconds: c.observedSeconds === null ? null : Math.round(c.observedSeconds * 10) / 10,
      growthBytesPerSecond: c.growthBytesPerSecond === null
        ? null
        : Math.round(c.growthBytesPerSecond),
      secondsLeft: c.secondsLeft === null ? null : Math.round(c.secondsLeft * 10) / 10,
      plateauBytes: c.plateauBytes === null ? null : Math.round(c.plateauBytes),
      neededSeconds: alarm.neededSeconds,
      atMemoryMax: c.atMemoryMax,
      fullAvg10Percent: victim.stats.fullAvg10Percent,
      ratePagesPerSecond: Math.round(observation.reading.ratePagesPerSecond ?? 0),
    },
  };
}

/** The evidence every node-trigger decision line carries: rate, window, candidate table. */
export function evidence(observation: PressureObservation, selection: Selection) {
  const rows = [
    ...selection.ranked.map((candidate) => ({ candidate, status: "candidate" as string })),
    ...selection.rejected.map(({ candidate, reason }) => ({ candidate, status: reason })),
  ];
  return {
    ratePagesPerSecond: Math.round(observation.reading.ratePagesPerSecond ?? 0),
    windowSeconds: Math.round(observation.reading.windowMs / 100) / 10,
    candidates: rows.map(({ candidate, status }) => ({
      pod: candidateName(candidate),
      swapBytes: candidate.stats.swapCurrentBytes,
      fullAvg10Percent: candidate.stats.fullAvg10Percent,
      ...(candidate.swapIoPagesPerSecond === undefined
        ? {}
        : { swapIoPagesPerSecond: Math.round(candidate.swapIoPagesPerSecond) }),
      status,
    })),
  };
}
