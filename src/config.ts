import type { HeadroomModel } from "./decide/headroom_settings.ts";
import type { DecideSettings } from "./decide/settings.ts";
import {
  DEFAULT_PROTECTED_NAMESPACES,
  DEFAULT_PROTECTED_PRIORITY,
  NO_OWN_POD,
  type OwnPod,
} from "./decide/select.ts";

/**
 * The agent's settings, after parsing and validation. Durations in milliseconds. What
 * decide/ reads is its own type, {@linkcode DecideSettings}: Config must stay one.
 */
export interface Config extends DecideSettings {
  /** Node swap I/O (pswpin + pswpout) above which the node counts as thrashing, pages/s. */
  readonly swapIoThresholdPagesPerSecond: number;
  /** How long the rate must stay above the threshold before acting, ms. */
  readonly sustainedDurationMs: number;
  /** Minimum pod `memory.pressure` full avg10 for a pod to be a candidate, percent. */
  readonly psiThresholdPercent: number;
  /** Time between samples, ms. */
  readonly pollIntervalMs: number;
  /** No action for this long after an action, ms. */
  readonly cooldownPeriodMs: number;
  /** Log what would be done; send nothing destructive. */
  readonly dryRun: boolean;
  /** This node's name: only its pods are listed and touched. */
  readonly nodeName: string;
  /** Path of a kubeconfig; null means in-cluster service account. */
  readonly kubeconfigPath: string | null;
  /** Where the host's /proc is mounted. */
  readonly procRoot: string;
  /** `--allow-insecure-http`: accept an `http://` API server (token in clear text). */
  readonly allowInsecureHttp?: boolean;
  /** Where the host's /sys/fs/cgroup is mounted. */
  readonly cgroupRoot: string;
  /** `--metrics-addr`: where /metrics, /healthz and /readyz listen (`host:port`); null: off. */
  readonly metricsAddr: string | null;
  /** Interval of the periodic summary log line, ms; 0: off. */
  readonly reportIntervalMs: number;
  readonly logFormat: "json" | "text";
  readonly logLevel: LogLevel;
  /**
   * Swap-io trigger: a pod whose own swap I/O exceeds the threshold qualifies below the PSI
   * threshold (opt-in; by default attribution only ranks the pods that pass the PSI gate).
   */
  readonly swapIoAttributionQualifies: boolean;
  /** Per-container swap-headroom trigger on/off. */
  readonly headroomTrigger: boolean;
  /** How the headroom trigger projects swap growth (decide/headroom.ts). */
  readonly headroomEstimator: HeadroomModel;
  /** Act when a container's projected time to swap exhaustion < grace period + this, ms. */
  readonly headroomMarginMs: number;
  /** Act when a container at memory.max has swap at or above this share of its limit, percent. */
  readonly swapFullPercent: number;
  /** Act when the node's SwapFree falls under this share of SwapTotal, percent (0: off). */
  readonly nodeSwapFreePercent: number;
  /** Namespaces whose pods are never chosen (`--protected-namespaces`). */
  readonly protectedNamespaces: readonly string[];
  /** Pods whose `spec.priority` is at or above this are never chosen (`--protected-priority`). */
  readonly protectedPriority: number;
  /** How a victim is terminated: DELETE, or the Eviction API (honours PodDisruptionBudgets). */
  readonly terminationMode: "delete" | "evict";
  /**
   * In evict mode, DELETE the top candidate after every candidate's eviction has been
   * blocked for this long under continuous pressure, ms; 0: never.
   */
  readonly evictFallbackAfterMs: number;
  /** The agent's own pod (downward API env), never chosen; null fields are unknown. */
  readonly ownPod: OwnPod;
  /**
   * Early warning: an Event on a pod whose container is projected to reach its swap limit
   * within this long, ms (`--early-warning-lookahead`); 0: off.
   */
  readonly earlyWarningLookaheadMs: number;
}

export { NO_OWN_POD, type OwnPod } from "./decide/select.ts";

export type LogLevel = "debug" | "info" | "warning" | "error";

/** The seed's defaults, plus the host-view paths of DESIGN.md §3. */
export const DEFAULTS = {
  swapIoThresholdPagesPerSecond: 1000,
  sustainedDurationMs: 10_000,
  psiThresholdPercent: 50,
  pollIntervalMs: 1_000,
  cooldownPeriodMs: 30_000,
  dryRun: true,
  kubeconfigPath: null,
  procRoot: "/host/proc",
  cgroupRoot: "/host/sys/fs/cgroup",
  metricsAddr: ":9402",
  reportIntervalMs: 60_000,
  logFormat: "json",
  logLevel: "info",
  swapIoAttributionQualifies: false,
  headroomTrigger: true,
  headroomEstimator: "plateau",
  headroomMarginMs: 10_000,
  swapFullPercent: 95,
  nodeSwapFreePercent: 5,
  protectedNamespaces: DEFAULT_PROTECTED_NAMESPACES,
  protectedPriority: DEFAULT_PROTECTED_PRIORITY,
  terminationMode: "delete",
  evictFallbackAfterMs: 60_000,
  ownPod: NO_OWN_POD,
  podSelector: null,
  scopeNamespaces: null,
  earlyWarningLookaheadMs: 5 * 60_000,
} as const satisfies Omit<Config, "nodeName">;

/** API request timeout, ms (the issue asks for ≤ 10 s). */
export const API_TIMEOUT_MS = 10_000;
