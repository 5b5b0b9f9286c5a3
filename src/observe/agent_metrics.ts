/**
 * The agent's metrics: what it sees (rate, window, cooldown, candidates, pods' swap and
 * pressure), what it did (terminations, Events, API requests) and what a tick costs.
 * Fed from the loop's tick reports and the API client's request hook; no timers.
 */
import type { NamedContainer, TickReport } from "../decide/decision.ts";
import { type HeadroomCase, headroomCase } from "../decide/early_warning.ts";
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

/** One metric family: its kind, name, help text and label names, in /metrics order. */
type MetricSpec =
  | {
    readonly kind: "gauge" | "counter";
    readonly name: string;
    readonly help: string;
    readonly labels?: readonly string[];
  }
  | {
    readonly kind: "histogram";
    readonly name: string;
    readonly help: string;
    readonly buckets: readonly number[];
  };

/** Labels of the per-container series. */
const CONTAINER_LABELS = ["namespace", "pod", "container"] as const;

/** The same staleness rule as the pod series, said once. */
const SCAN_NOTE = "Pods are scanned only when something calls for it (never on a calm " +
  "node), so this shows the last scan; series missing from it are dropped, and all are " +
  "dropped when no scan happened for a while (at least 5 minutes)";

/**
 * Every family the agent exports, as a table in the order /metrics shows them: names and
 * units by Prometheus conventions (base units, `_total` for counters, `_ratio` for 0-1).
 */
const METRICS = {
  buildInfo: {
    kind: "gauge",
    name: "soomkiller_build_info",
    help: "A metric with a constant value of 1, labelled by the kube-soomkiller version",
    labels: ["version"],
  },
  dryRun: {
    kind: "gauge",
    name: "soomkiller_dry_run",
    help: "1 when the agent only logs what it would delete (--dry-run=true), 0 when armed",
  },
  swapIoPages: {
    kind: "counter",
    name: "soomkiller_node_swap_io_pages_total",
    help: "Node swap I/O as /proc/vmstat counts it (pswpin: direction in, pswpout: direction " +
      "out), pages since the node booted; use rate()",
    labels: ["direction"],
  },
  swapIoRate: {
    kind: "gauge",
    name: "soomkiller_node_swap_io_pages_per_second",
    help: "Node swap I/O (pswpin + pswpout from /proc/vmstat) over the last poll interval, " +
      "pages per second, as the swap I/O trigger measured it",
  },
  swapIoThreshold: {
    kind: "gauge",
    name: "soomkiller_swap_io_threshold_pages_per_second",
    help: "Configured --swap-io-threshold: node swap I/O above which the node is thrashing, " +
      "pages per second",
  },
  triggerWindow: {
    kind: "gauge",
    name: "soomkiller_trigger_window_seconds",
    help: "How long node swap I/O has stayed above the threshold, seconds (0 when below or " +
      "during the cooldown)",
  },
  cooldownRemaining: {
    kind: "gauge",
    name: "soomkiller_cooldown_remaining_seconds",
    help: "Time left before the agent may act again after an action, seconds",
  },
  candidates: {
    kind: "gauge",
    name: "soomkiller_candidates",
    help: "Candidate pods at the last pod scan: swap in use and memory.pressure full avg10 at " +
      "or above --psi-threshold (and known to the API, not terminating, when the agent listed " +
      "pods to act); pods are scanned only when something calls for it, never on a calm node",
  },
  terminations: {
    kind: "counter",
    name: "soomkiller_terminations_total",
    help: "Termination attempts by mode (delete, evict, dry_run) and result (success, " +
      "blocked, failed, skipped)",
    labels: ["mode", "result"],
  },
  events: {
    kind: "counter",
    name: "soomkiller_events_total",
    help: "Kubernetes Events posted on victim pods, by result (success, failed)",
    labels: ["result"],
  },
  earlyWarnings: {
    kind: "counter",
    name: "soomkiller_early_warnings_total",
    help: "Early warnings (Event SoftOOMKillLikely, once per pod and episode): a container " +
      "projected to reach its swap limit within --early-warning-lookahead, by the Event's " +
      "result (success, failed)",
    labels: ["result"],
  },
  apiRequests: {
    kind: "counter",
    name: "soomkiller_api_requests_total",
    help: `Kubernetes API requests by HTTP verb and status code (${NO_RESPONSE_CODE}: no response)`,
    labels: ["verb", "code"],
  },
  swapSampleErrors: {
    kind: "counter",
    name: "soomkiller_swap_sample_errors_total",
    help: "Ticks whose node swap I/O counters could not be read",
  },
  tickDuration: {
    kind: "histogram",
    name: "soomkiller_tick_duration_seconds",
    help: "Time one poll tick took (sense, decide and act), seconds",
    buckets: TICK_DURATION_BUCKETS_SECONDS,
  },
  podSwap: {
    kind: "gauge",
    name: "soomkiller_pod_swap_bytes",
    help: "Pod cgroup memory.swap.current at the last pod scan, bytes, for pods with swap " +
      `whose name the agent learnt from its own pod lists. ${SCAN_NOTE}`,
    labels: ["namespace", "pod"],
  },
  podFullAvg10: {
    kind: "gauge",
    name: "soomkiller_pod_memory_pressure_full_avg10_ratio",
    help: "Pod cgroup memory.pressure full avg10 at the last pod scan, as a ratio 0-1 (the " +
      "kernel's percent / 100; --psi-threshold is in percent); same pods and staleness as " +
      "soomkiller_pod_swap_bytes",
    labels: ["namespace", "pod"],
  },
  containerSwap: {
    kind: "gauge",
    name: "soomkiller_container_swap_bytes",
    help: "Container memory.swap.current at the last pod scan, bytes, for containers with " +
      `swap in use whose pod the agent named from its own pod lists. ${SCAN_NOTE}`,
    labels: CONTAINER_LABELS,
  },
  containerSwapLimit: {
    kind: "gauge",
    name: "soomkiller_container_swap_limit_bytes",
    help: "The swap the container may reach before the kernel OOM-kills it, bytes: its " +
      "memory.swap.max, or its swap plus the node's free swap when that is less; same " +
      "containers as soomkiller_container_swap_bytes",
    labels: CONTAINER_LABELS,
  },
  containerSwapGrowth: {
    kind: "gauge",
    name: "soomkiller_container_swap_growth_bytes_per_second",
    help: "The headroom estimator's swap growth now, bytes per second; absent without " +
      "sustained growth",
    labels: CONTAINER_LABELS,
  },
  containerSwapTimeToLimit: {
    kind: "gauge",
    name: "soomkiller_container_swap_time_to_limit_seconds",
    help: "The headroom estimator's projected time until the container's swap reaches its " +
      "limit, seconds; absent when it is not growing or levels off below the limit",
    labels: CONTAINER_LABELS,
  },
  containerSwapPlateau: {
    kind: "gauge",
    name: "soomkiller_container_swap_plateau_bytes",
    help: "Where the headroom estimator projects the container's swap to level off, bytes; " +
      "absent when it sees no plateau",
    labels: CONTAINER_LABELS,
  },
  containerSwapCase: {
    kind: "gauge",
    name: "soomkiller_container_swap_projection",
    help: "The headroom estimator's case for the container, 1 for the current one: growing " +
      "(projected in a straight line), levelling_off (a plateau seen) or flat (no sustained " +
      "growth)",
    labels: [...CONTAINER_LABELS, "case"],
  },
  kernelOomKills: {
    kind: "counter",
    name: "soomkiller_kernel_oom_kills_total",
    help: "Kernel OOM kills (SIGKILL) of containers on this node seen by the agent",
  },
  evictFallbacks: {
    kind: "counter",
    name: "soomkiller_evict_fallbacks_total",
    help: "DELETEs sent in evict mode because every candidate's eviction stayed blocked by " +
      "PodDisruptionBudgets for --evict-fallback-after under continuous pressure (always 0 " +
      "in delete mode)",
  },
} as const satisfies Record<string, MetricSpec>;

type Families = typeof METRICS;

/** The metric object of each family, by its key in {@linkcode METRICS}. */
export type AgentMetricFamilies = {
  readonly [K in keyof Families]: Families[K]["kind"] extends "gauge" ? Gauge
    : Families[K]["kind"] extends "counter" ? Counter
    : Histogram;
};

/** Registers every family of {@linkcode METRICS} in `registry`, in order. */
function registerAll(registry: Registry): AgentMetricFamilies {
  const out: Record<string, Gauge | Counter | Histogram> = {};
  for (const [key, spec] of Object.entries(METRICS) as [string, MetricSpec][]) {
    out[key] = spec.kind === "histogram"
      ? registry.histogram(spec.name, spec.help, spec.buckets)
      : registry[spec.kind](spec.name, spec.help, spec.labels ?? []);
  }
  return out as AgentMetricFamilies;
}

/** The cases of soomkiller_container_swap_projection, as label values. */
const CASES: readonly { readonly label: string; readonly is: HeadroomCase }[] = [
  { label: "growing", is: "growing" },
  { label: "levelling_off", is: "levelling off" },
  { label: "flat", is: "flat" },
];

/** The container families, cleared and refilled together at each scan. */
const CONTAINER_FAMILIES = [
  "containerSwap",
  "containerSwapLimit",
  "containerSwapGrowth",
  "containerSwapTimeToLimit",
  "containerSwapPlateau",
  "containerSwapCase",
] as const;

// One interface and one class of the same name: the families of the table are the class's
// fields (`metrics.podSwap`), typed from the table, without a field list to keep in step.
export interface AgentMetrics extends AgentMetricFamilies {}

export class AgentMetrics {
  readonly registry = new Registry();

  /** The mode of outcomes that do not name one (skipped, failed): from the config. */
  readonly #configuredMode: TerminationMode;
  readonly #psiThresholdPercent: number;
  readonly #podSeriesTtlMs: number;
  readonly #cooldownPeriodMs: number;
  /** Pod names by cgroup UID, learnt from the LISTs the agent makes to act (no extra calls). */
  #names = new Map<string, { readonly namespace: string; readonly name: string }>();
  #lastScanMs = -Infinity;

  constructor(config: AgentMetricsConfig, version: string) {
    Object.assign(this, registerAll(this.registry));
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
    this.evictFallbacks.inc(undefined, 0);
    const results: TerminationResult[] = this.#configuredMode === "evict"
      ? ["success", "blocked", "failed", "skipped"]
      : ["success", "failed", "skipped"];
    for (const result of results) this.terminations.inc({ mode: this.#configuredMode, result }, 0);
    for (const result of ["success", "failed"] as const) {
      this.events.inc({ result }, 0);
      this.earlyWarnings.inc({ result }, 0);
    }
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
    if (report.swapIoPages !== undefined) {
      this.swapIoPages.mirror(report.swapIoPages.in, { direction: "in" });
      this.swapIoPages.mirror(report.swapIoPages.out, { direction: "out" });
    }
    for (const { event } of report.earlyWarnings ?? []) {
      if (event === "sent" || event === "failed") {
        this.earlyWarnings.inc({ result: event === "sent" ? "success" : "failed" });
      }
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
    // The containers' pods are named from the same LISTs: their pod series get the names too.
    for (const { headroom, namespace, pod } of report.swapContainers ?? []) {
      this.#names.set(headroom.podUid, { namespace, name: pod });
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
    } else if (nowMs - this.#lastScanMs > this.#podSeriesTtlMs) {
      this.podSwap.clear();
      this.podFullAvg10.clear();
      this.#names.clear();
      for (const family of CONTAINER_FAMILIES) this[family].clear();
    }
    if (report.swapContainers !== undefined) this.#containerSeries(report.swapContainers);
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
      this.podFullAvg10.set(stats.fullAvg10Percent / 100, labels);
    }
    this.#names = names;
  }

  /**
   * Replaces the container series with the containers of the latest scan that have swap in
   * use and a name: bounded by what swaps now; a container that goes takes its series along.
   */
  #containerSeries(containers: readonly NamedContainer[]): void {
    for (const family of CONTAINER_FAMILIES) this[family].clear();
    for (const { namespace, pod, container, headroom: h } of containers) {
      const labels = { namespace, pod, container };
      this.containerSwap.set(h.swapBytes, labels);
      this.containerSwapLimit.set(h.swapLimitBytes, labels);
      if (h.growthBytesPerSecond !== null) {
        this.containerSwapGrowth.set(h.growthBytesPerSecond, labels);
      }
      if (h.secondsLeft !== null) this.containerSwapTimeToLimit.set(h.secondsLeft, labels);
      if (h.plateauBytes !== null) this.containerSwapPlateau.set(h.plateauBytes, labels);
      const now = headroomCase(h);
      for (const { label, is } of CASES) {
        this.containerSwapCase.set(is === now ? 1 : 0, { ...labels, case: label });
      }
    }
  }
}
