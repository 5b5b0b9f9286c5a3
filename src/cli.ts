/**
 * Command line → Config. Go flag syntax (`--flag=value`, `--flag value`, `-flag`,
 * booleans as `--dry-run=false`, durations as Go writes them), one flag table that
 * drives parsing, validation and `--help`.
 */
import { type Config, DEFAULTS, type LogLevel } from "./config.ts";
import type { HeadroomModel } from "./decide/headroom_settings.ts";
import { type LabelSelector, parseLabelSelector } from "./decide/label_selector.ts";
import { formatDuration, parseDuration } from "./duration.ts";
import { parseListenAddress } from "./observe/listen_address.ts";
import { FLAGS, type FlagSpec, helpText, VERSION } from "./cli_flags.ts";

export { helpText, VERSION };

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
  if (config.sustainedDurationMs < config.pollIntervalMs) {
    return {
      kind: "error",
      message: `Flag --sustained-duration ${formatDuration(config.sustainedDurationMs)} is ` +
        `shorter than --poll-interval ${formatDuration(config.pollIntervalMs)}: the swap I/O ` +
        "window could never hold two samples; make it at least the poll interval",
    };
  }
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
    podSelector: flags.selector("pod-selector"),
    scopeNamespaces: emptyIsAll(flags.list("namespaces", [])),
    earlyWarningLookaheadMs: flags.duration(
      "early-warning-lookahead",
      DEFAULTS.earlyWarningLookaheadMs,
    ),
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

  /** A label selector, checked now; empty (or absent) selects every pod (null). */
  selector(name: string): LabelSelector | null {
    return this.#read(name, null, (_, raw): Parsed<LabelSelector | null> => {
      const parsed = parseLabelSelector(raw);
      if (typeof parsed === "string") return { error: `not a label selector: ${parsed}` };
      return { value: parsed.requirements.length === 0 ? null : parsed };
    });
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
  // Go's time.ParseDuration takes a sign: `-1s` is a duration, just not one a flag can take.
  const sign = /^[-+]/.exec(raw)?.[0];
  const ms = parseDuration(sign === undefined ? raw : raw.slice(1));
  if (ms === null) return { error: 'expected a Go duration such as "500ms", "10s" or "1m30s"' };
  if (sign === "-" && ms > 0) {
    return {
      error: spec.min === 0 && !spec.exclusiveMin ? "must not be negative" : "must be positive",
    };
  }
  const rangeError = checkRange(spec, ms, formatDuration(ms), formatDuration);
  return rangeError ? { error: rangeError } : { value: ms };
}

/** An empty scope list means no scope: every namespace. */
function emptyIsAll(list: readonly string[]): readonly string[] | null {
  return list.length === 0 ? null : list;
}

/** Comma-separated namespace names, blanks and repeats dropped. */
function parseNamespaceList(_: FlagSpec, raw: string): Parsed<readonly string[]> {
  const items = raw.split(",").map((item) => item.trim()).filter((item) => item !== "");
  const bad = items.find((item) => !DNS_LABEL.test(item));
  if (bad !== undefined) return { error: `"${bad}" is not a namespace name (RFC 1123 label)` };
  return { value: [...new Set(items)] };
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
      const next = args[i + 1];
      if (
        spec?.kind === "boolean" && match[2] === undefined && next !== undefined &&
        parseGoBool(next) !== null
      ) {
        // Go's flag package never reads the next word as a boolean's value.
        return `Unexpected argument "${next}" after ${args[i]}: a boolean flag takes its ` +
          `value after "=": write --${spec.name}=${next}`;
      }
      if (spec?.kind === "boolean" && match[2] === undefined) arg = `--${spec.name}=true`;
      else if (spec && match[2] === undefined) {
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
  if (spec.max !== undefined) {
    if (spec.exclusiveMax ? value >= spec.max : value > spec.max) {
      return `${shown} must be ${spec.exclusiveMax ? "below" : "at most"} ${format(spec.max)}`;
    }
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
  // Go's flag package takes -flag and --flag alike, and so does normalizeArgs().
  return `Unexpected argument "${arg}": flags start with - or --`;
}
