/**
 * The loop: sense → decide → act, once per poll interval. Each tick reads like a script;
 * all judgement lives in decide/, all I/O in sense/ and act/.
 *
 * Three triggers share one cooldown:
 * - swap-io: node swap I/O above the threshold on every sample for the sustained duration;
 *   the victim is the worst candidate by PSI (or by its own swap I/O where the kernel
 *   attributes it).
 * - headroom: a container projected to fill its swap limit (and be OOM-killed) within its
 *   pod's grace period plus a margin, or nearly full at memory.max; the victim is its pod.
 * - node-swap-free: the node's free swap under a share of its total.
 */
import { type EventResult, recordTerminationEvent } from "./act/events.ts";
import type { KubeApi } from "./act/kube_client.ts";
import { isAction, type Outcome, terminate } from "./act/terminate.ts";
import type { Clock } from "./clock.ts";
import type { Config } from "./config.ts";
import {
  attributeSwapIo,
  type AttributionState,
  INITIAL_ATTRIBUTION_STATE,
} from "./decide/attribution.ts";
import {
  type ContainerHeadroom,
  containersAtRisk,
  type HeadroomAlarm,
  headroomAlarms,
  type HeadroomState,
  INITIAL_HEADROOM_STATE,
  updateHeadroom,
} from "./decide/headroom.ts";
import {
  afterAction,
  INITIAL_PRESSURE_STATE,
  observeSwapIo,
  type PressureObservation,
  type PressureState,
} from "./decide/node_pressure.ts";
import {
  INITIAL_OOM_WATCH_STATE,
  type KernelOomKill,
  type OomWatchState,
  watchOomKills,
} from "./decide/oom_watch.ts";
import type { PodMeta } from "./decide/pod_meta.ts";
import { INITIAL_SCAN_GATE, type ScanGateState, scanned, scanReason } from "./decide/scan_gate.ts";
import {
  type Candidate,
  candidateName,
  preselect,
  type PreselectOptions,
  type Selection,
  selectVictims,
} from "./decide/select.ts";
import type { Logger } from "./observe/log.ts";
import type { Meminfo } from "./sense/meminfo.ts";
import type { NodeSensor } from "./sense/node_sensor.ts";
import type { PodStats } from "./sense/pod_stats.ts";

/** What the agent is given by main.ts (or a test, the demo, or replay). */
export interface AgentDeps {
  readonly sensor: NodeSensor;
  readonly clock: Clock;
  readonly kube: KubeApi;
  readonly log: Logger;
  /** Called after every tick with what it saw and did, and how long it took (metrics, health). */
  readonly onTick?: (report: TickReport, tickDurationMs: number) => void;
}

/** Which rule made the agent act. */
export type TriggerKind = "swap-io" | "headroom" | "node-swap-free";

/** What one tick saw and did; the demo, replay, metrics and tests read it. */
export interface TickReport {
  /** Null when the swap counters could not be read this tick. */
  readonly observation: PressureObservation | null;
  /** Node memory figures, when readable. */
  readonly meminfo?: Meminfo;
  /** The pods read this tick (pods are scanned only when something calls for it). */
  readonly pods?: readonly PodStats[];
  /** Headroom estimates of every container that can swap, when pods were scanned. */
  readonly headroom?: readonly ContainerHeadroom[];
  /** Kernel OOM kills seen since the previous scan: the kills the agent did not prevent. */
  readonly kernelOomKills?: readonly KernelOomKill[];
  /** The trigger that fired, if any. */
  readonly trigger?: TriggerKind;
  /** The ranked candidates, when a trigger fired. */
  readonly selection?: Selection;
  /** The pod acted on (or that would have been, in dry-run). */
  readonly victim?: Candidate;
  readonly outcome?: Outcome;
  /** The Event posted on the victim pod for an action (dry-run included). */
  readonly event?: EventResult;
}

/** How far ahead the headroom trigger looks for pods whose grace period it must learn, s. */
const HEADROOM_HORIZON_SECONDS = 600;
/** How long pod metadata learned for the headroom trigger is reused, ms. */
const POD_META_MAX_AGE_MS = 60_000;

export class Agent {
  readonly #config: Config;
  readonly #deps: AgentDeps;
  #pressure: PressureState = INITIAL_PRESSURE_STATE;
  #scanGate: ScanGateState = INITIAL_SCAN_GATE;
  #headroom: HeadroomState = INITIAL_HEADROOM_STATE;
  #attribution: AttributionState = INITIAL_ATTRIBUTION_STATE;
  #oomWatch: OomWatchState = INITIAL_OOM_WATCH_STATE;
  /** Pods learned from the API for grace periods (headroom trigger), by cgroup UID. */
  #podMeta: { readonly byUid: ReadonlyMap<string, PodMeta>; readonly atMs: number } | null = null;
  /** When "pressure without a candidate" was last logged (monotonic ms), to keep logs quiet. */
  #quietUntilMs = -Infinity;

  constructor(config: Config, deps: AgentDeps) {
    this.#config = config;
    this.#deps = deps;
  }

  /** Runs ticks every poll interval until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const { clock } = this.#deps;
    while (!signal.aborted) {
      const startedMs = clock.monotonicMs();
      const report = await this.tick();
      const elapsedMs = clock.monotonicMs() - startedMs;
      this.#deps.onTick?.(report, elapsedMs);
      await clock.sleep(Math.max(0, this.#config.pollIntervalMs - elapsedMs), signal);
    }
  }

  /** One pass of sense → decide → act. Never throws: every failure is logged. */
  async tick(): Promise<TickReport> {
    const { sensor, clock, log } = this.#deps;
    const config = this.#config;

    // 1. Sense: the node's swap I/O counters and memory totals (two small files, every tick).
    let swapIoPages: number;
    try {
      const counters = await sensor.readSwapIo();
      swapIoPages = counters.swapInPages + counters.swapOutPages;
    } catch (error) {
      log.error("Cannot read swap counters: {error}", { error: messageOf(error) });
      return { observation: null };
    }
    const meminfo = await sensor.readMeminfo().catch((error) => {
      log.error("Cannot read node memory totals: {error}", { error: messageOf(error) });
      return undefined;
    });
    const nowMs = clock.monotonicMs();

    // 2. Decide: node swap I/O rate, window and cooldown.
    const observation = observeSwapIo(this.#pressure, { swapIoPages, atMs: nowMs }, config);
    this.#pressure = observation.state;
    this.#logTick(observation);
    const report = { observation, ...(meminfo ? { meminfo } : {}) };

    // 3. Decide: walk the pod cgroups only when something calls for it (never on a calm node).
    const swapUsedBytes = meminfo ? meminfo.swapTotalBytes - meminfo.swapFreeBytes : 0;
    const reason = scanReason(
      this.#scanGate,
      nowMs,
      swapUsedBytes,
      observation.phase === "sustained",
    );
    if (reason === null) return report;

    // 4. Sense: every pod's memory figures.
    const scan = await sensor.scanPods();
    for (const problem of scan.errors) {
      log.error("Cannot read pod cgroup {cgroupPath}: {message}", { ...problem });
    }

    // 5. Decide: swap headroom per container, per-pod swap I/O, and missed kernel kills.
    const headroom = updateHeadroom(
      this.#headroom,
      scan.pods,
      meminfo?.swapFreeBytes ?? Infinity,
      nowMs,
    );
    this.#headroom = headroom.state;
    const atRisk = containersAtRisk(headroom.containers, HEADROOM_HORIZON_SECONDS);
    // While a container heads for its limit, scan every tick to keep its estimate fed.
    this.#scanGate = scanned(nowMs, swapUsedBytes, atRisk.length > 0);
    const attribution = attributeSwapIo(this.#attribution, scan.pods, nowMs);
    this.#attribution = attribution.state;
    const oom = watchOomKills(this.#oomWatch, scan.pods);
    this.#oomWatch = oom.state;
    for (const kill of oom.kills) this.#logKernelKill(kill);
    const withPods = {
      ...report,
      pods: scan.pods,
      headroom: headroom.containers,
      kernelOomKills: oom.kills,
    };
    if (observation.phase === "cooldown") return withPods;

    // 6. Decide and act, most urgent rule first: a container about to be OOM-killed …
    if (config.headroomTrigger) {
      const acted = await this.#headroomTrigger(
        headroom.containers,
        atRisk,
        scan.pods,
        observation,
      );
      if (acted) return { ...withPods, ...acted };
    }

    // … the node's swap nearly gone …
    if (
      meminfo && meminfo.swapTotalBytes > 0 &&
      meminfo.swapFreeBytes < meminfo.swapTotalBytes * config.nodeSwapFreePercent / 100
    ) {
      const selection = preselect(scan.pods, config.psiThresholdPercent, {
        waivePsiThreshold: true,
      });
      const acted = await this.#actOnSelection("node-swap-free", selection, observation, meminfo);
      if (acted) return { ...withPods, ...acted };
    }

    // … or the node thrashing for the whole window.
    if (observation.phase !== "sustained") return withPods;
    const options: PreselectOptions = attribution.available
      ? {
        swapIoRates: attribution.ratesPagesPerSecond,
        attributionFloorPagesPerSecond: config.swapIoThresholdPagesPerSecond,
      }
      : {};
    const preselected = preselect(scan.pods, config.psiThresholdPercent, options);
    const acted = await this.#actOnSelection("swap-io", preselected, observation, meminfo);
    return { ...withPods, ...(acted ?? { selection: preselected }) };
  }

  /**
   * Headroom: learn the grace periods of pods heading for their limit (one LIST, cached),
   * then act on the most urgent pod. No API call unless a container's swap is growing
   * toward its limit within the horizon.
   */
  async #headroomTrigger(
    containers: readonly ContainerHeadroom[],
    atRisk: readonly ContainerHeadroom[],
    pods: readonly PodStats[],
    observation: PressureObservation,
  ): Promise<Partial<TickReport> | null> {
    const { clock, log } = this.#deps;
    const config = this.#config;
    const nowMs = clock.monotonicMs();
    const cache = this.#podMeta;
    const stale = atRisk.length > 0 &&
      (cache === null || nowMs - cache.atMs > POD_META_MAX_AGE_MS ||
        atRisk.some((c) => !cache.byUid.has(c.podUid)));
    // A failed LIST leaves the default grace period (30 s) in force for the estimate.
    const refreshed = stale && await this.#refreshPodMeta();
    const byUid = this.#podMeta?.byUid;
    const alarms = headroomAlarms(
      containers,
      (uid) => byUid?.get(uid)?.terminationGracePeriodSeconds ?? null,
      config,
    );
    if (alarms.length === 0) return null;

    // Fresh view of the pods at decision time: a pod may have started terminating.
    if (!refreshed && !(await this.#refreshPodMeta())) return null;
    const nodePods = [...new Set(this.#podMeta!.byUid.values())];
    const statsByUid = new Map(pods.map((p) => [p.uid, p]));
    for (const alarm of alarms) {
      const stats = statsByUid.get(alarm.container.podUid);
      if (!stats) continue;
      const selection = selectVictims({ ranked: [{ stats, pod: null }], rejected: [] }, nodePods);
      const victim = selection.ranked[0];
      if (!victim) {
        const rejection = selection.rejected[0];
        log.info("Headroom alarm for {pod} passed over: {reason}", {
          pod: rejection ? candidateName(rejection.candidate) : alarm.container.podUid,
          reason: rejection?.reason ?? "unknown",
          container: alarm.container.containerId,
        });
        continue;
      }
      const outcome = await terminate(victim, config.dryRun, this.#deps);
      this.#logHeadroomDecision(alarm, victim, outcome, observation);
      if (isAction(outcome)) this.#startCooldown();
      const event = await this.#recordEvent("headroom", observation, selection, victim, outcome);
      return { trigger: "headroom", selection, victim, outcome, ...event };
    }
    return null;
  }

  /** The node triggers: LIST, pick the top candidate, act. Null when nobody qualifies. */
  async #actOnSelection(
    trigger: TriggerKind,
    preselected: Selection,
    observation: PressureObservation,
    meminfo: Meminfo | undefined,
  ): Promise<Partial<TickReport> | null> {
    const { log } = this.#deps;
    const config = this.#config;
    const nowMs = this.#deps.clock.monotonicMs();
    if (preselected.ranked.length === 0) {
      this.#logNoCandidate(trigger, observation, preselected, nowMs);
      return trigger === "swap-io" ? { trigger, selection: preselected } : null;
    }

    // Act: one LIST of this node's pods, to map cgroup UIDs to pods.
    if (!(await this.#refreshPodMeta())) return { trigger, selection: preselected };
    const selection = selectVictims(preselected, [...new Set(this.#podMeta!.byUid.values())]);

    // Decide: the victim is the top of the ranking.
    const victim = selection.ranked[0];
    if (victim === undefined) {
      this.#logNoCandidate(trigger, observation, selection, nowMs);
      return { trigger, selection };
    }

    // Act: re-check, then delete (or say what would be deleted), and log the decision.
    const outcome = await terminate(victim, config.dryRun, this.#deps);
    this.#logDecision(trigger, observation, selection, victim, outcome, meminfo);
    if (selection.attributed) {
      log.info("Victim ranked by per-pod swap I/O (memory.stat pswpin/pswpout)");
    }

    // Decide: an action starts the cooldown and closes the window.
    if (isAction(outcome)) this.#startCooldown();
    // Act: an Event on the victim pod, so `kubectl describe pod` says why (never fatal).
    const event = await this.#recordEvent(trigger, observation, selection, victim, outcome);
    return { trigger, selection, victim, outcome, ...event };
  }

  /** One LIST of the node's pods into the metadata cache; false (logged) on failure. */
  async #refreshPodMeta(): Promise<boolean> {
    try {
      const pods = await this.#deps.kube.listNodePods(this.#config.nodeName);
      const byUid = new Map<string, PodMeta>();
      for (const pod of pods) {
        byUid.set(pod.uid, pod);
        if (pod.mirrorOfUid !== null) byUid.set(pod.mirrorOfUid, pod);
      }
      this.#podMeta = { byUid, atMs: this.#deps.clock.monotonicMs() };
      return true;
    } catch (error) {
      this.#deps.log.error("Cannot list pods on node {nodeName}: {error}", {
        nodeName: this.#config.nodeName,
        error: messageOf(error),
      });
      return false;
    }
  }

  /** Posts the Event of an action (dry-run included) on the victim pod; nothing otherwise. */
  async #recordEvent(
    trigger: TriggerKind,
    observation: PressureObservation,
    selection: Selection,
    victim: Candidate,
    outcome: Outcome,
  ): Promise<{ event?: EventResult }> {
    if (!isAction(outcome)) return {};
    const decision = { observation, selection, victim, outcome };
    return { event: await recordTerminationEvent(this.#deps, this.#config, trigger, decision) };
  }

  #startCooldown(): void {
    this.#pressure = afterAction(this.#pressure, this.#deps.clock.monotonicMs(), this.#config);
  }

  #logTick(observation: PressureObservation): void {
    const { reading } = observation;
    this.#deps.log.debug(
      "Swap I/O {ratePagesPerSecond} pages/s, {phase}: {samplesAbove}/{samplesNeeded} samples " +
        "above threshold, cooldown {cooldownRemainingSeconds} s",
      {
        ratePagesPerSecond: reading.ratePagesPerSecond === null
          ? null
          : Math.round(reading.ratePagesPerSecond),
        phase: observation.phase,
        samplesAbove: reading.samplesAbove,
        samplesNeeded: reading.samplesNeeded,
        cooldownRemainingSeconds: Math.round(observation.cooldownRemainingMs / 100) / 10,
      },
    );
    if (reading.counterReset) this.#deps.log.warn("Swap counters went backwards: window restarted");
  }

  #logDecision(
    trigger: TriggerKind,
    observation: PressureObservation,
    selection: Selection,
    victim: Candidate,
    outcome: Outcome,
    meminfo: Meminfo | undefined,
  ): void {
    const why = trigger === "node-swap-free"
      ? "Node swap nearly exhausted ({swapFreeBytes} of {swapTotalBytes} bytes free)"
      : "Sustained swap I/O {ratePagesPerSecond} pages/s for {windowSeconds} s";
    this.#logAction(why + ": {action} {victim} → {outcome}", outcome, {
      trigger,
      ...evidence(observation, selection),
      ...(trigger === "node-swap-free" && meminfo
        ? { swapFreeBytes: meminfo.swapFreeBytes, swapTotalBytes: meminfo.swapTotalBytes }
        : {}),
      victim: candidateName(victim),
      victimUid: victim.pod?.uid,
    });
  }

  #logHeadroomDecision(
    alarm: HeadroomAlarm,
    victim: Candidate,
    outcome: Outcome,
    observation: PressureObservation,
  ): void {
    const c = alarm.container;
    const message = alarm.reason === "swap-full"
      ? "Container {container} of {victim} at memory.max with {swapFullPercent}% of its swap " +
        "limit in use: {action} {victim} → {outcome}"
      : "Container {container} of {victim} fills its swap limit in {secondsLeft} s " +
        "(needs {neededSeconds} s: grace period + margin): {action} {victim} → {outcome}";
    this.#logAction(message, outcome, {
      trigger: "headroom",
      reason: alarm.reason,
      victim: candidateName(victim),
      victimUid: victim.pod?.uid,
      container: c.containerId,
      swapBytes: c.swapBytes,
      swapLimitBytes: c.swapLimitBytes,
      limitSource: c.limitSource,
      swapFullPercent: Math.round(c.swapFullPercent * 10) / 10,
      growthBytesPerSecond: c.growthBytesPerSecond === null
        ? null
        : Math.round(c.growthBytesPerSecond),
      secondsLeft: c.secondsLeft === null ? null : Math.round(c.secondsLeft * 10) / 10,
      neededSeconds: alarm.neededSeconds,
      atMemoryMax: c.atMemoryMax,
      fullAvg10Percent: victim.stats.fullAvg10Percent,
      ratePagesPerSecond: Math.round(observation.reading.ratePagesPerSecond ?? 0),
    });
  }

  #logAction(message: string, outcome: Outcome, properties: Record<string, unknown>): void {
    const { log } = this.#deps;
    const all = {
      ...properties,
      action: this.#config.dryRun ? "would delete" : "delete",
      outcome: outcome.kind,
      ...("message" in outcome ? { detail: outcome.message } : {}),
      ...("why" in outcome ? { detail: outcome.why } : {}),
    };
    if (outcome.kind === "failed") log.error(message, all);
    else if (isAction(outcome)) log.warn(message, all);
    else log.info(message, all);
  }

  #logNoCandidate(
    trigger: TriggerKind,
    observation: PressureObservation,
    selection: Selection,
    nowMs: number,
  ): void {
    if (nowMs < this.#quietUntilMs) return;
    this.#quietUntilMs = nowMs + this.#config.sustainedDurationMs;
    const why = trigger === "node-swap-free"
      ? "Node swap nearly exhausted"
      : "Sustained swap I/O {ratePagesPerSecond} pages/s for {windowSeconds} s";
    this.#deps.log.warn(
      why + " but no pod qualifies (psi threshold {psiThresholdPercent}%): no action",
      {
        trigger,
        ...evidence(observation, selection),
        psiThresholdPercent: this.#config.psiThresholdPercent,
      },
    );
  }

  #logKernelKill(kill: KernelOomKill): void {
    const pod = this.#podMeta?.byUid.get(kill.pod.uid);
    this.#deps.log.error(
      "Kernel OOM-killed a process in {pod} (oom_kill +{newKills}): a kill the agent did not " +
        "prevent",
      {
        pod: pod ? `${pod.namespace}/${pod.name}` : `pod ${kill.pod.uid}`,
        podUid: kill.pod.uid,
        newKills: kill.newKills,
        swapBytes: kill.pod.swapCurrentBytes,
        memoryCurrentBytes: kill.pod.memoryCurrentBytes,
        memoryMaxBytes: kill.pod.memoryMaxBytes,
        fullAvg10Percent: kill.pod.fullAvg10Percent,
        containers: kill.pod.containers.map((c) => ({
          id: c.id.slice(0, 12),
          swapBytes: c.swapCurrentBytes,
          swapMaxBytes: c.swapMaxBytes,
        })),
      },
    );
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The evidence every node-trigger decision line carries: rate, window, candidate table. */
function evidence(observation: PressureObservation, selection: Selection) {
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
