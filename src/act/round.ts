/**
 * One round on a decision: re-check and terminate the top candidate; in evict mode a
 * blocked eviction moves on to the next, and when every one stays blocked past
 * `--evict-fallback-after` the top candidate is DELETEd. Then the decision line, and the
 * write streak (a refused write backs the next LIST off). The Event is posted separately,
 * after the loop has settled its state.
 */
import type { Config } from "../config.ts";
import type { Attempt, Decision, TriggerKind } from "../decide/decision.ts";
import { blockedForMs, type EvictFallbackState, fallbackDue } from "../decide/evict_fallback.ts";
import type { PressureObservation } from "../decide/node_pressure.ts";
import { triesNextCandidate } from "../decide/policy.ts";
import type { Selection } from "../decide/select.ts";
import type { DecisionLog } from "../observe/decision_log.ts";
import type { FailureStreak } from "./backoff.ts";
import { type EventDeps, recordTerminationEvent } from "./events.ts";
import { apiAnswered, type EventResult, isAction, type Outcome } from "./outcome.ts";
import { terminate, type TerminateDeps, type TerminateHow } from "./terminate.ts";

export type RoundConfig = Pick<
  Config,
  | "dryRun"
  | "terminationMode"
  | "evictFallbackAfterMs"
  | "nodeName"
  | "swapIoThresholdPagesPerSecond"
>;

export interface RoundDeps extends EventDeps {
  readonly sensor: TerminateDeps["sensor"];
  readonly journal: DecisionLog;
  /** Writes refused in a row (4xx other than gone/conflict), and when the next LIST may go. */
  readonly writes: FailureStreak;
  /** The delay after one more failure of `streak`, ms. */
  readonly backoff: (streak: FailureStreak, retryAfterMs: number | null) => number;
}

/** What a round came to. */
export interface RoundRun {
  /** The last attempt: the victim and what became of it. */
  readonly victim: Attempt["victim"];
  readonly outcome: Outcome;
  /** The attempts before it (evictions a PodDisruptionBudget blocked), in order. */
  readonly attempts: readonly Attempt[];
  /** The top candidate was DELETEd because every eviction stayed blocked. */
  readonly fellBack: boolean;
  /** When the round ended (monotonic ms): the time its consequences are settled at. */
  readonly atMs: number;
}

type ActDecision = Extract<Decision, { kind: "act" }>;

export class Round {
  readonly #deps: RoundDeps;
  readonly #config: RoundConfig;

  constructor(deps: RoundDeps, config: RoundConfig) {
    this.#deps = deps;
    this.#config = config;
  }

  /** Terminates down the ranking (`decision.selection.ranked` is not empty). */
  async run(
    decision: ActDecision,
    blocked: EvictFallbackState,
  ): Promise<RoundRun> {
    const { trigger, selection } = decision;
    const how: TerminateHow = {
      dryRun: this.#config.dryRun,
      mode: this.#config.terminationMode,
      trigger,
    };
    const tries = await this.#tryInTurn(selection, how);
    const nowMs = this.#deps.clock.monotonicMs();
    const wasBlocked = blocked.blockedSinceMs !== null;
    const blockedMs = blockedForMs(blocked, nowMs);
    // Blocked everywhere for long enough under continuous pressure → DELETE.
    const fellBack = tries.every((attempt) => attempt.outcome.kind === "blocked") &&
      fallbackDue(blocked, nowMs, this.#config.evictFallbackAfterMs);
    if (fellBack) tries.push(await this.#fallBack(selection, how));
    const last = tries[tries.length - 1]!;
    const attempts = tries.slice(0, -1);
    const streakGoesOn = this.#countWrite(last.outcome, nowMs);
    this.#deps.journal.round(decision.explain(last.victim), last, attempts, selection, {
      wasBlocked,
      blockedMs,
      fellBack,
      nowMs,
      streakGoesOn,
    });
    return { ...last, attempts, fellBack, atMs: this.#deps.clock.monotonicMs() };
  }

  /** Posts the Event of an action (dry-run included) on the victim pod; nothing otherwise. */
  async announce(
    trigger: TriggerKind,
    observation: PressureObservation,
    selection: Selection,
    run: RoundRun,
  ): Promise<EventResult | undefined> {
    if (!isAction(run.outcome)) return undefined;
    const decision = { observation, selection, victim: run.victim, outcome: run.outcome };
    return await recordTerminationEvent(this.#deps, this.#config, trigger, decision);
  }

  /** Best first; a blocked eviction moves on to the next candidate. */
  async #tryInTurn(selection: Selection, how: TerminateHow): Promise<Attempt[]> {
    const tries: Attempt[] = [];
    for (const candidate of selection.ranked) {
      const outcome = await terminate(candidate, how, this.#deps);
      tries.push({ victim: candidate, outcome });
      if (!triesNextCandidate(outcome)) break;
    }
    return tries;
  }

  /** The eviction fallback: DELETE the top candidate. */
  async #fallBack(selection: Selection, how: TerminateHow): Promise<Attempt> {
    const top = selection.ranked[0]!;
    const outcome = await terminate(top, { ...how, mode: "delete" }, this.#deps);
    return {
      victim: top,
      outcome: outcome.kind === "deleted" ? { ...outcome, fallback: true } : outcome,
    };
  }

  /**
   * A refused write (RBAC, 429, a bad request) backs the next LIST off, and only the first
   * of a streak is an ERROR line; one that the API took ends the streak. True when this
   * refusal continues a streak.
   */
  #countWrite(outcome: Outcome, nowMs: number): boolean {
    const { writes } = this.#deps;
    const streakGoesOn = outcome.kind === "failed" && writes.failures > 0;
    if (outcome.kind === "failed") {
      writes.failed(
        outcome.message,
        nowMs,
        this.#deps.backoff(writes, outcome.retryAfterMs ?? null),
      );
    } else if (apiAnswered(outcome)) {
      const ended = writes.ended(nowMs);
      if (ended !== null) this.#deps.journal.apiAnswersAgain(ended);
    }
    return streakGoesOn;
  }
}
