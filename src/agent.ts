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
 *
 * Whatever the trigger, some pods are never chosen (decide/select.ts `Exclusions`): the
 * agent's own pod, pods it already acted on (decide/kill_once.ts), terminating and mirror
 * pods, protected namespaces and priorities, and pods that opt out by annotation. In evict
 * mode a blocked eviction moves on to the next candidate, and a deadline
 * (decide/evict_fallback.ts) ends in a DELETE.
 *
 * Whatever the API answers, one action per cooldown: a write whose outcome is unknown
 * (5xx, a timeout, a broken answer) counts as done (cooldown, kill-once) until the pod is
 * read back. Failed calls back the next LIST off (jitter, Retry-After), one ERROR line per
 * failure streak.
 */
import { recordTerminationEvent } from "./act/events.ts";
import { backoffMs, FailureStreak } from "./act/backoff.ts";
import type { KubeApi, PodRef } from "./act/kube_client.ts";
import { type EventResult, isAction, type Outcome, startsCooldown } from "./act/outcome.ts";
import { PodDirectory } from "./act/pod_directory.ts";
import { terminate, type TerminateHow } from "./act/terminate.ts";
import type { Clock } from "./clock.ts";
import type { Config } from "./config.ts";
import type { Attempt, DecisionText, TickReport, TriggerKind } from "./decide/decision.ts";
import {
  attributeSwapIo,
  type AttributionState,
  INITIAL_ATTRIBUTION_STATE,
} from "./decide/attribution.ts";
import {
  afterRound,
  blockedForMs,
  type EvictFallbackState,
  fallbackDue,
  NOT_BLOCKED,
  type RoundEnd,
} from "./decide/evict_fallback.ts";
import {
  containersAtRisk,
  headroomEstimator,
  type HeadroomSettings,
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
import { INITIAL_OOM_WATCH_STATE, type OomWatchState, watchOomKills } from "./decide/oom_watch.ts";
import {
  actedOnUids,
  forgetAction,
  INITIAL_KILL_ONCE_STATE,
  type KillOnceState,
  recordAction,
  reviewActed,
} from "./decide/kill_once.ts";
import {
  exclusionsOf,
  HEADROOM_HORIZON_SECONDS,
  roundEnd,
  type Shortlist,
  type TickFacts,
  triesNextCandidate,
  type TriggerPolicy,
  TRIGGERS,
  underPressure,
} from "./decide/policy.ts";
import { INITIAL_SCAN_GATE, type ScanGateState, scanned, scanReason } from "./decide/scan_gate.ts";
import { type Candidate, candidateName, type Exclusions, type Selection } from "./decide/select.ts";
import { DecisionLog } from "./observe/decision_log.ts";
import type { Logger } from "./observe/log.ts";
import { podUidFromComponent } from "./sense/cgroup_layout.ts";
import type { NodeSensor } from "./sense/node_sensor.ts";
import type { PodScan } from "./sense/pod_scan.ts";

/** What the agent is given by main.ts (or a test, the demo, or replay). */
export interface AgentDeps {
  readonly sensor: NodeSensor;
  readonly clock: Clock;
  readonly kube: KubeApi;
  readonly log: Logger;
  /** Called after every tick with what it saw and did, and how long it took (metrics, health). */
  readonly onTick?: (report: TickReport, tickDurationMs: number) => void;
  /** Called as each tick of run() begins (liveness: a tick in progress may wait on the API). */
  readonly onTickStart?: () => void;
  /** Uniform in [0, 1): the jitter of the API backoff. Default Math.random. */
  readonly random?: () => number;
}

export type { Attempt, TickReport, TriggerKind } from "./decide/decision.ts";

export class Agent {
  readonly #config: Config;
  readonly #deps: AgentDeps;
  #pressure: PressureState = INITIAL_PRESSURE_STATE;
  #scanGate: ScanGateState = INITIAL_SCAN_GATE;
  #headroom: HeadroomState = INITIAL_HEADROOM_STATE;
  readonly #estimator: HeadroomSettings;
  #attribution: AttributionState = INITIAL_ATTRIBUTION_STATE;
  #oomWatch: OomWatchState = INITIAL_OOM_WATCH_STATE;
  /** The node's pods from the API, by cgroup UID (one LIST when a decision needs them). */
  readonly #pods: PodDirectory;
  /** Pods the agent deleted or evicted whose cgroup is still there (never acted on again). */
  #killOnce: KillOnceState = INITIAL_KILL_ONCE_STATE;
  /** Evict mode: since when every candidate's eviction has been blocked. */
  #evictFallback: EvictFallbackState = NOT_BLOCKED;
  /** The loop's log lines, with their throttling. */
  readonly #journal: DecisionLog;
  /** Ticks in a row whose swap counters could not be read. */
  #swapReadFailures = 0;
  /**
   * Writes whose outcome is unknown (5xx, timeout, broken answer), by cgroup UID: the pod is
   * read back on the next ticks until the API says what happened.
   */
  #unconfirmed = new Map<string, UnconfirmedWrite>();
  /** Failed LISTs in a row, and when the next may be sent. */
  readonly #reads = new FailureStreak();
  /** Writes refused in a row (4xx other than gone/conflict), and when the next LIST may go. */
  readonly #writes = new FailureStreak();

  constructor(config: Config, deps: AgentDeps) {
    this.#config = config;
    this.#deps = deps;
    this.#estimator = headroomEstimator(config.pollIntervalMs, config.headroomEstimator);
    this.#journal = new DecisionLog(deps.log, config);
    const random = deps.random ?? Math.random;
    this.#pods = new PodDirectory({
      kube: deps.kube,
      clock: deps.clock,
      nodeName: config.nodeName,
      reads: this.#reads,
      writes: this.#writes,
      backoff: (streak, retryAfterMs) =>
        backoffMs(streak, retryAfterMs, config.pollIntervalMs, random),
      onListFailed: (error, delayMs, failedCalls) =>
        this.#journal.listFailed(error, delayMs, failedCalls),
      onStreakEnded: (summary) => this.#journal.apiAnswersAgain(summary),
    });
  }

  /** Runs ticks every poll interval until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const { clock } = this.#deps;
    while (!signal.aborted) {
      const startedMs = clock.monotonicMs();
      this.#deps.onTickStart?.();
      let report: TickReport;
      try {
        report = await this.tick();
      } catch (error) {
        // tick() logs its own failures; this is the last line of defence of the loop.
        this.#journal.tickFailed(messageOf(error));
        report = { observation: null };
      }
      const elapsedMs = clock.monotonicMs() - startedMs;
      this.#deps.onTick?.(report, elapsedMs);
      await clock.sleep(Math.max(0, this.#config.pollIntervalMs - elapsedMs), signal);
    }
  }

  /** One pass of sense → decide → act. Never throws: every failure is logged. */
  async tick(): Promise<TickReport> {
    const { sensor, clock } = this.#deps;
    const config = this.#config;

    // 1. Sense: the node's swap I/O counters and memory totals (two small files, every tick).
    let swapIoPages: number;
    let nodeOomKills: number | null;
    try {
      const counters = await sensor.readSwapIo();
      swapIoPages = counters.swapInPages + counters.swapOutPages;
      nodeOomKills = counters.oomKills ?? null;
    } catch (error) {
      // Logged at once, then once a minute while it lasts; every tick is counted in metrics.
      this.#swapReadFailures++;
      this.#journal.swapCountersFailed(
        this.#swapReadFailures,
        messageOf(error),
        clock.monotonicMs(),
      );
      return { observation: null };
    }
    if (this.#swapReadFailures > 0) {
      this.#journal.swapCountersReadable(this.#swapReadFailures);
      this.#swapReadFailures = 0;
    }
    const meminfo = await sensor.readMeminfo().catch((error) => {
      this.#journal.meminfoFailed(messageOf(error), clock.monotonicMs());
      return undefined;
    });
    const nowMs = clock.monotonicMs();

    // 2. Decide: node swap I/O rate, window and cooldown.
    const observation = observeSwapIo(this.#pressure, { swapIoPages, atMs: nowMs }, config);
    this.#pressure = observation.state;
    this.#journal.tick(observation);
    // Act: read back the pods of writes whose outcome was unknown (no call otherwise).
    if (this.#unconfirmed.size > 0) await this.#confirmUnknownWrites(nowMs);
    const report = { observation, ...(meminfo ? { meminfo } : {}) };

    // 3. Decide: walk the pod cgroups only when something calls for it (never on a calm node).
    const swapUsedBytes = meminfo ? meminfo.swapTotalBytes - meminfo.swapFreeBytes : 0;
    const scanInputs = {
      swapUsedBytes,
      oomKills: nodeOomKills,
      nodeTriggerSustained: observation.phase === "sustained",
      // While evictions are blocked, every tick retries them.
      evictionsBlocked: this.#evictFallback.blockedSinceMs !== null,
    };
    const reason = scanReason(this.#scanGate, nowMs, scanInputs);
    if (reason === null) return report;

    // 4. Sense: every pod's memory figures. A pod that cannot be read is logged and left
    //    out; the others are still judged.
    const scan = await sensor.scanPods();
    for (const problem of scan.errors) this.#journal.scanProblem(problem, nowMs);

    // 5. Decide: kill-once bookkeeping. Forget pods whose cgroup is gone; report once the
    //    ones still there long after the agent acted on them (never acted on again).
    this.#reviewActed(scan, nowMs);

    // 6. Decide: swap headroom per container, per-pod swap I/O, and missed kernel kills.
    const headroom = updateHeadroom(
      this.#headroom,
      scan.pods,
      meminfo?.swapFreeBytes ?? Infinity,
      nowMs,
      this.#estimator,
    );
    this.#headroom = headroom.state;
    const atRisk = containersAtRisk(headroom.containers, HEADROOM_HORIZON_SECONDS);
    // While any container's swap grows, scan every tick: the estimate needs close readings.
    this.#scanGate = scanned(
      nowMs,
      scanInputs,
      atRisk.length > 0 || headroom.containers.some((c) => c.growing),
    );
    const attribution = attributeSwapIo(this.#attribution, scan.pods, nowMs);
    this.#attribution = attribution.state;
    const oom = watchOomKills(this.#oomWatch, scan.pods);
    this.#oomWatch = oom.state;
    for (const kill of oom.kills) {
      this.#journal.kernelKill(kill, this.#pods.get(kill.pod.uid));
    }
    const withPods = {
      ...report,
      pods: scan.pods,
      headroom: headroom.containers,
      kernelOomKills: oom.kills,
    };
    if (observation.phase === "cooldown") return withPods;

    // 7. Decide and act, most urgent rule first (see #triggers). A tick with no pressure
    //    at all stops the evict-fallback clock.
    const facts: TickFacts = {
      observation,
      meminfo,
      pods: scan.pods,
      containers: headroom.containers,
      atRisk,
      swapIoRates: attribution.available ? attribution.ratesPagesPerSecond : null,
      actedOn: actedOnUids(this.#killOnce),
    };
    const acted = await this.#runTriggers(facts);
    if (acted?.outcome === undefined) {
      this.#endRound(underPressure(facts, config) ? "inconclusive" : "no-pressure");
    }
    return { ...withPods, ...acted };
  }

  /** The rules of decide/policy.ts, most urgent first; the first that acts ends the tick. */
  async #runTriggers(facts: TickFacts): Promise<Partial<TickReport> | null> {
    for (const policy of TRIGGERS) {
      if (!policy.fires(facts, this.#config)) continue;
      const acted = await this.#runTrigger(policy, facts);
      if (acted) return acted;
    }
    return null;
  }

  /**
   * One rule: learn the grace periods it needs (one LIST, cached; a failed LIST leaves the
   * default 30 s in force), take its first cut, LIST the node's pods for a fresh view at
   * decision time (a pod may have started terminating), rank who may be chosen, and act
   * on the top of the ranking. Null when the next rule is to be tried.
   */
  async #runTrigger(
    policy: TriggerPolicy,
    facts: TickFacts,
  ): Promise<Partial<TickReport> | null> {
    const trigger = policy.kind;
    const nowMs = this.#deps.clock.monotonicMs();
    const refreshed = this.#pods.stale(policy.needsGraceOf(facts), nowMs) &&
      await this.#pods.refresh();
    const graceOf = (uid: string) => this.#pods.get(uid)?.terminationGracePeriodSeconds ?? null;
    const shortlist = policy.candidates(facts, this.#config, graceOf);
    const report = (selection: Selection) =>
      policy.style === "node" ? { trigger, selection } : null;
    if (!shortlist.flagged) {
      if (policy.style === "node") {
        this.#journal.noCandidate(trigger, facts.observation, shortlist.selection, nowMs);
      }
      return policy.ifNoCandidate === "report" ? { trigger, selection: shortlist.selection } : null;
    }
    if (!refreshed && !(await this.#pods.refresh())) return report(shortlist.selection);
    const selection = policy.victims(shortlist, this.#pods.pods(), this.#exclusions());
    this.#logPassedOver(policy, shortlist, selection, nowMs);
    if (selection.ranked.length === 0) {
      if (policy.style === "node") {
        this.#journal.noCandidate(trigger, facts.observation, selection, nowMs);
      }
      return report(selection);
    }
    const acted = await this.#attempt(
      trigger,
      selection,
      facts.observation,
      (victim) => policy.explain(victim, selection, shortlist, facts),
    );
    if (selection.attributed) this.#journal.rankedBySwapIo(selection);
    return acted;
  }

  /** The pods a rule wanted but may not choose: each with its alarm, or the static pods. */
  #logPassedOver(
    policy: TriggerPolicy,
    shortlist: Shortlist,
    selection: Selection,
    nowMs: number,
  ): void {
    if (policy.style === "node") return this.#journal.staticPodSources(selection, nowMs);
    for (const rejection of selection.rejected) {
      const alarm = shortlist.alarms!.get(rejection.candidate.stats.uid)!;
      this.#journal.headroomPassedOver(alarm, rejection, nowMs);
    }
  }

  /**
   * One round on `selection.ranked` (not empty), best first: re-check and terminate. In
   * evict mode a blocked eviction moves on to the next candidate; when every one is
   * blocked, later ticks try again, and past --evict-fallback-after the top candidate is
   * DELETEd. Then: the decision line, the cooldown, kill-once and the Event.
   */
  async #attempt(
    trigger: TriggerKind,
    selection: Selection,
    observation: PressureObservation,
    describe: (victim: Candidate) => DecisionText,
  ): Promise<Partial<TickReport>> {
    const config = this.#config;
    const how: TerminateHow = { dryRun: config.dryRun, mode: config.terminationMode, trigger };
    const tries: Attempt[] = [];
    for (const candidate of selection.ranked) {
      const outcome = await terminate(candidate, how, this.#deps);
      tries.push({ victim: candidate, outcome });
      if (!triesNextCandidate(outcome)) break;
    }
    const nowMs = this.#deps.clock.monotonicMs();
    const allBlocked = tries.every((attempt) => attempt.outcome.kind === "blocked");
    const wasBlocked = this.#evictFallback.blockedSinceMs !== null;
    const blockedMs = blockedForMs(this.#evictFallback, nowMs);
    let fellBack = false;
    if (allBlocked) {
      // Decide: blocked everywhere for long enough under continuous pressure → DELETE.
      if (fallbackDue(this.#evictFallback, nowMs, config.evictFallbackAfterMs)) {
        const top = selection.ranked[0]!;
        const outcome = await terminate(top, { ...how, mode: "delete" }, this.#deps);
        tries.push({
          victim: top,
          outcome: outcome.kind === "deleted" ? { ...outcome, fallback: true } : outcome,
        });
        fellBack = true;
      }
    }
    const { victim, outcome } = tries[tries.length - 1]!;
    const attempts = tries.slice(0, -1);
    // A refused write (RBAC, 429, a bad request) backs the next LIST off, and only the first
    // of a streak is an ERROR line; one that the API took ends the streak.
    const streakGoesOn = outcome.kind === "failed" && this.#writes.failures > 0;
    if (outcome.kind === "failed") {
      this.#writes.failed(
        outcome.message,
        nowMs,
        backoffMs(
          this.#writes,
          outcome.retryAfterMs ?? null,
          config.pollIntervalMs,
          this.#deps.random ?? Math.random,
        ),
      );
    } else if (
      outcome.kind !== "skipped" && outcome.kind !== "dry-run" &&
      outcome.kind !== "unknown"
    ) {
      const ended = this.#writes.ended(nowMs);
      if (ended !== null) this.#journal.apiAnswersAgain(ended);
    }
    this.#journal.round(describe(victim), { victim, outcome }, attempts, selection, {
      wasBlocked,
      blockedMs,
      fellBack,
      nowMs,
      streakGoesOn,
    });
    this.#endRound(roundEnd(outcome, startsCooldown(outcome)));

    // Decide: an action starts the cooldown and closes the window; a pod deleted or
    // evicted is never acted on again while its cgroup is there. A write whose outcome is
    // unknown counts as done until the pod is read back.
    if (startsCooldown(outcome)) this.#startCooldown();
    const wrote = outcome.kind === "deleted" || outcome.kind === "evicted" ||
      outcome.kind === "unknown";
    if (wrote && victim.pod !== null) {
      const action = outcome.kind === "evicted" ||
          (outcome.kind === "unknown" && config.terminationMode === "evict" && !fellBack)
        ? "evict"
        : "delete";
      this.#killOnce = recordAction(this.#killOnce, {
        uid: victim.stats.uid,
        name: candidateName(victim),
        action,
        atMs: this.#deps.clock.monotonicMs(),
        gracePeriodSeconds: victim.pod.terminationGracePeriodSeconds,
      }, config.cooldownPeriodMs);
      if (outcome.kind === "unknown") {
        this.#unconfirmed.set(victim.stats.uid, {
          ref: { namespace: victim.pod.namespace, name: victim.pod.name, uid: victim.pod.uid },
          action,
          failedReads: 0,
        });
      } else this.#unconfirmed.delete(victim.stats.uid);
    }
    // Act: an Event on the victim pod, so `kubectl describe pod` says why (never fatal).
    const event = await this.#recordEvent(trigger, observation, selection, victim, outcome);
    return {
      trigger,
      selection,
      victim,
      outcome,
      ...(attempts.length > 0 ? { attempts } : {}),
      ...event,
    };
  }

  /**
   * Reads back each pod whose write had an unknown outcome: gone or terminating → the write
   * took effect (it stays in kill-once); the same uid still running → it did not, and the
   * pod may be chosen again (after the cooldown that the write started). A failed read is
   * tried again next tick, logged once per streak.
   */
  async #confirmUnknownWrites(nowMs: number): Promise<void> {
    const { kube } = this.#deps;
    for (const [uid, write] of [...this.#unconfirmed]) {
      const pod = `${write.ref.namespace}/${write.ref.name}`;
      if (kube.getPod === undefined) {
        this.#unconfirmed.delete(uid);
        continue;
      }
      const read = await kube.getPod(write.ref);
      if (read.kind === "failed") {
        write.failedReads++;
        this.#journal.readBackFailed(
          uid,
          { pod, action: write.action, failedReads: write.failedReads },
          read.message,
          nowMs,
        );
        continue;
      }
      this.#unconfirmed.delete(uid);
      if (read.kind === "running") this.#killOnce = forgetAction(this.#killOnce, uid);
      this.#journal.readBack(uid, { pod, action: write.action, podUid: write.ref.uid }, read.kind);
    }
  }

  /** Feeds the evict-fallback clock how this tick ended. */
  #endRound(end: RoundEnd): void {
    this.#evictFallback = afterRound(this.#evictFallback, end, this.#deps.clock.monotonicMs());
  }

  /** Who may never be chosen, with the pods acted on so far. */
  #exclusions(): Exclusions {
    return exclusionsOf(this.#config, actedOnUids(this.#killOnce));
  }

  /** Kill-once after a scan: forget pods whose cgroup is gone, report stuck ones once. */
  #reviewActed(scan: PodScan, nowMs: number): void {
    if (this.#killOnce.acted.size === 0) return;
    // Pods the scan could not read are still there; a failed walk tells nothing.
    const present = new Set(scan.pods.map((pod) => pod.uid));
    let walkFailed = false;
    for (const problem of scan.errors) {
      const uid = podUidFromComponent(problem.cgroupPath.replace(/\/+$/, "").split("/").pop()!);
      if (uid === null) walkFailed = true;
      else present.add(uid);
    }
    const review = reviewActed(this.#killOnce, walkFailed ? null : present, nowMs);
    this.#killOnce = review.state;
    for (const pod of review.stuck) {
      this.#journal.stuck(pod, nowMs, this.#pods.get(pod.uid));
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
}

/** A write whose outcome is unknown, waiting to be read back. */
interface UnconfirmedWrite {
  readonly ref: PodRef;
  readonly action: "delete" | "evict";
  failedReads: number;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
