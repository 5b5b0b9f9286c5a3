/**
 * The agent's metrics: what it sees (rate, window, cooldown, candidates, pods' swap and
 * pressure), what it did (terminations, Events, API requests) and what a tick costs.
 * Fed from the loop's tick reports and the API client's request hook; no timers.
 */
import type { TickReport } from "../decide/decision.ts";
import type { PodStats } from "../sense/pod_stats.ts";
import type { Config } from "../config.ts";
import {
  isAction,
  isFallbackDelete,
  type Outcome,
  terminationLabels,
  type TerminationMode,
  type TerminationResult,
} from "../act/outcome.ts";
import { type Counter, type Gauge, type Histogram, Registry } from "./metrics.ts";

export type { TerminationMode, TerminationResult } from "../act/outcome.ts";

/** Tick duration buckets, seconds: a calm tick reads one file (well under 1 ms); a tick
 * that acts waits on the API (10 s timeout). */
export const TICK_DURATION_BUCKETS_SECONDS = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
];

/** Pod series older than this many ms without a scan are dropped (at least 5 minutes). */
const MIN_POD_SERIES_TTL_MS = 5 * 60_000;

/** The API client's code label for "no response" (as client-go's `<error>`). */
export const NO_RESPONSE_CODE = "<error>";

export type AgentMetricsConfig =
  & Pick<
    Config,
    | "swapIoThresholdPagesPerSecond"
    | "psiThresholdPercent"
    | "dryRun"
    | "cooldownPeriodMs"
    | "sustainedDurationMs"
  >
  & Partial<Pick<Config, "terminationMode">>;

export class AgentMetrics {
  readonly registry = new Registry();
  readonly buildInfo: Gauge;
  readonly dryRun: Gauge;
  readonly swapIoRate: Gauge;
  readonly swapIoThreshold: Gauge;
  readonly triggerWindow: Gauge;
  readonly cooldownRemaining: Gauge;
  readonly candidates: Gauge;
  readonly terminations: Counter;
  readonly events: Counter;
  readonly apiRequests: Counter;
  readonly swapSampleErrors: Counter;
  readonly tickDuration: Histogram;
  readonly podSwap: Gauge;
  readonly podFullAvg10: Gauge;
  /**
   * Kernel OOM kills seen on this node. Registered at 0; the OOM-kill watcher increments
   * it with `kernelOomKills.inc()`.
   */
  readonly kernelOomKills: Counter;
  /** DELETEs sent because every eviction stayed blocked past --evict-fallback-after. */
  readonly evictFallbacks: Counter;

  /** The mode of outcomes that do not name one (skipped, failed): from the config. */
  readonly #configuredMode: TerminationMode;
  readonly #psiThresholdPercent: number;
  readonly #podSeriesTtlMs: number;
  readonly #cooldownPeriodMs: number;
  /** Pod names by cgroup UID, learnt from the LISTs the agent makes to act (no extra calls). */
  #names = new Map<string, { readonly namespace: string; readonly name: string }>();
  #lastScanMs = -Infinity;

  // Over 60 lines on purpose: the metric registrations as one declarative list, in the
  // order /metrics shows them; split up, the order and the help texts would be harder to see.
  constructor(config: AgentMetricsConfig, version: string) {
    const r = this.registry;
    this.buildInfo = r.gauge(
      "soomkiller_build_info",
      "A metric with a constant value of 1, labelled by the kube-soomkiller version",
      ["version"],
    );
    this.dryRun = r.gauge(
      "soomkiller_dry_run",
      "1 when the agent only logs what it would delete (--dry-run=true), 0 when armed",
    );
    this.swapIoRate = r.gauge(
      "soomkiller_node_swap_io_pages_per_second",
      "Node swap I/O (pswpin + pswpout from /proc/vmstat) over the last poll interval, " +
        "pages per second",
    );
    this.swapIoThreshold = r.gauge(
      "soomkiller_swap_io_threshold_pages_per_second",
      "Configured --swap-io-threshold: node swap I/O above which the node is thrashing, " +
        "pages per second",
    );
    this.triggerWindow = r.gauge(
      "soomkiller_trigger_window_seconds",
      "How long node swap I/O has stayed above the threshold, seconds (0 when below or " +
        "during the cooldown)",
    );
    this.cooldownRemaining = r.gauge(
      "soomkiller_cooldown_remaining_seconds",
      "Time left before the agent may act again after an action, seconds",
    );
    this.candidates = r.gauge(
      "soomkiller_candidates",
      "Candidate pods at the last pod scan: swap in use and memory.pressure full avg10 at or " +
        "above --psi-threshold (and known to the API, not terminating, when the agent listed " +
        "pods to act); pods are scanned only when something calls for it, never on a calm node",
    );
    this.terminations = r.counter(
      "soomkiller_terminations_total",
      "Termination attempts by mode (delete, evict, dry_run) and result (success, blocked, " +
        "failed, skipped)",
      ["mode", "result"],
    );
    this.events = r.counter(
      "soomkiller_events_total",
      "Kubernetes Events posted on victim pods, by result (success, failed)",
      ["result"],
    );
    this.apiRequests = r.counter(
      "soomkiller_api_requests_total",
      `Kubernetes API requests by HTTP verb and status code (${NO_RESPONSE_CODE}: no response)`,
      ["verb", "code"],
    );
    this.swapSampleErrors = r.counter(
      "soomkiller_swap_sample_errors_total",
      "Ticks whose node swap I/O counters could not be read",
    );
    this.tickDuration = r.histogram(
      "soomkiller_tick_duration_seconds",
      "Time one poll tick took (sense, decide and act), seconds",
      TICK_DURATION_BUCKETS_SECONDS,
    );
    this.podSwap = r.gauge(
      "soomkiller_pod_swap_bytes",
      "Pod cgroup memory.swap.current at the last pod scan, bytes, for pods with swap whose " +
        "name the agent learnt from its own pod lists. Pods are scanned only when something " +
        "calls for it (never on a calm node), so this shows the last scan; pods missing from " +
        "it are dropped, and all series are dropped when no scan happened for a while (at " +
        "least 5 minutes)",
      ["namespace", "pod"],
    );
    this.podFullAvg10 = r.gauge(
      "soomkiller_pod_memory_pressure_full_avg10",
      "Pod cgroup memory.pressure full avg10 at the last pod scan, percent as the kernel " +
        "reports it (compare with --psi-threshold); same pods and staleness as " +
        "soomkiller_pod_swap_bytes",
      ["namespace", "pod"],
    );
    this.kernelOomKills = r.counter(
      "soomkiller_kernel_oom_kills_total",
      "Kernel OOM kills (SIGKILL) of containers on this node seen by the agent",
    );

    this.evictFallbacks = r.counter(
      "soomkiller_evict_fallbacks_total",
      "DELETEs sent in evict mode because every candidate's eviction stayed blocked by " +
        "PodDisruptionBudgets for --evict-fallback-after under continuous pressure",
    );

    this.#configuredMode = config.dryRun ? "dry_run" : config.terminationMode ?? "delete";
    this.#psiThresholdPercent = config.psiThresholdPercent;
    this.#cooldownPeriodMs = config.cooldownPeriodMs;
    this.#podSeriesTtlMs = Math.max(
      MIN_POD_SERIES_TTL_MS,
      2 * (config.cooldownPeriodMs + config.sustainedDurationMs),
    );
    this.buildInfo.set(1, { version });
    this.dryRun.set(config.dryRun ? 1 : 0);
    this.swapIoThreshold.set(config.swapIoThresholdPagesPerSecond);
    this.triggerWindow.set(0);
    this.cooldownRemaining.set(0);
    this.candidates.set(0);
    this.kernelOomKills.inc(undefined, 0);
    this.swapSampleErrors.inc(undefined, 0);
    if (config.terminationMode === "evict") this.evictFallbacks.inc(undefined, 0);
    const results: TerminationResult[] = this.#configuredMode === "evict"
      ? ["success", "blocked", "failed", "skipped"]
      : ["success", "failed", "skipped"];
    for (const result of results) this.terminations.inc({ mode: this.#configuredMode, result }, 0);
    for (const result of ["success", "failed"] as const) this.events.inc({ result }, 0);
  }

  /** The API client's `onRequest` hook. */
  readonly apiRequest = (verb: string, code: number | null): void => {
    this.apiRequests.inc({ verb, code: code === null ? NO_RESPONSE_CODE : String(code) });
  };

  /** One finished tick; `nowMs` is the monotonic time (for the pod series' staleness). */
  tick(report: TickReport, tickDurationMs: number, nowMs: number): void {
    this.tickDuration.observe(tickDurationMs / 1000);
    for (const kill of report.kernelOomKills ?? []) {
      this.kernelOomKills.inc(undefined, kill.newKills);
    }
    const observation = report.observation;
    if (observation === null) this.swapSampleErrors.inc();
    else {
      const rate = observation.reading.ratePagesPerSecond;
      if (rate !== null) this.swapIoRate.set(rate);
      this.triggerWindow.set(observation.reading.windowMs / 1000);
      this.cooldownRemaining.set(observation.cooldownRemainingMs / 1000);
    }
    const selection = report.selection;
    if (selection !== undefined) {
      // Names come only from pods the agent already listed to act: no extra API calls
      // (a watch of the node's pods would name every pod, at a constant cost: not done).
      for (
        const { pod, stats } of [
          ...selection.ranked,
          ...selection.rejected.map((r) => r.candidate),
        ]
      ) {
        if (pod !== null) this.#names.set(stats.uid, { namespace: pod.namespace, name: pod.name });
      }
    }
    const pods = report.pods ??
      selection?.ranked.concat(selection.rejected.map((r) => r.candidate)).map((c) => c.stats);
    if (pods !== undefined) {
      this.candidates.set(
        selection?.ranked.length ??
          pods.filter((p) =>
            p.swapCurrentBytes > 0 && p.fullAvg10Percent >= this.#psiThresholdPercent
          ).length,
      );
      this.#podSeries(pods, nowMs);
    } else if (this.podSwap.size > 0 && nowMs - this.#lastScanMs > this.#podSeriesTtlMs) {
      this.podSwap.clear();
      this.podFullAvg10.clear();
      this.#names.clear();
    }
    // Evictions a PodDisruptionBudget blocked before the tick's last attempt.
    for (const attempt of report.attempts ?? []) this.#termination(attempt.outcome);
    if (report.outcome !== undefined) {
      this.#termination(report.outcome);
      if (isFallbackDelete(report.outcome)) this.evictFallbacks.inc();
      // The observation predates the action: the action closed the window, started the cooldown.
      if (isAction(report.outcome)) {
        this.triggerWindow.set(0);
        this.cooldownRemaining.set(this.#cooldownPeriodMs / 1000);
      }
    }
    const event = report.event;
    if (event !== undefined) this.events.inc({ result: event === "sent" ? "success" : "failed" });
  }

  /** Counts one termination attempt by mode and result. */
  #termination(outcome: Outcome): void {
    this.terminations.inc(terminationLabels(outcome, this.#configuredMode));
  }

  /** Replaces the pod series with the swapping pods of the latest scan that have a name. */
  #podSeries(pods: readonly PodStats[], nowMs: number): void {
    this.#lastScanMs = nowMs;
    this.podSwap.clear();
    this.podFullAvg10.clear();
    const names = new Map<string, { readonly namespace: string; readonly name: string }>();
    for (const stats of pods) {
      const known = this.#names.get(stats.uid);
      if (known === undefined) continue;
      // Only pods of the latest scan keep their name: the map cannot grow without bound.
      names.set(stats.uid, known);
      if (stats.swapCurrentBytes <= 0) continue;
      const labels = { namespace: known.namespace, pod: known.name };
      this.podSwap.set(stats.swapCurrentBytes, labels);
      this.podFullAvg10.set(stats.fullAvg10Percent, labels);
    }
    this.#names = names;
  }
}
