/**
 * The loop: sense → decide → act, once per poll interval. Each tick reads like a script;
 * all judgement lives in decide/, all I/O in sense/ and act/.
 */
import type { KubeApi } from "./act/kube_client.ts";
import { isAction, type Outcome, terminate } from "./act/terminate.ts";
import type { Clock } from "./clock.ts";
import type { Config } from "./config.ts";
import {
  afterAction,
  INITIAL_PRESSURE_STATE,
  observeSwapIo,
  type PressureObservation,
  type PressureState,
} from "./decide/node_pressure.ts";
import {
  type Candidate,
  candidateName,
  preselect,
  type Selection,
  selectVictims,
} from "./decide/select.ts";
import type { Logger } from "./observe/log.ts";
import type { NodeSensor } from "./sense/node_sensor.ts";

/** What the agent is given by main.ts (or a test, or the demo). */
export interface AgentDeps {
  readonly sensor: NodeSensor;
  readonly clock: Clock;
  readonly kube: KubeApi;
  readonly log: Logger;
  /** Called after every tick with what it saw and did, and how long it took (metrics, health). */
  readonly onTick?: (report: TickReport, tickDurationMs: number) => void;
}

/** What one tick saw and did; the demo and tests read it. */
export interface TickReport {
  /** Null when the swap counters could not be read this tick. */
  readonly observation: PressureObservation | null;
  /** The ranked candidates, when the window was full and pods were scanned. */
  readonly selection?: Selection;
  /** The pod acted on (or that would have been, in dry-run). */
  readonly victim?: Candidate;
  readonly outcome?: Outcome;
}

export class Agent {
  readonly #config: Config;
  readonly #deps: AgentDeps;
  #state: PressureState = INITIAL_PRESSURE_STATE;
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

    // 1. Sense: the node's cumulative swap I/O counters (one small file, every tick).
    let swapIoPages: number;
    try {
      const counters = await sensor.readSwapIo();
      swapIoPages = counters.swapInPages + counters.swapOutPages;
    } catch (error) {
      log.error("Cannot read swap counters from {path}: {error}", {
        path: `${config.procRoot}/vmstat`,
        error: String(error),
      });
      return { observation: null };
    }
    const nowMs = clock.monotonicMs();

    // 2. Decide: rate, window and cooldown. Nothing more happens unless the window is full.
    const observation = observeSwapIo(this.#state, { swapIoPages, atMs: nowMs }, config);
    this.#state = observation.state;
    const { reading } = observation;
    log.debug(
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
    if (reading.counterReset) log.warn("Swap counters went backwards: window restarted");
    if (observation.phase !== "sustained") return { observation };

    // 3. Sense: scan the pod cgroups (only now: no directory walks while the node is calm).
    const scan = await sensor.scanPods();
    for (const problem of scan.errors) {
      log.error("Cannot read pod cgroup {cgroupPath}: {message}", { ...problem });
    }

    // 4. Decide: candidates from cgroup figures alone; none means no API call at all.
    const preselected = preselect(scan.pods, config.psiThresholdPercent);
    if (preselected.ranked.length === 0) {
      this.#logNoCandidate(observation, preselected, nowMs);
      return { observation, selection: preselected };
    }

    // 5. Act: one LIST of this node's pods, to map cgroup UIDs to pods.
    let selection: Selection;
    try {
      selection = selectVictims(preselected, await this.#deps.kube.listNodePods(config.nodeName));
    } catch (error) {
      log.error("Cannot list pods on node {nodeName}: {error}", {
        nodeName: config.nodeName,
        error: error instanceof Error ? error.message : String(error),
      });
      return { observation, selection: preselected };
    }

    // 6. Decide: the victim is the top of the ranking.
    const victim = selection.ranked[0];
    if (victim === undefined) {
      this.#logNoCandidate(observation, selection, nowMs);
      return { observation, selection };
    }

    // 7. Act: re-check, then delete (or say what would be deleted), and log the decision.
    const outcome = await terminate(victim, config.dryRun, this.#deps);
    this.#logDecision(observation, selection, victim, outcome);

    // 8. Decide: an action starts the cooldown and closes the window.
    if (isAction(outcome)) this.#state = afterAction(this.#state, clock.monotonicMs(), config);
    return { observation, selection, victim, outcome };
  }

  #logDecision(
    observation: PressureObservation,
    selection: Selection,
    victim: Candidate,
    outcome: Outcome,
  ): void {
    const { log } = this.#deps;
    const action = this.#config.dryRun ? "would delete" : "delete";
    const properties = {
      ...evidence(observation, selection),
      victim: candidateName(victim),
      victimUid: victim.pod?.uid,
      action,
      outcome: outcome.kind,
      ...("message" in outcome ? { detail: outcome.message } : {}),
      ...("why" in outcome ? { detail: outcome.why } : {}),
    };
    const message = "Sustained swap I/O {ratePagesPerSecond} pages/s for {windowSeconds} s: " +
      "{action} {victim} → {outcome}";
    if (outcome.kind === "failed") log.error(message, properties);
    else if (outcome.kind === "deleted" || outcome.kind === "dry-run") {
      log.warn(message, properties);
    } else log.info(message, properties);
  }

  #logNoCandidate(observation: PressureObservation, selection: Selection, nowMs: number): void {
    if (nowMs < this.#quietUntilMs) return;
    this.#quietUntilMs = nowMs + this.#config.sustainedDurationMs;
    this.#deps.log.warn(
      "Sustained swap I/O {ratePagesPerSecond} pages/s for {windowSeconds} s " +
        "but no pod qualifies (psi threshold {psiThresholdPercent}%): no action",
      {
        ...evidence(observation, selection),
        psiThresholdPercent: this.#config.psiThresholdPercent,
      },
    );
  }
}

/** The evidence every decision line carries: rate, window and the candidate table. */
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
      status,
    })),
  };
}
