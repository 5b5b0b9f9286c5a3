/**
 * The loop: sense → decide → act, once per poll interval. Each tick reads like a script of
 * named steps over one state record (decide/agent_state.ts): the rules are values in
 * decide/policy.ts, the round is act/round.ts, the log lines observe/decision_log.ts. All
 * judgement lives in decide/, all I/O in sense/ and act/.
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
import { backoffMs, FailureStreak } from "./act/backoff.ts";
import type { KubeApi } from "./act/kube_client.ts";
import { PodDirectory } from "./act/pod_directory.ts";
import { confirmUnknownWrites } from "./act/read_back.ts";
import { Round } from "./act/round.ts";
import type { Clock } from "./clock.ts";
import type { Config } from "./config.ts";
import {
  type AgentState,
  decideNode,
  decidePods,
  INITIAL_AGENT_STATE,
  type NodeReading,
  type NodeStep,
  settle,
} from "./decide/agent_state.ts";
import type { Decision, EarlyWarningReport, TickReport } from "./decide/decision.ts";
import {
  dueWarnings,
  type EarlyWarningState,
  INITIAL_EARLY_WARNING_STATE,
  markWarned,
} from "./decide/early_warning.ts";
import { actedOnUids } from "./decide/kill_once.ts";
import type { KernelOomKill } from "./decide/oom_watch.ts";
import { containerName, nameContainers } from "./decide/named_containers.ts";
import { headroomEstimator, type HeadroomSettings } from "./decide/headroom_settings.ts";
import {
  exclusionsOf,
  type Shortlist,
  type TickFacts,
  type TriggerPolicy,
  TRIGGERS,
  underPressure,
} from "./decide/policy.ts";
import { exclusionOf, type Selection } from "./decide/select.ts";
import { recordEarlyWarning } from "./act/warning_event.ts";
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
  /** Random bytes, for the names of Events. Default `crypto.getRandomValues`. */
  readonly randomBytes?: (length: number) => Uint8Array;
  /**
   * The headroom estimator's settings instead of `--headroom-estimator`'s: for comparing
   * variants over recorded traces (tests/replay/alternatives.ts), never set in production.
   */
  readonly estimator?: HeadroomSettings;
  /**
   * Replay: the API is a stand-in that only takes notes, so the loop acts as if armed (the
   * kill-once and cooldown rules apply) but speaks as in dry-run ("would delete … →
   * dry-run") and posts no Event: nothing is sent anywhere.
   */
  readonly simulated?: boolean;
}

export type { Attempt, TickReport, TriggerKind } from "./decide/decision.ts";

export class Agent {
  readonly #config: Config;
  readonly #deps: AgentDeps;
  readonly #estimator: HeadroomSettings;
  /** Everything decide/ remembers between ticks; each step of a tick writes it once. */
  #state: AgentState = INITIAL_AGENT_STATE;
  /** The loop's log lines, with their throttling. */
  readonly #journal: DecisionLog;
  /** The node's pods from the API, by cgroup UID (one LIST when a decision needs them). */
  readonly #pods: PodDirectory;
  /** Terminates down a ranking: re-check, try, fall back, the decision line, the Event. */
  readonly #round: Round;
  /** Pods given the early warning in their current episode. */
  #warned: EarlyWarningState = INITIAL_EARLY_WARNING_STATE;
  /** The node's swap I/O counters as last read (the raw counters in /metrics). */
  #swapIoPages: { readonly in: number; readonly out: number } | null = null;

  constructor(config: Config, deps: AgentDeps) {
    this.#config = config;
    this.#deps = deps;
    this.#estimator = deps.estimator ??
      headroomEstimator(config.pollIntervalMs, config.headroomEstimator);
    const journal = this.#journal = new DecisionLog(
      deps.log,
      deps.simulated ? { ...config, dryRun: true, simulated: true } : config,
    );
    const random = deps.random ?? Math.random;
    const backoff = (streak: FailureStreak, retryAfterMs: number | null) =>
      backoffMs(streak, retryAfterMs, config.pollIntervalMs, random);
    /** Writes refused in a row: while they back off, no LIST goes out either. */
    const writes = new FailureStreak();
    this.#pods = new PodDirectory({
      kube: deps.kube,
      clock: deps.clock,
      nodeName: config.nodeName,
      reads: new FailureStreak(),
      writes,
      backoff,
      onListFailed: (error, delayMs, failedCalls) =>
        journal.listFailed(error, delayMs, failedCalls),
      onStreakEnded: (summary) => journal.apiAnswersAgain(summary),
      onMirrorConflict: (conflict) => journal.mirrorConflict(conflict),
    });
    this.#round = new Round({ ...deps, journal, writes, backoff }, config);
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
    // Sense: the node's swap I/O counters and memory totals (two small files, every tick).
    const node = await this.#senseNode();
    if (node === null) return { observation: null };
    // Decide: node swap I/O rate, window and cooldown; whether to walk the pod cgroups.
    const step = decideNode(this.#state, node, this.#config);
    this.#state = step.state;
    this.#journal.tick(step.observation);
    // Act: read back the pods of writes whose outcome was unknown (no call otherwise).
    const inDoubt = await confirmUnknownWrites(
      this.#state,
      this.#deps.kube,
      this.#journal,
      node.atMs,
    );
    this.#state = { ...this.#state, ...inDoubt };
    const report = {
      observation: step.observation,
      ...(node.meminfo ? { meminfo: node.meminfo } : {}),
      ...(this.#swapIoPages ? { swapIoPages: this.#swapIoPages } : {}),
    };
    if (step.scanReason === null) return report;

    // Sense, then decide: every pod's figures; kill-once, headroom, attribution, OOM kills.
    const facts = await this.#sensePods(step, node);
    // Warn: an Event on each pod newly projected to reach its swap limit within the
    // look-ahead, dry-run or armed, whoever may be chosen (before any action).
    const earlyWarnings = await this.#warnEarly(facts, node.atMs);
    const withPods = {
      ...report,
      pods: facts.pods,
      headroom: facts.containers,
      swapContainers: nameContainers(facts.containers, (uid) => this.#pods.get(uid)),
      ...(earlyWarnings.length > 0 ? { earlyWarnings } : {}),
      kernelOomKills: facts.kernelOomKills,
    };
    if (step.observation.phase === "cooldown") return withPods;

    // Decide, most urgent rule first (decide/policy.ts); act on the decision; settle.
    const decision = await this.#decide(facts);
    if (decision.kind !== "act") {
      // A tick with no pressure at all stops the evict-fallback clock.
      const end = { round: null, pressure: underPressure(facts, this.#config) };
      this.#state = settle(this.#state, end, this.#deps.clock.monotonicMs(), this.#config);
      return decision.kind === "none"
        ? withPods
        : { ...withPods, trigger: decision.trigger, selection: decision.selection };
    }
    return { ...withPods, ...await this.#act(decision, facts) };
  }

  /** The node's counters and memory totals; null (logged) when the counters are unreadable. */
  async #senseNode(): Promise<NodeReading | null> {
    const { sensor, clock } = this.#deps;
    let counters;
    try {
      counters = await sensor.readSwapIo();
    } catch (error) {
      // Logged at once, then once a minute while it lasts; every tick is counted in metrics.
      const failedTicks = this.#state.swapReadFailures + 1;
      this.#state = { ...this.#state, swapReadFailures: failedTicks };
      this.#journal.swapCountersFailed(failedTicks, messageOf(error), clock.monotonicMs());
      return null;
    }
    if (this.#state.swapReadFailures > 0) {
      this.#journal.swapCountersReadable(this.#state.swapReadFailures);
      this.#state = { ...this.#state, swapReadFailures: 0 };
    }
    const meminfo = await sensor.readMeminfo().catch((error) => {
      this.#journal.meminfoFailed(messageOf(error), clock.monotonicMs());
      return undefined;
    });
    this.#swapIoPages = { in: counters.swapInPages, out: counters.swapOutPages };
    return {
      swapIoPages: counters.swapInPages + counters.swapOutPages,
      oomKills: counters.oomKills ?? null,
      meminfo,
      atMs: clock.monotonicMs(),
    };
  }

  /**
   * Every pod's memory figures (a pod that cannot be read is logged and left out; the
   * others are still judged), then the pure pods step; what it found is logged.
   */
  async #sensePods(step: NodeStep, node: NodeReading): Promise<TickFacts & PodsFound> {
    const nowMs = node.atMs;
    const scan = await this.#deps.sensor.scanPods();
    for (const problem of scan.errors) this.#journal.scanProblem(problem, nowMs);
    const present = this.#state.killOnce.acted.size === 0 ? null : cgroupsPresent(scan);
    const pods = decidePods(
      { ...step, state: this.#state },
      { pods: scan.pods, present, meminfo: node.meminfo, atMs: nowMs },
      this.#estimator,
    );
    this.#state = pods.state;
    for (const pod of pods.stuck) this.#journal.stuck(pod, nowMs, this.#pods.get(pod.uid));
    for (const kill of pods.kernelOomKills) {
      this.#journal.kernelKill(kill, this.#pods.get(kill.pod.uid));
    }
    return {
      observation: step.observation,
      meminfo: node.meminfo,
      pods: scan.pods,
      containers: pods.containers,
      atRisk: pods.atRisk,
      swapIoRates: pods.swapIoRates,
      actedOn: actedOnUids(this.#state.killOnce),
      kernelOomKills: pods.kernelOomKills,
    };
  }

  /**
   * The early warnings due this scan (decide/early_warning.ts), one Event each. A pod not
   * named yet costs one LIST (cached, as the headroom trigger's); a pod the API does not
   * know, or one already going (terminating, acted on), is not warned.
   */
  async #warnEarly(facts: TickFacts, nowMs: number): Promise<EarlyWarningReport[]> {
    const lookaheadMs = this.#config.earlyWarningLookaheadMs;
    const { state, due } = dueWarnings(this.#warned, facts.containers, lookaheadMs, nowMs);
    this.#warned = state;
    if (due.length === 0) return [];
    const uids = due.map((d) => d.container.podUid).filter((uid) => !facts.actedOn.has(uid));
    const listed = this.#pods.stale(uids, nowMs) ? await this.#pods.refresh() : true;
    const exclusions = exclusionsOf(this.#config, actedOnUids(this.#state.killOnce));
    const warnings: EarlyWarningReport[] = [];
    for (const { container } of due) {
      const pod = this.#pods.get(container.podUid);
      // Unknown after a LIST that failed: tried again at the next scan.
      if (pod === undefined && !listed) continue;
      this.#warned = markWarned(this.#warned, container.podUid, nowMs);
      if (pod === undefined) continue;
      const excludedBecause = exclusionOf(pod, container.podUid, exclusions);
      if (excludedBecause === "already acted on" || excludedBecause === "terminating") continue;
      const name = containerName(pod, container.containerId);
      const event = this.#deps.simulated
        ? "not sent (replay)" as const
        : await recordEarlyWarning(this.#deps, {
          pod: { namespace: pod.namespace, name: pod.name, uid: pod.uid },
          containerName: name,
          headroom: container,
          lookaheadSeconds: Math.round(lookaheadMs / 1000),
          excludedBecause,
          dryRun: this.#config.dryRun,
          nodeName: this.#config.nodeName,
        });
      const warning = {
        namespace: pod.namespace,
        pod: pod.name,
        container: name,
        headroom: container,
        event,
      };
      this.#journal.earlyWarning(warning, excludedBecause);
      warnings.push(warning);
    }
    return warnings;
  }

  /** The rules of decide/policy.ts, most urgent first; the first that decides ends the walk. */
  async #decide(facts: TickFacts): Promise<Decision> {
    for (const policy of TRIGGERS) {
      if (!policy.fires(facts, this.#config)) continue;
      const decision = await this.#judge(policy, facts);
      if (decision !== null) return decision;
    }
    return { kind: "none" };
  }

  /**
   * One rule: learn the grace periods it needs (one LIST, cached; a failed LIST leaves the
   * default 30 s in force), take its first cut, LIST the node's pods for a fresh view at
   * decision time (a pod may have started terminating), and rank who may be chosen. Null
   * when the next rule is to be tried.
   */
  async #judge(policy: TriggerPolicy, facts: TickFacts): Promise<Decision | null> {
    const trigger = policy.kind;
    const nowMs = this.#deps.clock.monotonicMs();
    const refreshed = this.#pods.stale(policy.needsGraceOf(facts), nowMs) &&
      await this.#pods.refresh();
    const graceOf = (uid: string) => this.#pods.get(uid)?.terminationGracePeriodSeconds ?? null;
    const shortlist = policy.candidates(facts, this.#config, graceOf);
    const report = (selection: Selection): Decision | null =>
      policy.style === "node" ? { kind: "report", trigger, selection } : null;
    if (!shortlist.flagged) {
      if (policy.style === "node") {
        this.#journal.noCandidate(trigger, facts.observation, shortlist.selection, nowMs);
      }
      return policy.ifNoCandidate === "report"
        ? { kind: "report", trigger, selection: shortlist.selection }
        : null;
    }
    if (!refreshed && !(await this.#pods.refresh())) return report(shortlist.selection);
    const exclusions = exclusionsOf(this.#config, actedOnUids(this.#state.killOnce));
    const selection = policy.victims(shortlist, this.#pods.pods(), exclusions);
    this.#logPassedOver(policy, shortlist, selection, nowMs);
    if (selection.ranked.length === 0) {
      if (policy.style === "node") {
        this.#journal.noCandidate(trigger, facts.observation, selection, nowMs);
      }
      return report(selection);
    }
    const explain = (victim: Selection["ranked"][number]) =>
      policy.explain(victim, selection, shortlist, facts);
    return { kind: "act", trigger, selection, explain };
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
   * Act on a decision: the round (re-check, terminate, fall back, the decision line), then
   * the state it leaves (cooldown, kill-once, the fallback clock), then an Event on the
   * victim pod so that `kubectl describe pod` says why (never fatal).
   */
  async #act(
    decision: Extract<Decision, { kind: "act" }>,
    facts: TickFacts,
  ): Promise<Partial<TickReport>> {
    const { trigger, selection } = decision;
    const round = await this.#round.run(decision, this.#state.evictFallback);
    this.#state = settle(this.#state, { round }, round.atMs, this.#config);
    const event = this.#deps.simulated
      ? undefined
      : await this.#round.announce(trigger, facts.observation, selection, round);
    if (selection.attributed) this.#journal.rankedBySwapIo(selection);
    return {
      trigger,
      selection,
      victim: round.victim,
      outcome: round.outcome,
      ...(round.attempts.length > 0 ? { attempts: round.attempts } : {}),
      ...(event === undefined ? {} : { event }),
    };
  }
}

/** What the pods step found beyond the triggers' facts (for the tick report). */
interface PodsFound {
  readonly kernelOomKills: readonly KernelOomKill[];
}

/**
 * Every pod cgroup a scan saw, those it could not read included; null when the walk itself
 * failed (a failed walk tells nothing).
 */
function cgroupsPresent(scan: PodScan): ReadonlySet<string> | null {
  const present = new Set(scan.pods.map((pod) => pod.uid));
  for (const problem of scan.errors) {
    const uid = podUidFromComponent(problem.cgroupPath.replace(/\/+$/, "").split("/").pop()!);
    if (uid === null) return null;
    present.add(uid);
  }
  return present;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
