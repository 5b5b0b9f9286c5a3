/** Builders of tick reports for the observe/ tests. */
import * as records from "../fakes/pod_records.ts";
import type { TickReport } from "../../src/agent.ts";
import type { Outcome } from "../../src/act/outcome.ts";
import type { PodMeta } from "../../src/decide/pod_meta.ts";
import {
  INITIAL_PRESSURE_STATE,
  type PressureObservation,
  type PressurePhase,
} from "../../src/decide/node_pressure.ts";
import type { Candidate, Selection } from "../../src/decide/select.ts";
import type { PodStats } from "../../src/sense/pod_stats.ts";

/** One observation: rate (null: none yet), window and cooldown in ms. */
export function observation(
  ratePagesPerSecond: number | null,
  windowMs = 0,
  cooldownRemainingMs = 0,
  phase: PressurePhase = cooldownRemainingMs > 0 ? "cooldown" : windowMs > 0 ? "filling" : "calm",
): PressureObservation {
  return {
    state: INITIAL_PRESSURE_STATE,
    reading: {
      ratePagesPerSecond,
      above: windowMs > 0,
      windowMs,
      samplesAbove: Math.round(windowMs / 1000),
      samplesNeeded: 10,
      sustained: phase === "sustained",
      counterReset: false,
    },
    phase,
    cooldownRemainingMs,
  };
}

export function podStats(
  uid: string,
  swapCurrentBytes: number,
  fullAvg10Percent: number,
): PodStats {
  return {
    uid,
    cgroupPath: `/sys/fs/cgroup/kubepods.slice/pod${uid}`,
    qosClass: "burstable",
    swapCurrentBytes,
    memoryCurrentBytes: 0,
    memoryMaxBytes: null,
    fullAvg10Percent,
    someAvg10Percent: fullAvg10Percent,
    oomKillCount: 0,
    containers: [],
  };
}

export function podMeta(uid: string, namespace: string, name: string): PodMeta {
  return records.podMeta(uid, name, { namespace });
}

export function candidate(stats: PodStats, pod: PodMeta | null = null): Candidate {
  return { stats, pod };
}

/** A tick that scanned pods and acted on the first ranked candidate. */
export function actedTick(
  obs: PressureObservation,
  ranked: readonly Candidate[],
  outcome: Outcome,
  extra: Partial<TickReport> = {},
): TickReport {
  const selection: Selection = { ranked, rejected: [] };
  return {
    observation: obs,
    pods: ranked.map((c) => c.stats),
    selection,
    ...(ranked[0] ? { victim: ranked[0] } : {}),
    outcome,
    ...extra,
  };
}
