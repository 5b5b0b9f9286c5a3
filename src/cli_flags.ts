/**
 * The agent's flags as one table (name, kind, unit, bounds, default as shown) and the
 * `--help` text built from it. src/cli.ts parses and validates with the same table.
 */
import { DEFAULTS } from "./config.ts";
import { formatDuration } from "./duration.ts";

export const VERSION = "0.1.0";

/**
 * The longest duration any flag takes, ms (one day). Every duration flag has an upper bound
 * at or under it, far below the 2^31 − 1 ms (24.8 days) above which a timer fires after 1 ms
 * instead (setTimeout's limit), so no flag can turn a slow loop into a spin.
 */
export const MAX_DURATION_FLAG_MS = 86_400_000;

export type FlagKind =
  | "number"
  | "duration"
  | "boolean"
  | "string"
  | "enum"
  | "list"
  | "selector";

export interface FlagSpec {
  readonly name: string;
  readonly kind: FlagKind;
  /** Shown in --help; the unit for numbers. */
  readonly help: string;
  readonly unit?: string;
  readonly choices?: readonly string[];
  /** Default as shown in --help. */
  readonly defaultText: string;
  /** Lower bound for numbers and durations (inclusive unless `exclusiveMin`). */
  readonly min?: number;
  /** Upper bound for numbers and durations (inclusive unless `exclusiveMax`). */
  readonly max?: number;
  readonly exclusiveMin?: boolean;
  readonly exclusiveMax?: boolean;
  /** Numbers: whole numbers only. */
  readonly integer?: boolean;
}

export const FLAGS: readonly FlagSpec[] = [
  {
    name: "swap-io-threshold",
    kind: "number",
    unit: "pages/s",
    help: "node swap I/O (pswpin + pswpout from /proc/vmstat) above which the node is thrashing",
    defaultText: String(DEFAULTS.swapIoThresholdPagesPerSecond),
    min: 0,
    exclusiveMin: true,
  },
  {
    name: "sustained-duration",
    kind: "duration",
    help: "how long swap I/O must stay above the threshold, on every sample, before acting; " +
      "at least --poll-interval (the window must hold two samples)",
    defaultText: formatDuration(DEFAULTS.sustainedDurationMs),
    min: 0,
    max: 3_600_000,
  },
  {
    name: "psi-threshold",
    kind: "number",
    unit: "percent",
    help: "swap I/O trigger: minimum pod memory.pressure full avg10 for a pod to be a candidate",
    defaultText: String(DEFAULTS.psiThresholdPercent),
    min: 0,
    max: 100,
  },
  {
    name: "poll-interval",
    kind: "duration",
    help: "time between samples",
    defaultText: formatDuration(DEFAULTS.pollIntervalMs),
    min: 10,
    max: 60_000,
  },
  {
    name: "cooldown-period",
    kind: "duration",
    help: "no further action for this long after an action; at least 1s (the victim's memory " +
      "is freed only as it stops: without a pause every tick would take one more pod)",
    defaultText: formatDuration(DEFAULTS.cooldownPeriodMs),
    min: 1_000,
    max: MAX_DURATION_FLAG_MS,
  },
  {
    name: "dry-run",
    kind: "boolean",
    help: "log what would be deleted and send nothing destructive; arm with --dry-run=false",
    defaultText: String(DEFAULTS.dryRun),
  },
  {
    name: "swap-io-attribution-qualifies",
    kind: "boolean",
    help: "swap-io trigger: a pod whose own swap I/O is above --swap-io-threshold is a " +
      "candidate even below --psi-threshold. Risky: a server that swaps steadily while mostly " +
      "running (a warm buffer pool, low full PSI) is deleted although the kernel would let it " +
      "live. Off: its own swap I/O only ranks the candidates that pass the PSI gate",
    defaultText: String(DEFAULTS.swapIoAttributionQualifies),
  },
  {
    name: "headroom-trigger",
    kind: "boolean",
    help: "act on a pod whose container is projected to fill its swap limit (and be " +
      "OOM-killed) within its grace period plus --headroom-margin",
    defaultText: String(DEFAULTS.headroomTrigger),
  },
  {
    name: "headroom-estimator",
    kind: "enum",
    choices: ["plateau", "linear"],
    help: "how the headroom trigger projects swap growth: plateau follows growth that slows " +
      "down to where it levels off (a server warming up) and acts only when that is above the " +
      "limit; linear projects every sustained growth in a straight line (the first version, " +
      "for comparison in replay)",
    defaultText: DEFAULTS.headroomEstimator,
  },
  {
    name: "headroom-margin",
    kind: "duration",
    help: "extra time on top of the pod's terminationGracePeriodSeconds for the headroom trigger",
    defaultText: formatDuration(DEFAULTS.headroomMarginMs),
    min: 0,
    max: 3_600_000,
  },
  {
    name: "swap-full-percent",
    kind: "number",
    unit: "percent",
    help: "headroom trigger: act when a container at memory.max has this share of its swap " +
      "limit in use",
    defaultText: String(DEFAULTS.swapFullPercent),
    min: 0,
    exclusiveMin: true,
    max: 100,
  },
  {
    name: "node-swap-free-percent",
    kind: "number",
    unit: "percent",
    help: "act when the node's SwapFree falls under this share of SwapTotal; 0 turns it off",
    defaultText: String(DEFAULTS.nodeSwapFreePercent),
    min: 0,
    max: 100,
    exclusiveMax: true,
  },
  {
    name: "termination-mode",
    kind: "enum",
    choices: ["delete", "evict"],
    help: "delete: DELETE the pod (its own grace period, ignores PodDisruptionBudgets); " +
      "evict: the Eviction API, which honours PodDisruptionBudgets (a blocked eviction tries " +
      "the next candidate)",
    defaultText: DEFAULTS.terminationMode,
  },
  {
    name: "evict-fallback-after",
    kind: "duration",
    help: "with --termination-mode=evict: when every candidate's eviction stays blocked under " +
      "continuous pressure this long, DELETE the top candidate; 0 never falls back",
    defaultText: formatDuration(DEFAULTS.evictFallbackAfterMs),
    min: 0,
    max: MAX_DURATION_FLAG_MS,
  },
  {
    name: "protected-namespaces",
    kind: "list",
    help: "comma-separated namespaces whose pods are never chosen; empty protects none",
    defaultText: DEFAULTS.protectedNamespaces.join(","),
  },
  {
    name: "protected-priority",
    kind: "number",
    help: "pods whose spec.priority is at or above this are never chosen " +
      "(system-cluster-critical is 2000000000, system-node-critical 2000001000)",
    defaultText: String(DEFAULTS.protectedPriority),
    min: -2147483648,
    max: 2147483647,
    integer: true,
  },
  {
    name: "pod-selector",
    kind: "selector",
    help: "opt-in scope: only pods whose labels match this Kubernetes label selector may be " +
      'chosen (kubectl -l syntax: "app=db,tier in (cache,queue),!canary"); others are passed ' +
      "over and still get the early warning; empty: every pod",
    defaultText: '""',
  },
  {
    name: "namespaces",
    kind: "list",
    help: "opt-in scope: comma-separated namespaces whose pods may be chosen; others are " +
      "passed over and still get the early warning; empty: every namespace",
    defaultText: '""',
  },
  {
    name: "early-warning-lookahead",
    kind: "duration",
    help: "post a Warning Event (reason SoftOOMKillLikely) on a pod once per episode when a " +
      "container's swap is projected to reach its limit within this long, dry-run or armed; " +
      "0 turns it off",
    defaultText: formatDuration(DEFAULTS.earlyWarningLookaheadMs),
    min: 0,
    max: MAX_DURATION_FLAG_MS,
  },
  {
    name: "node-name",
    kind: "string",
    help: "this node's name; only its pods are listed and touched (required)",
    defaultText: "env NODE_NAME",
  },
  {
    name: "kubeconfig",
    kind: "string",
    help: "kubeconfig file for bare nodes; empty means the in-cluster service account",
    defaultText: "env KUBECONFIG, else in-cluster",
  },
  {
    name: "allow-insecure-http",
    kind: "boolean",
    help: "accept an http:// API server from the kubeconfig: the bearer token then crosses " +
      "the network in clear text",
    defaultText: "false",
  },
  {
    name: "proc-root",
    kind: "string",
    help: "where the host's /proc is mounted",
    defaultText: DEFAULTS.procRoot,
  },
  {
    name: "cgroup-root",
    kind: "string",
    help: "where the host's /sys/fs/cgroup (cgroup v2) is mounted",
    defaultText: DEFAULTS.cgroupRoot,
  },
  {
    name: "metrics-addr",
    kind: "string",
    help: 'host:port for GET /metrics, /healthz and /readyz (":9402" is every IPv4 ' +
      'address, "[::]:9402" IPv6); empty turns the endpoint off',
    defaultText: DEFAULTS.metricsAddr,
  },
  {
    name: "report-interval",
    kind: "duration",
    help: "how often to log a summary line (swap I/O min/median/max, candidates, actions); " +
      "0 turns it off",
    defaultText: formatDuration(DEFAULTS.reportIntervalMs),
    min: 0,
    max: MAX_DURATION_FLAG_MS,
  },
  {
    name: "log-format",
    kind: "enum",
    choices: ["json", "text"],
    help: "json lines for machines, text for humans",
    defaultText: DEFAULTS.logFormat,
  },
  {
    name: "log-level",
    kind: "enum",
    choices: ["debug", "info", "warning", "error"],
    help: "least severe level logged",
    defaultText: DEFAULTS.logLevel,
  },
];

/** The unit of a flag in --help, with its range for percentages: `percent, 0-100`. */
function unitText(flag: FlagSpec): string {
  if (flag.unit === "percent" && flag.max === 100) {
    if (flag.exclusiveMax) return "percent, 0 up to under 100";
    return flag.exclusiveMin ? "percent, over 0 up to 100" : "percent, 0-100";
  }
  return flag.unit ?? "";
}

/** The range of a duration flag in --help: `10ms to 1m0s`, `0s to 24h0m0s`. */
function durationRange(flag: FlagSpec): string {
  const max = formatDuration(flag.max!);
  if (flag.min === 0 && !flag.exclusiveMin) return `0s to ${max}`;
  if (flag.min === 0) return `over 0s, up to ${max}`;
  return `${formatDuration(flag.min!)} to ${max}`;
}

/** What --help says before the flags: what the agent does, what it never touches, usage. */
const HELP_INTRO: readonly string[] = [
  `kube-soomkiller ${VERSION}: a soft OOM killer for Kubernetes nodes with swap.`,
  "",
  "It deletes (or evicts) the pod the kernel is about to OOM-kill, through the Kubernetes",
  "API, so the pod gets SIGTERM and its own grace period instead of the kernel's SIGKILL.",
  "Three triggers, most urgent first, share one --cooldown-period:",
  "  headroom   a container's swap is projected to reach its memory.swap.max within the",
  "             pod's grace period plus --headroom-margin, or is above --swap-full-percent",
  "             of it while at memory.max (--headroom-trigger, on by default)",
  "  swap free  the node's SwapFree is under --node-swap-free-percent of SwapTotal: every",
  "             pod with swap is a candidate",
  "  swap I/O   node swap I/O stays above --swap-io-threshold for --sustained-duration: the",
  "             pod with swap and the highest memory.pressure full avg10, at least",
  "             --psi-threshold",
  "Dry-run by default: it logs what it would do and sends nothing destructive.",
  "",
  "Never chosen: pods in --protected-namespaces, pods at or above --protected-priority, pods",
  'annotated kube-soomkiller.io/exclude: "true", mirror pods of static pods, terminating',
  "pods, pods it already acted on, and its own pod (POD_UID, or POD_NAMESPACE and POD_NAME);",
  "with --pod-selector or --namespaces, pods outside that scope. Every pod heading for its",
  "swap limit within --early-warning-lookahead gets a SoftOOMKillLikely Warning Event first.",
  "",
  "Usage: kube-soomkiller [flags]",
  "       kube-soomkiller record [--out FILE] [--duration D] [flags]  (a trace of this node)",
  "       kube-soomkiller replay TRACE.jsonl [--html FILE] [flags]     (what they would do)",
  "",
  "Flags (Go syntax: --flag=value or --flag value, -flag as --flag; booleans as --flag=false;",
  'durations such as "500ms", "10s", "1m30s"):',
];

/** What --help says after the flag table. */
const HELP_OUTRO: readonly string[] = [
  "  --help",
  "        show this text",
  "  --version",
  "        print the version",
  "",
  "Exit codes: 0 stopped by SIGTERM/SIGINT, 1 failed to start, 2 bad flags.",
];

/** The `--help` text: every flag with its default and unit. */
export function helpText(): string {
  const flagLines = FLAGS.flatMap((flag) => {
    const type = flag.kind === "enum" ? flag.choices!.join("|") : flag.kind;
    const unit = flag.unit
      ? ` (${unitText(flag)})`
      : flag.kind === "duration"
      ? ` (${durationRange(flag)})`
      : "";
    return [
      `  --${flag.name} ${type}`,
      `        ${flag.help}${unit} (default ${flag.defaultText})`,
    ];
  });
  return [...HELP_INTRO, ...flagLines, ...HELP_OUTRO].join("\n");
}
