/**
 * The loop's log lines: the decision line of a round and everything the loop says about
 * what it saw, in one place so that the loop itself only names what happened. Repeated
 * lines go through a {@linkcode LogGate}: time comes in as monotonic ms from the injected
 * clock, never read here.
 */
import type { StreakSummary } from "../act/backoff.ts";
import { isAction, loggedAction, type Outcome } from "../act/outcome.ts";
import type { Config } from "../config.ts";
import type { Attempt, DecisionText, EarlyWarningReport, TriggerKind } from "../decide/decision.ts";
import { evidence } from "../decide/explain.ts";
import type { HeadroomAlarm } from "../decide/headroom.ts";
import type { ActedPod } from "../decide/kill_once.ts";
import type { PressureObservation } from "../decide/node_pressure.ts";
import type { KernelOomKill } from "../decide/oom_watch.ts";
import type { MirrorConflict, PodMeta } from "../decide/pod_meta.ts";
import { candidateName, isExclusion, type Rejection, type Selection } from "../decide/select.ts";
import type { PodScanError } from "../sense/pod_scan.ts";
import { logEarlyWarning } from "./early_warning_log.ts";
import type { Logger } from "./log.ts";
import { LogGate } from "./log_gate.ts";

/** How a round went, beyond its attempts: what the decision line needs to say. */
export interface RoundFacts {
  /** Every eviction was blocked already before this round. */
  readonly wasBlocked: boolean;
  /** For how long, ms. */
  readonly blockedMs: number;
  readonly fellBack: boolean;
  readonly nowMs: number;
  /** A failed write after others failed: logged at debug level (one ERROR per streak). */
  readonly streakGoesOn: boolean;
}

export type DecisionLogConfig =
  & Pick<
    Config,
    | "dryRun"
    | "terminationMode"
    | "evictFallbackAfterMs"
    | "psiThresholdPercent"
    | "sustainedDurationMs"
    | "nodeName"
  >
  & {
    /** Replay: actions are simulated; the outcome of a simulated write reads `dry-run`. */
    readonly simulated?: boolean;
  };

/** The loop's log lines, rate-limited where a condition may last. */
export class DecisionLog {
  readonly #log: Logger;
  readonly #config: DecisionLogConfig;
  /** Repeated lines by key, once a minute. */
  readonly #repeats = new LogGate();
  /** "Pressure without a candidate": once per sustained duration. */
  readonly #quiet: LogGate;

  constructor(log: Logger, config: DecisionLogConfig) {
    this.#log = log;
    this.#config = config;
    this.#quiet = new LogGate(config.sustainedDurationMs);
  }

  /** The loop's last line of defence: a tick threw. */
  tickFailed(error: string): void {
    this.#log.error("Tick failed: {error}", { error });
  }

  /** Logged at once, then once a minute while it lasts. */
  swapCountersFailed(failedTicks: number, error: string, nowMs: number): void {
    if (!this.#repeats.allows("swap counters", nowMs)) return;
    this.#log.error("Cannot read swap counters ({failedTicks} ticks in a row): {error}", {
      failedTicks,
      error,
    });
  }

  swapCountersReadable(failedTicks: number): void {
    this.#log.info("Swap counters readable again after {failedTicks} failed ticks", {
      failedTicks,
    });
    this.#repeats.reopen("swap counters");
  }

  meminfoFailed(error: string, nowMs: number): void {
    if (!this.#repeats.allows("meminfo", nowMs)) return;
    this.#log.error("Cannot read node memory totals: {error}", { error });
  }

  scanProblem(problem: PodScanError, nowMs: number): void {
    if (!this.#repeats.allows(`scan ${problem.cgroupPath} ${problem.message}`, nowMs)) return;
    this.#log.error("Cannot read pod cgroup {cgroupPath}: {message}", { ...problem });
  }

  /** Every tick, at debug level: the rate, the window and the cooldown. */
  tick(observation: PressureObservation): void {
    const { reading } = observation;
    this.#log.debug(
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
    if (reading.counterReset) this.#log.warn("Swap counters went backwards: window restarted");
  }

  /** An early warning (once per pod and episode): the projection, and the Event. */
  earlyWarning(warning: EarlyWarningReport, excludedBecause: Rejection["reason"] | null): void {
    logEarlyWarning(this.#log, warning, excludedBecause);
  }

  /** A headroom alarm for a pod that may not be chosen (once a minute per pod and reason). */
  headroomPassedOver(alarm: HeadroomAlarm, rejection: Rejection, nowMs: number): void {
    const uid = rejection.candidate.stats.uid;
    if (!this.#repeats.allows(`headroom ${uid} ${rejection.reason}`, nowMs)) return;
    this.#log.info("Headroom alarm for {pod} passed over: {reason}", {
      pod: candidateName(rejection.candidate),
      reason: rejection.reason,
      container: alarm.container.containerId,
    });
    if (rejection.reason === "mirror pod of a static pod") this.staticPodSource(rejection, nowMs);
  }

  /** The static pods among the rejected: their mirror pods are never deleted. */
  staticPodSources(selection: Selection, nowMs: number): void {
    for (const rejection of selection.rejected) {
      if (rejection.reason === "mirror pod of a static pod") {
        this.staticPodSource(rejection, nowMs);
      }
    }
  }

  /** A static pod among the pressure sources: its mirror pod is never deleted. */
  staticPodSource(rejection: Rejection, nowMs: number): void {
    const { candidate } = rejection;
    if (!this.#repeats.allows(`static ${candidate.stats.uid}`, nowMs)) return;
    this.#log.warn(
      "Static pod {pod} is a source of the pressure (swap {swapBytes} bytes, full avg10 " +
        "{fullAvg10Percent}%): the agent never deletes its mirror pod, which would not stop " +
        "it; change or remove its manifest on the node",
      {
        pod: candidateName(candidate),
        staticPodUid: candidate.stats.uid,
        swapBytes: candidate.stats.swapCurrentBytes,
        fullAvg10Percent: candidate.stats.fullAvg10Percent,
      },
    );
  }

  /** A node trigger fired and nobody qualifies: once per sustained duration. */
  noCandidate(
    trigger: TriggerKind,
    observation: PressureObservation,
    selection: Selection,
    nowMs: number,
  ): void {
    if (!this.#quiet.allows("no candidate", nowMs)) return;
    const why = trigger === "node-swap-free"
      ? "Node swap nearly exhausted"
      : "Sustained swap I/O {ratePagesPerSecond} pages/s for {windowSeconds} s";
    const passedOver = passedOverNames(selection);
    this.#log.warn(
      why + " but no pod qualifies (psi threshold {psiThresholdPercent}%" +
        (passedOver.length > 0 ? "; passed over {passedOver}" : "") + "): no action",
      {
        trigger,
        ...evidence(observation, selection),
        psiThresholdPercent: this.#config.psiThresholdPercent,
        ...(passedOver.length > 0 ? { passedOver } : {}),
      },
    );
  }

  /** The victims of a node trigger were ranked by their own swap I/O. */
  rankedBySwapIo(selection: Selection): void {
    const top = selection.ranked[0]?.stats.swapIoSource ?? "pswpin/pswpout";
    this.#log.info("Victim ranked by per-pod swap I/O (memory.stat {source})", { source: top });
  }

  /**
   * The decision line of a round: why, then `{action} {victim} → {outcome}`, who was
   * passed over and why, and the evictions a PodDisruptionBudget blocked. A round where
   * every eviction stays blocked is logged once at warning level, then at debug level
   * each tick until something changes.
   */
  round(
    text: DecisionText,
    last: Attempt,
    attempts: readonly Attempt[],
    selection: Selection,
    round: RoundFacts,
  ): void {
    const { outcome } = last;
    const message = roundMessage(text, outcome, attempts, selection, round, this.#config);
    const properties = roundProperties(text, last, attempts, selection, round, this.#config);
    this.#multiPdb([...attempts, last], round.nowMs);
    const log = this.#log;
    if (outcome.kind === "failed") {
      if (round.streakGoesOn) log.debug(message, properties);
      else log.error(message, properties);
    } else if (outcome.kind === "unknown") {
      log.warn(
        message + "; counted as done: cooldown started, the pod is read back next tick",
        properties,
      );
    } else if (isAction(outcome)) log.warn(message, properties);
    else if (outcome.kind === "blocked") {
      if (!round.wasBlocked) log.warn(message, properties);
      else log.debug(message, properties);
    } else log.info(message, properties);
  }

  /** Several PodDisruptionBudgets on one pod will not fix themselves: an error, per pod. */
  #multiPdb(attempts: readonly Attempt[], nowMs: number): void {
    for (const attempt of attempts) {
      const o = attempt.outcome;
      if (o.kind !== "blocked" || o.code === 429) continue;
      if (this.#repeats.allows(`multi-pdb ${attempt.victim.stats.uid}`, nowMs)) {
        this.#log.error("Cannot evict {pod}: {error}", {
          pod: candidateName(attempt.victim),
          error: o.message,
        });
      }
    }
  }

  /** A pod the agent acted on that is still there past its deadline (logged once). */
  stuck(pod: ActedPod, nowMs: number, meta: PodMeta | undefined): void {
    this.#log.warn(
      "Pod {pod} is stuck terminating: still there {seconds} s after the agent's {action} " +
        "(check its finalizers and the kubelet); it is not acted on again",
      {
        pod: pod.name,
        podUid: pod.uid,
        action: pod.action,
        seconds: Math.round((nowMs - pod.atMs) / 1000),
        apiShowsTerminating: meta?.terminating ?? null,
      },
    );
  }

  kernelKill(kill: KernelOomKill, pod: PodMeta | undefined): void {
    this.#log.error(
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

  /** A pod written to with an unclear answer could not be read back (once a minute). */
  readBackFailed(
    uid: string,
    write: { readonly pod: string; readonly action: string; readonly failedReads: number },
    error: string,
    nowMs: number,
  ): void {
    if (!this.#repeats.allows(`confirm ${uid}`, nowMs)) return;
    this.#log.error(
      "Cannot read back {pod} after an unclear answer to its {action}: {error}; it " +
        "counts as done until the API answers",
      { pod: write.pod, action: write.action, error, failedReads: write.failedReads },
    );
  }

  /** The API answered about a pod written to with an unclear answer. */
  readBack(
    uid: string,
    write: { readonly pod: string; readonly action: string; readonly podUid: string },
    state: "running" | "gone" | "terminating",
  ): void {
    this.#repeats.reopen(`confirm ${uid}`);
    const { pod, action, podUid } = write;
    if (state === "running") {
      this.#log.warn(
        `Read back {pod} after an unclear answer: still running with the same uid, so the ` +
          `{action} did not happen; it may be chosen again after the cooldown`,
        { pod, action, podUid },
      );
    } else {
      this.#log.info(
        `Read back {pod} after an unclear answer: ${state}: the {action} took effect`,
        { pod, action, podUid, state },
      );
    }
  }

  /** A LIST failed: the first of a streak is an ERROR line, the rest debug. */
  listFailed(error: string, delayMs: number, failedCalls: number): void {
    const properties = {
      nodeName: this.#config.nodeName,
      error,
      retrySeconds: Math.round(delayMs / 100) / 10,
      failedCalls,
    };
    if (failedCalls === 1) {
      this.#log.error(
        "Cannot list pods on node {nodeName}: {error}; next try in {retrySeconds} s (further " +
          "failures at debug level until it works)",
        properties,
      );
    } else {
      this.#log.debug(
        "Cannot list pods on node {nodeName} ({failedCalls} failed calls): {error}; next try " +
          "in {retrySeconds} s",
        properties,
      );
    }
  }

  /** A streak of failed API calls ended: one summary line. */
  apiAnswersAgain(streak: StreakSummary): void {
    this.#log.info(
      "API answers again after {failedCalls} failed calls over {seconds} s (last error: " +
        "{error})",
      { failedCalls: streak.failedCalls, seconds: streak.seconds, error: streak.lastError },
    );
  }

  /**
   * A pod claims (by `kubernetes.io/config.mirror`) to mirror a static pod whose UID the API
   * lists as another pod's: the claim is ignored and each pod judged on its own record (the
   * caller tells each conflict once).
   */
  mirrorConflict(conflict: MirrorConflict): void {
    const { claimant, holder } = conflict;
    this.#log.warn(
      "Pod {pod} claims to be the mirror pod of static pod {claimedUid}, but the API lists " +
        "{holder} under that UID: the claim is ignored, each pod is judged on its own record",
      {
        pod: `${claimant.namespace}/${claimant.name}`,
        podUid: claimant.uid,
        claimedUid: claimant.mirrorOfUid,
        holder: `${holder.namespace}/${holder.name}`,
      },
    );
  }
}

/** The pods the ranking wanted but may not choose, `name (reason)`. */
function passedOverNames(selection: Selection): string[] {
  return selection.rejected
    .filter((rejection) => isExclusion(rejection.reason))
    .map((rejection) => `${candidateName(rejection.candidate)} (${rejection.reason})`);
}

/** The names of the candidates whose eviction was blocked before the last attempt. */
function blockedNames(attempts: readonly Attempt[]): string[] {
  return attempts
    .filter((attempt) => attempt.outcome.kind === "blocked")
    .map((attempt) => candidateName(attempt.victim));
}

/** The template of a decision line. */
function roundMessage(
  text: DecisionText,
  outcome: Outcome,
  attempts: readonly Attempt[],
  selection: Selection,
  round: RoundFacts,
  config: DecisionLogConfig,
): string {
  let message = text.message + ": {action} {victim} → {outcome}";
  if ("message" in outcome || "why" in outcome) message += ": {detail}";
  if (passedOverNames(selection).length > 0) message += "; passed over {passedOver}";
  if (blockedNames(attempts).length > 0) message += "; evictions blocked: {blocked}";
  if (round.fellBack) {
    message += "; every eviction blocked for {blockedSeconds} s: fell back to DELETE";
  } else if (outcome.kind === "blocked") {
    message += config.evictFallbackAfterMs > 0
      ? "; every eviction blocked: retrying every tick, DELETE of the top candidate after " +
        "{evictFallbackAfterSeconds} s"
      : "; every eviction blocked: retrying every tick (--evict-fallback-after=0: no DELETE)";
  }
  return message;
}

/** The properties of a decision line. */
function roundProperties(
  text: DecisionText,
  { victim, outcome }: Attempt,
  attempts: readonly Attempt[],
  selection: Selection,
  round: RoundFacts,
  config: DecisionLogConfig,
): Record<string, unknown> {
  const passedOver = passedOverNames(selection);
  const blocked = blockedNames(attempts);
  return {
    ...text.properties,
    victim: candidateName(victim),
    victimUid: victim.pod?.uid,
    action: loggedAction(outcome, config),
    outcome: config.simulated && (outcome.kind === "deleted" || outcome.kind === "evicted")
      ? "dry-run"
      : outcome.kind,
    ...("message" in outcome ? { detail: outcome.message } : {}),
    ...("why" in outcome ? { detail: outcome.why } : {}),
    ...(passedOver.length > 0 ? { passedOver } : {}),
    ...(blocked.length > 0
      ? {
        blocked,
        blockedDetails: attempts.flatMap((a) =>
          a.outcome.kind === "blocked" ? [a.outcome.message] : []
        ),
      }
      : {}),
    ...(round.fellBack || outcome.kind === "blocked"
      ? {
        blockedSeconds: Math.round(round.blockedMs / 100) / 10,
        evictFallbackAfterSeconds: config.evictFallbackAfterMs / 1000,
      }
      : {}),
  };
}
