/**
 * Command line → Config. Go flag syntax (`--flag=value`, `--flag value`, `-flag`,
 * booleans as `--dry-run=false`, durations as Go writes them), one flag table that
 * drives parsing, validation and `--help`.
 */
import { type Config, DEFAULTS, type LogLevel } from "./config.ts";
import type { HeadroomModel } from "./decide/headroom.ts";
import { formatDuration, parseDuration } from "./duration.ts";
import { parseListenAddress } from "./observe/listen_address.ts";

export const VERSION = "0.1.0";

/** What the command line asks for. */
export type CliResult =
  | { readonly kind: "run"; readonly config: Config }
  | { readonly kind: "help"; readonly text: string }
  | { readonly kind: "version"; readonly text: string }
  /** Bad input: print `message` on stderr and exit 2. */
  | { readonly kind: "error"; readonly message: string };

/** The environment variables the CLI reads for defaults. */
export interface CliEnv {
  get(name: string): string | undefined;
}

type FlagKind = "number" | "duration" | "boolean" | "string" | "enum" | "list";

interface FlagSpec {
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
  readonly max?: number;
  readonly exclusiveMin?: boolean;
  /** Numbers: whole numbers only. */
  readonly integer?: boolean;
}

const FLAGS: readonly FlagSpec[] = [
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
    help: "how long swap I/O must stay above the threshold, on every sample, before acting",
    defaultText: formatDuration(DEFAULTS.sustainedDurationMs),
    min: 0,
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
  },
  {
    name: "cooldown-period",
    kind: "duration",
    help: "no further action for this long after an action",
    defaultText: formatDuration(DEFAULTS.cooldownPeriodMs),
    min: 0,
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

/** A namespace name: an RFC 1123 DNS label. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

const SPEC_BY_NAME = new Map(FLAGS.map((flag) => [flag.name, flag]));

/** Parses the command line; never throws, never exits. */
export function parseCli(args: readonly string[], env: CliEnv): CliResult {
  if (args.some((arg) => /^--?(h|help)$/.test(arg))) return { kind: "help", text: helpText() };
  if (args.some((arg) => /^--?version$/.test(arg))) {
    return { kind: "version", text: `kube-soomkiller ${VERSION}` };
  }
  const normalized = normalizeArgs(args);
  if (typeof normalized === "string") return { kind: "error", message: normalized };

  const values = readFlagValues(normalized);
  if (typeof values === "string") return { kind: "error", message: values };

  const flags = new FlagReader(values);
  const config = configFrom(flags, env);
  if (flags.errors.length > 0) return { kind: "error", message: flags.errors[0]! };
  if (config.nodeName.trim() === "") {
    return {
      kind: "error",
      message: "Missing node name: set --node-name or the NODE_NAME environment variable",
    };
  }
  return { kind: "run", config };
}

/**
 * The Config the flags and the environment give. Every flag is read in this order and the
 * first invalid one is the error reported, so the order of the fields is part of the CLI.
 */
function configFrom(flags: FlagReader, env: CliEnv): Config {
  return {
    swapIoThresholdPagesPerSecond: flags.number(
      "swap-io-threshold",
      DEFAULTS.swapIoThresholdPagesPerSecond,
    ),
    sustainedDurationMs: flags.duration("sustained-duration", DEFAULTS.sustainedDurationMs),
    psiThresholdPercent: flags.number("psi-threshold", DEFAULTS.psiThresholdPercent),
    pollIntervalMs: flags.duration("poll-interval", DEFAULTS.pollIntervalMs),
    cooldownPeriodMs: flags.duration("cooldown-period", DEFAULTS.cooldownPeriodMs),
    dryRun: flags.boolean("dry-run", DEFAULTS.dryRun),
    nodeName: flags.raw("node-name") ?? env.get("NODE_NAME") ?? "",
    kubeconfigPath: (flags.raw("kubeconfig") ?? env.get("KUBECONFIG") ?? "") || null,
    allowInsecureHttp: flags.boolean("allow-insecure-http", false),
    procRoot: flags.path("proc-root", DEFAULTS.procRoot),
    cgroupRoot: flags.path("cgroup-root", DEFAULTS.cgroupRoot),
    metricsAddr: flags.listenAddress("metrics-addr", DEFAULTS.metricsAddr),
    reportIntervalMs: flags.duration("report-interval", DEFAULTS.reportIntervalMs),
    logFormat: flags.choice<"json" | "text">("log-format", DEFAULTS.logFormat),
    logLevel: flags.choice<LogLevel>("log-level", DEFAULTS.logLevel),
    swapIoAttributionQualifies: flags.boolean(
      "swap-io-attribution-qualifies",
      DEFAULTS.swapIoAttributionQualifies,
    ),
    headroomTrigger: flags.boolean("headroom-trigger", DEFAULTS.headroomTrigger),
    headroomEstimator: flags.choice<HeadroomModel>(
      "headroom-estimator",
      DEFAULTS.headroomEstimator,
    ),
    headroomMarginMs: flags.duration("headroom-margin", DEFAULTS.headroomMarginMs),
    swapFullPercent: flags.number("swap-full-percent", DEFAULTS.swapFullPercent),
    nodeSwapFreePercent: flags.number("node-swap-free-percent", DEFAULTS.nodeSwapFreePercent),
    protectedNamespaces: flags.list("protected-namespaces", DEFAULTS.protectedNamespaces),
    protectedPriority: flags.number("protected-priority", DEFAULTS.protectedPriority),
    terminationMode: flags.choice<"delete" | "evict">(
      "termination-mode",
      DEFAULTS.terminationMode,
    ),
    evictFallbackAfterMs: flags.duration("evict-fallback-after", DEFAULTS.evictFallbackAfterMs),
    ownPod: {
      uid: env.get("POD_UID") || null,
      namespace: env.get("POD_NAMESPACE") || null,
      name: env.get("POD_NAME") || null,
    },
  };
}

/** A flag value's reading: the value, or why the raw text is invalid. */
type Parsed<T> = { readonly value: T } | { readonly error: string };

/**
 * Reads the flags' values by kind: an absent flag gives its fallback, an invalid one its
 * fallback too and one message in `errors` (in the order the flags are read).
 */
class FlagReader {
  readonly errors: string[] = [];
  readonly #values: ReadonlyMap<string, string>;

  constructor(values: ReadonlyMap<string, string>) {
    this.#values = values;
  }

  /** The flag's text as given, or undefined. */
  raw(name: string): string | undefined {
    return this.#values.get(name);
  }

  number(name: string, fallback: number): number {
    return this.#read(name, fallback, parseNumber);
  }

  duration(name: string, fallback: number): number {
    return this.#read(name, fallback, parseDurationFlag);
  }

  boolean(name: string, fallback: boolean): boolean {
    return this.#read(name, fallback, (_, raw): Parsed<boolean> => {
      const value = parseGoBool(raw);
      return value === null ? { error: "expected true or false" } : { value };
    });
  }

  choice<T extends string>(name: string, fallback: T): T {
    return this.#read(
      name,
      fallback,
      (spec, raw): Parsed<T> =>
        spec.choices!.includes(raw)
          ? { value: raw as T }
          : { error: `expected one of ${spec.choices!.join(", ")}` },
    );
  }

  path(name: string, fallback: string): string {
    return this.#read(
      name,
      fallback,
      (_, raw): Parsed<string> =>
        raw.trim() === ""
          ? { error: "expected a path" }
          : { value: raw.replace(/\/+$/, "") || "/" },
    );
  }

  list(name: string, fallback: readonly string[]): readonly string[] {
    return this.#read(name, fallback, parseNamespaceList);
  }

  /** `host:port`; empty turns the endpoint off (null). */
  listenAddress(name: string, fallback: string | null): string | null {
    return this.#read(name, fallback, (_, raw): Parsed<string | null> => {
      if (raw === "") return { value: null };
      const parsed = parseListenAddress(raw);
      return "error" in parsed ? { error: parsed.error } : { value: raw };
    });
  }

  #read<T>(name: string, fallback: T, parse: (spec: FlagSpec, raw: string) => Parsed<T>): T {
    const raw = this.#values.get(name);
    if (raw === undefined) return fallback;
    const parsed = parse(SPEC_BY_NAME.get(name)!, raw);
    if ("value" in parsed) return parsed.value;
    this.errors.push(invalid(name, raw, parsed.error));
    return fallback;
  }
}

function parseNumber(spec: FlagSpec, raw: string): Parsed<number> {
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(value)) {
    return { error: spec.unit ? `expected a number of ${spec.unit}` : "expected a number" };
  }
  if (spec.integer && !Number.isInteger(value)) return { error: "expected a whole number" };
  const rangeError = checkRange(spec, value, String(value));
  return rangeError ? { error: rangeError } : { value };
}

function parseDurationFlag(spec: FlagSpec, raw: string): Parsed<number> {
  const ms = parseDuration(raw);
  if (ms === null) return { error: 'expected a Go duration such as "500ms", "10s" or "1m30s"' };
  const rangeError = checkRange(spec, ms, formatDuration(ms), formatDuration);
  return rangeError ? { error: rangeError } : { value: ms };
}

/** Comma-separated namespace names, blanks and repeats dropped. */
function parseNamespaceList(_: FlagSpec, raw: string): Parsed<readonly string[]> {
  const items = raw.split(",").map((item) => item.trim()).filter((item) => item !== "");
  const bad = items.find((item) => !DNS_LABEL.test(item));
  if (bad !== undefined) return { error: `"${bad}" is not a namespace name (RFC 1123 label)` };
  return { value: [...new Set(items)] };
}

/** The unit of a flag in --help, with its range for percentages: `percent, 0-100`. */
function unitText(flag: FlagSpec): string {
  if (flag.unit === "percent" && flag.max === 100) {
    return flag.exclusiveMin ? "percent, over 0 up to 100" : "percent, 0-100";
  }
  return flag.unit ?? "";
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
  "pods, pods it already acted on, and its own pod (POD_UID, or POD_NAMESPACE and POD_NAME).",
  "",
  "Usage: kube-soomkiller [flags]",
  "       kube-soomkiller record [--out FILE] [--duration D] [flags]  (a trace of this node)",
  "       kube-soomkiller replay TRACE.jsonl [--html FILE] [flags]     (what they would do)",
  "",
  "Flags (Go syntax: --flag=value or --flag value; booleans as --flag=false;",
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
    const unit = flag.unit ? ` (${unitText(flag)})` : "";
    return [
      `  --${flag.name} ${type}`,
      `        ${flag.help}${unit} (default ${flag.defaultText})`,
    ];
  });
  return [...HELP_INTRO, ...flagLines, ...HELP_OUTRO].join("\n");
}

/**
 * Go flag syntax → one `--name=value` per flag: `-flag` → `--flag`; a boolean flag without a
 * value (`--dry-run`) → `--dry-run=true`, because Go never reads the next word as a
 * boolean's value. Returns an error message for a bare `--flag` missing its value.
 */
function normalizeArgs(args: readonly string[]): string[] | string {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    let arg = args[i]!;
    if (arg === "--") {
      out.push(...args.slice(i));
      break;
    }
    if (/^-[^-]/.test(arg)) arg = `-${arg}`;
    const match = /^--([^=]+)(=.*)?$/.exec(arg);
    if (match) {
      const spec = SPEC_BY_NAME.get(match[1]!);
      if (spec?.kind === "boolean" && match[2] === undefined) arg = `--${spec.name}=true`;
      else if (spec && match[2] === undefined) {
        const next = args[i + 1];
        if (next === undefined) return `Flag --${spec.name} needs a value`;
        out.push(`--${spec.name}=${next}`);
        i++;
        continue;
      }
    }
    out.push(arg);
  }
  return out;
}

function parseGoBool(raw: string): boolean | null {
  // The spellings Go's strconv.ParseBool accepts.
  if (["1", "t", "T", "true", "TRUE", "True"].includes(raw)) return true;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(raw)) return false;
  return null;
}

function checkRange(
  spec: FlagSpec,
  value: number,
  shown: string,
  format: (n: number) => string = String,
): string | null {
  if (spec.min !== undefined) {
    if (spec.exclusiveMin ? value <= spec.min : value < spec.min) {
      return `${shown} must be ${spec.exclusiveMin ? "above" : "at least"} ${format(spec.min)}`;
    }
  }
  if (spec.max !== undefined && value > spec.max) {
    return `${shown} must be at most ${format(spec.max)}`;
  }
  return null;
}

function invalid(name: string, raw: string, detail: string): string {
  return `Invalid value "${raw}" for flag --${name}: ${detail}`;
}

/**
 * The flags' values out of normalized arguments (every known flag as `--name=value`): the
 * last of a repeated flag wins. Returns the message for the first unknown flag or
 * positional argument (everything after `--` is positional). Hand-written instead of
 * `node:util`'s parseArgs, which loads Deno's Node compatibility layer (~2 MiB of RSS).
 */
function readFlagValues(args: readonly string[]): Map<string, string> | string {
  const values = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      const next = args[i + 1];
      return next === undefined ? values : unexpected(next);
    }
    if (!arg.startsWith("--")) return unexpected(arg);
    const equals = arg.indexOf("=");
    const name = equals === -1 ? arg.slice(2) : arg.slice(2, equals);
    if (equals === -1 || !SPEC_BY_NAME.has(name)) {
      return `Unknown flag "${name === "" ? arg : `--${name}`}": see --help`;
    }
    values.set(name, arg.slice(equals + 1));
  }
  return values;
}

function unexpected(arg: string): string {
  return `Unexpected argument "${arg}": flags start with --`;
}
