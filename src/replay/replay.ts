/**
 * `kube-soomkiller replay trace.jsonl [flags]`: runs the agent's own loop (the same Agent,
 * decide code and triggers) over a recorded trace, with a clock that follows the trace and
 * an API stand-in that only takes notes, and reports what it would have done. Deterministic:
 * the same trace and flags give the same output.
 */
import type { DeleteResult, EvictResult, KubeApi, PodRef } from "../act/kube_client.ts";
import { replayVerb } from "../act/outcome.ts";
import { Agent } from "../agent.ts";
import type { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import type { TickReport, TriggerKind } from "../decide/decision.ts";
import type { ContainerHeadroom } from "../decide/headroom.ts";
import type { HeadroomSettings } from "../decide/headroom_settings.ts";
import type { PodMeta } from "../decide/pod_meta.ts";
import type { Candidate } from "../decide/select.ts";
import { escapeText, type Logger } from "../observe/log.ts";
import type { NodeSensor } from "../sense/node_sensor.ts";
import type { PodStats } from "../sense/pod_stats.ts";
import type { Trace, TraceTick } from "./trace.ts";

/** One action the agent would have taken. */
export interface ReplayAction {
  /** Offset in the trace, ms. */
  readonly tMs: number;
  readonly trigger: TriggerKind;
  /** What the agent would have done (`--termination-mode`). */
  readonly action: "delete" | "evict";
  /** `namespace/name`, or `pod <uid> (<QoS class>)` when the trace has no names; never "". */
  readonly victim: string;
  readonly victimUid: string;
  /** The figures that made it act, for people. */
  readonly evidence: string;
}

/** A kernel OOM kill recorded in the trace (oom_kill went up). */
export interface RecordedOomKill {
  readonly tMs: number;
  readonly podUid: string;
  readonly newKills: number;
}

/** What one replayed tick read and what the agent made of it, for `replay --html`. */
export interface ReplaySample {
  /** Offset in the trace, ms. */
  readonly tMs: number;
  /** The agent's node swap I/O rate, pages/s; null on the first tick or a counter reset. */
  readonly swapIoPagesPerSecond: number | null;
  readonly swapFreeBytes: number;
  readonly swapTotalBytes: number;
  /** The pods the trace recorded this tick (those with swap or an OOM kill). */
  readonly pods: readonly PodStats[];
  /** The agent's headroom estimates, on ticks it scanned pods (see `html.ts`'s adapter). */
  readonly headroom?: readonly ContainerHeadroom[];
}

export interface ReplayResult {
  readonly ticks: number;
  readonly durationMs: number;
  readonly actions: readonly ReplayAction[];
  readonly recordedOomKills: readonly RecordedOomKill[];
  /** One per tick, in order. */
  readonly samples: readonly ReplaySample[];
  /** Pod names the trace learned from the API, by UID. */
  readonly podNames: ReadonlyMap<string, string>;
  /** `terminationGracePeriodSeconds` of the pods the trace named, by UID. */
  readonly podGraceSeconds: ReadonlyMap<string, number>;
}

/** Replays `trace` under `config` (dry-run is ignored: actions are simulated, never sent). */
export async function replay(
  trace: Trace,
  config: Config,
  log: Logger,
  estimator?: HeadroomSettings,
): Promise<ReplayResult> {
  const world = new TraceWorld(trace);
  // Armed inside (kill-once and the cooldown as after a real action), dry-run in its words.
  const agent = new Agent(
    { ...config, dryRun: false },
    { ...world.deps(), log, simulated: true, ...(estimator ? { estimator } : {}) },
  );
  const actions: ReplayAction[] = [];
  const oomKills = new OomKillLedger();
  const samples: ReplaySample[] = [];
  const podNames = new Map<string, string>();
  const podGraceSeconds = new Map<string, number>();
  let ticks = 0;
  for (const line of trace.lines) {
    if (line.kind === "pods") {
      world.learn(line.pods);
      learnNames(line.pods, podNames, podGraceSeconds);
      continue;
    }
    world.enter(line);
    ticks++;
    oomKills.add(line);
    const report = await agent.tick();
    samples.push(sampleOf(line, report));
    const action = actionOf(line, report);
    if (action !== null) actions.push(action);
  }
  const last = trace.lines.findLast((line) => line.kind === "tick");
  return {
    ticks,
    durationMs: last?.tMs ?? 0,
    actions,
    recordedOomKills: oomKills.kills,
    samples,
    podNames,
    podGraceSeconds,
  };
}

/**
 * The world a trace describes, as the agent's deps: a clock that follows the trace, a
 * node that reads the current tick, and an API stand-in that only takes notes.
 */
class TraceWorld {
  readonly #trace: Trace;
  #current: TraceTick | null = null;
  #metas: readonly PodMeta[] = [];
  readonly #deleted = new Set<string>();

  constructor(trace: Trace) {
    this.#trace = trace;
  }

  /** The tick the agent reads next. */
  enter(line: TraceTick): void {
    this.#current = line;
  }

  /** The pods the recording learned from the API. */
  learn(pods: readonly PodMeta[]): void {
    this.#metas = pods;
  }

  deps(): { clock: Clock; sensor: NodeSensor; kube: KubeApi } {
    return { clock: this.#clock(), sensor: this.#sensor(), kube: this.#kube() };
  }

  #clock(): Clock {
    const startMs = Date.parse(this.#trace.header.startedAt);
    return {
      monotonicMs: () => this.#current?.tMs ?? 0,
      wallTime: () => new Date(startMs + (this.#current?.tMs ?? 0)),
      sleep: () => Promise.resolve(),
    };
  }

  #sensor(): NodeSensor {
    const tick = () => this.#current!;
    return {
      readSwapIo: () =>
        Promise.resolve({
          swapInPages: tick().swapInPages,
          swapOutPages: tick().swapOutPages,
          oomKills: tick().oomKills ?? null,
        }),
      readMeminfo: () => Promise.resolve(tick().meminfo),
      scanPods: () => Promise.resolve({ pods: [...tick().pods], errors: [] }),
      recheckSwapBytes: (cgroupPath) =>
        Promise.resolve(
          tick().pods.find((p) => p.cgroupPath === cgroupPath)?.swapCurrentBytes ?? "gone",
        ),
    };
  }

  #kube(): KubeApi {
    const deleted = this.#deleted;
    return {
      listNodePods: () => Promise.resolve(this.#listNodePods()),
      deletePod(ref: PodRef): Promise<DeleteResult> {
        deleted.add(ref.uid);
        return Promise.resolve({ kind: "deleted", code: 200 });
      },
      // A trace knows no PodDisruptionBudgets: every eviction goes through.
      evictPod(ref: PodRef): Promise<EvictResult> {
        deleted.add(ref.uid);
        return Promise.resolve({ kind: "evicted", code: 201 });
      },
      createEvent: () => Promise.resolve({ kind: "created", code: 201 }),
    };
  }

  /** The recorded names, plus a stand-in for any pod the recording could not name. */
  #listNodePods(): PodMeta[] {
    const metas = this.#metas;
    const known = new Map(metas.map((meta) => [meta.uid, meta]));
    for (const meta of metas) if (meta.mirrorOfUid) known.set(meta.mirrorOfUid, meta);
    const pods: PodMeta[] = [...metas];
    for (const pod of this.#current!.pods) {
      if (!known.has(pod.uid)) pods.push(unnamedPod(pod.uid, this.#trace.header.nodeName));
    }
    // A pod the replay deleted is terminating from then on, as the API would show it.
    return pods.map((pod) => (this.#deleted.has(pod.uid) ? { ...pod, terminating: true } : pod));
  }
}

/** The kernel OOM kills a trace recorded: each pod's oom_kill count going up. */
class OomKillLedger {
  readonly kills: RecordedOomKill[] = [];
  readonly #last = new Map<string, number>();

  add(line: TraceTick): void {
    for (const pod of line.pods) {
      const previous = this.#last.get(pod.uid);
      if (previous !== undefined && pod.oomKillCount > previous) {
        this.kills.push({ tMs: line.tMs, podUid: pod.uid, newKills: pod.oomKillCount - previous });
      }
      this.#last.set(pod.uid, pod.oomKillCount);
    }
  }
}

/** The names and grace periods of the pods a recording named, by UID. */
function learnNames(
  metas: readonly PodMeta[],
  podNames: Map<string, string>,
  podGraceSeconds: Map<string, number>,
): void {
  for (const meta of metas) {
    if (meta.namespace !== "" && meta.name !== "") {
      podNames.set(meta.uid, `${meta.namespace}/${meta.name}`);
    }
    if (meta.terminationGracePeriodSeconds !== null) {
      podGraceSeconds.set(meta.uid, meta.terminationGracePeriodSeconds);
    }
  }
}

/** What one replayed tick read and what the agent made of it. */
function sampleOf(line: TraceTick, report: TickReport): ReplaySample {
  return {
    tMs: line.tMs,
    swapIoPagesPerSecond: report.observation?.reading.ratePagesPerSecond ?? null,
    swapFreeBytes: line.meminfo.swapFreeBytes,
    swapTotalBytes: line.meminfo.swapTotalBytes,
    pods: line.pods,
    ...(report.headroom ? { headroom: report.headroom } : {}),
  };
}

/** The action of a tick where the API took a DELETE or an eviction; null otherwise. */
function actionOf(line: TraceTick, report: TickReport): ReplayAction | null {
  const verb = replayVerb(report.outcome);
  if (verb === null || !report.victim || !report.trigger) return null;
  return {
    tMs: line.tMs,
    trigger: report.trigger,
    action: verb,
    victim: victimName(report.victim),
    victimUid: report.victim.stats.uid,
    evidence: describeEvidence(report),
  };
}

/**
 * How a report names a victim: `namespace/name` when the trace named the pod, else its UID
 * and QoS class (a trace recorded without API access has only what the cgroup path says).
 */
export function victimName(candidate: Candidate): string {
  const pod = candidate.pod;
  if (pod && pod.namespace !== "" && pod.name !== "") return `${pod.namespace}/${pod.name}`;
  return `pod ${candidate.stats.uid} (${candidate.stats.qosClass})`;
}

/** A pod the trace could not name: known to the replay's API, so the agent may act on it. */
function unnamedPod(uid: string, nodeName: string): PodMeta {
  return {
    uid,
    namespace: "",
    name: "",
    nodeName,
    terminating: false,
    mirrorOfUid: null,
    priority: null,
    terminationGracePeriodSeconds: null,
    annotations: {},
  };
}

const MiB = 1 << 20;

function describeEvidence(report: TickReport): string {
  const victim = report.victim!;
  const rate = Math.round(report.observation?.reading.ratePagesPerSecond ?? 0);
  switch (report.trigger) {
    case "headroom": {
      const containers = (report.headroom ?? []).filter((c) => c.podUid === victim.stats.uid);
      const c =
        containers.sort((a, b) => (a.secondsLeft ?? Infinity) - (b.secondsLeft ?? Infinity))[0];
      if (!c) return "";
      const left = c.secondsLeft === null ? "not growing" : `${c.secondsLeft.toFixed(1)} s left`;
      // One unit for every size: MiB, and MiB/s for growth.
      const growth = c.growthBytesPerSecond === null
        ? ""
        : `, growth ${(c.growthBytesPerSecond / MiB).toFixed(2)} MiB/s`;
      return `swap ${(c.swapBytes / MiB).toFixed(1)}/${(c.swapLimitBytes / MiB).toFixed(1)} MiB ` +
        `(${c.swapFullPercent.toFixed(0)}%, limit from ${c.limitSource})${growth}, ${left}` +
        (c.atMemoryMax ? ", at memory.max" : "");
    }
    case "node-swap-free": {
      const m = report.meminfo;
      return m
        ? `node swap free ${(m.swapFreeBytes / MiB).toFixed(1)} of ${
          (m.swapTotalBytes / MiB).toFixed(1)
        } MiB`
        : "";
    }
    default: {
      const window = ((report.observation?.reading.windowMs ?? 0) / 1000).toFixed(1);
      const own = victim.swapIoPagesPerSecond === undefined
        ? ""
        : `, own swap I/O ${Math.round(victim.swapIoPagesPerSecond)} pages/s`;
      return `node swap I/O ${rate} pages/s for ${window} s, full avg10 ` +
        `${victim.stats.fullAvg10Percent}%, swap ${
          (victim.stats.swapCurrentBytes / MiB).toFixed(1)
        } MiB${own}`;
    }
  }
}

/** The report people read: one line per action, then a summary. */
export function formatReplay(result: ReplayResult): string {
  const lines: string[] = [];
  const offset = (ms: number) => `+${(ms / 1000).toFixed(1)}s`;
  // Names and UIDs come from the trace: escaped as the logger escapes them, so that none
  // can start a line, move the cursor or retitle the terminal.
  for (const action of result.actions) {
    lines.push(
      `${offset(action.tMs).padStart(8)}  ${action.trigger.padEnd(14)}  would ${action.action} ` +
        `${escapeText(action.victim)}  ${escapeText(action.evidence)}`,
    );
  }
  for (const kill of result.recordedOomKills) {
    // Named as the actions name their victims: namespace/name when the trace knows it.
    const pod = result.podNames.get(kill.podUid) ?? `pod ${kill.podUid}`;
    lines.push(
      `${offset(kill.tMs).padStart(8)}  kernel OOM kill recorded in ${escapeText(pod)} ` +
        `(oom_kill +${kill.newKills})`,
    );
  }
  lines.sort((a, b) => parseFloat(a.trim().slice(1)) - parseFloat(b.trim().slice(1)));
  const byTrigger = new Map<string, number>();
  for (const action of result.actions) {
    byTrigger.set(action.trigger, (byTrigger.get(action.trigger) ?? 0) + 1);
  }
  const counts = [...byTrigger].map(([trigger, n]) => `${trigger} ${n}`).join(", ");
  const first = result.actions[0];
  const kill = result.recordedOomKills[0];
  let summary = `summary: ${result.ticks} ticks over ${(result.durationMs / 1000).toFixed(1)} s; ` +
    `${result.actions.length} action${result.actions.length === 1 ? "" : "s"}` +
    (counts ? ` (${counts})` : "");
  if (first) {
    summary += `; first at ${offset(first.tMs)} (${first.trigger}, ${escapeText(first.victim)})`;
  }
  if (kill) {
    summary += `; kernel OOM kill recorded at ${offset(kill.tMs)}`;
    if (first) {
      const lead = (kill.tMs - first.tMs) / 1000;
      summary += lead >= 0
        ? `: first action ${lead.toFixed(1)} s before it`
        : `: first action ${(-lead).toFixed(1)} s AFTER it (too late)`;
    } else summary += ": no action before it";
  } else if (first) {
    const end = (result.durationMs - first.tMs) / 1000;
    summary += `; no kernel OOM kill recorded (first action ${end.toFixed(1)} s before the end)`;
  }
  lines.push(summary);
  return lines.join("\n");
}
