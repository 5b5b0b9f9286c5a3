/**
 * The `record` and `replay` subcommands: their own flags (`--out`, `--duration`, the trace
 * path), then the agent's flags through the same parser, so a replay under
 * `--swap-io-threshold=500` means exactly what the agent would do with it.
 */
import type { KubeApi } from "../act/kube_client.ts";
import { type CliEnv, parseCli } from "../cli.ts";
import { systemClock } from "../clock.ts";
import type { Config } from "../config.ts";
import { parseDuration } from "../duration.ts";
import { agentLogger, getLogger } from "../observe/log.ts";
import { denoHostFs } from "../sense/host_fs.ts";
import { hostSensor } from "../sense/node_sensor.ts";
import { record } from "./record.ts";
import { renderReplayHtml } from "./html.ts";
import { formatReplay, replay } from "./replay.ts";
import { parseTrace } from "./trace.ts";

export type SubcommandResult =
  | {
    readonly kind: "record";
    readonly config: Config;
    readonly out: string;
    readonly durationMs: number | null;
  }
  | {
    readonly kind: "replay";
    readonly config: Config;
    readonly tracePath: string;
    /** False: use the trace's own poll interval. */
    readonly pollIntervalGiven: boolean;
    /** `--html FILE`: also write the replay as one self-contained page; null: none. */
    readonly htmlPath: string | null;
  }
  | { readonly kind: "help"; readonly text: string }
  | { readonly kind: "error"; readonly message: string };

export const RECORD_HELP =
  `Usage: kube-soomkiller record [--out=FILE|-] [--duration=DURATION] [agent flags]

Samples the node every --poll-interval with the agent's own readers (no API writes; one
LIST now and then for pod names, when an API is configured) and writes one JSON line per
tick: to FILE, or to standard output with --out=- (the default; the production permission
set has no write access, so redirect: kube-soomkiller record > trace.jsonl).

  --out FILE          where to write the trace (default -, standard output)
  --duration D        stop after this long, e.g. 10m (default: until SIGTERM/SIGINT)`;

export const REPLAY_HELP = `Usage: kube-soomkiller replay TRACE.jsonl [--html FILE] [agent flags]

Runs the agent's decision code over a recorded trace and prints one line per action it
would take (time offset, trigger, victim, evidence) and a summary with the kernel OOM kills
the trace recorded. Compare thresholds before arming the agent, e.g.
  kube-soomkiller replay trace.jsonl --swap-io-threshold=500
  kube-soomkiller replay trace.jsonl --swap-io-threshold=2000 --psi-threshold=20

  --html FILE         also write the run as one self-contained HTML page (inline SVG, no
                      network): swap per container vs its limit with the estimator's
                      projection, node swap I/O, PSI and SwapFree vs their thresholds, and a
                      marker per action and per kernel OOM kill`;

/** Parses `record …` or `replay …` (args without the subcommand word). */
export function parseSubcommand(
  name: "record" | "replay",
  args: readonly string[],
  env: CliEnv,
): SubcommandResult {
  if (args.some((arg) => /^--?(h|help)$/.test(arg))) {
    return { kind: "help", text: name === "record" ? RECORD_HELP : REPLAY_HELP };
  }
  const rest: string[] = [];
  let out = "-";
  let durationMs: number | null = null;
  let tracePath: string | null = null;
  let htmlPath: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const own = /^--?(out|duration)(?:=(.*))?$/.exec(arg);
    const html = /^--?html(?:=(.*))?$/.exec(arg);
    if (html && name === "replay") {
      const value = html[1] ?? args[++i];
      if (value === undefined || value === "") {
        return { kind: "error", message: "Flag --html needs a value: the page to write" };
      }
      htmlPath = value;
    } else if (own && name === "record") {
      const value = own[2] ?? args[++i];
      if (value === undefined) return { kind: "error", message: `Flag --${own[1]} needs a value` };
      if (own[1] === "out") out = value;
      else {
        durationMs = parseDuration(value);
        if (durationMs === null || durationMs <= 0) {
          return {
            kind: "error",
            message:
              `Invalid value "${value}" for flag --duration: expected a Go duration such as "10m"`,
          };
        }
      }
    } else if (name === "replay" && !arg.startsWith("-") && tracePath === null) tracePath = arg;
    else rest.push(arg);
  }
  if (name === "replay" && tracePath === null) {
    return { kind: "error", message: "Missing trace file: kube-soomkiller replay TRACE.jsonl" };
  }
  // A trace carries its own node; recording names it only for the header and the LIST.
  const withNode: CliEnv = {
    get: (key) => env.get(key) ?? (key === "NODE_NAME" ? name : undefined),
  };
  const parsed = parseCli(rest, withNode);
  if (parsed.kind === "error") return parsed;
  if (parsed.kind !== "run") {
    return { kind: "help", text: name === "record" ? RECORD_HELP : REPLAY_HELP };
  }
  return name === "record" ? { kind: "record", config: parsed.config, out, durationMs } : {
    kind: "replay",
    config: parsed.config,
    tracePath: tracePath!,
    pollIntervalGiven: rest.some((arg) => /^--?poll-interval\b/.test(arg)),
    htmlPath,
  };
}

/** Runs `record` until the duration ends or `signal` aborts; returns the exit code. */
export async function runRecord(
  options: { config: Config; out: string; durationMs: number | null },
  kube: KubeApi | null,
  signal: AbortSignal,
): Promise<number> {
  const { config } = options;
  let file: Deno.FsFile | null = null;
  try {
    file = options.out === "-"
      ? null
      : await Deno.open(options.out, { write: true, create: true, truncate: true });
  } catch (error) {
    console.error(
      `kube-soomkiller: Cannot write "${options.out}": ${(error as Error).message}; ` +
        "use --out=- and redirect standard output",
    );
    return 1;
  }
  const encoder = new TextEncoder();
  const sink = file ?? Deno.stdout;
  const ticks = await record(
    {
      nodeName: config.nodeName,
      pollIntervalMs: config.pollIntervalMs,
      durationMs: options.durationMs,
    },
    {
      sensor: hostSensor(denoHostFs, config.procRoot, config.cgroupRoot),
      clock: systemClock,
      kube,
      write: async (text) => {
        const bytes = encoder.encode(text);
        for (let done = 0; done < bytes.length;) done += await sink.write(bytes.subarray(done));
      },
      warn: (message) => console.error(`kube-soomkiller record: ${message}`),
    },
    signal,
  );
  file?.close();
  console.error(`kube-soomkiller record: ${ticks} ticks written`);
  return 0;
}

/** Runs `replay` and prints its report; returns the exit code. */
export async function runReplay(
  options: {
    config: Config;
    tracePath: string;
    pollIntervalGiven: boolean;
    htmlPath?: string | null;
  },
): Promise<number> {
  let text: string;
  try {
    text = await Deno.readTextFile(options.tracePath);
  } catch (error) {
    console.error(
      `kube-soomkiller: Cannot read "${options.tracePath}": ${(error as Error).message}`,
    );
    return 1;
  }
  let trace;
  try {
    trace = parseTrace(text, options.tracePath);
  } catch (error) {
    console.error(`kube-soomkiller: ${(error as Error).message}`);
    return 1;
  }
  const config = options.pollIntervalGiven
    ? options.config
    : { ...options.config, pollIntervalMs: trace.header.pollIntervalMs };
  // The report is the output; the agent's own log lines only with --log-level=debug.
  const log = config.logLevel === "debug" ? agentLogger("replay") : getLogger(["replay-quiet"]);
  const result = await replay(trace, config, log);
  console.log(formatReplay(result));
  if (options.htmlPath) {
    const title = `kube-soomkiller replay of ${options.tracePath}`;
    try {
      await Deno.writeTextFile(
        options.htmlPath,
        renderReplayHtml(result, trace.header, config, title),
      );
    } catch (error) {
      console.error(
        `kube-soomkiller: Cannot write "${options.htmlPath}": ${(error as Error).message}`,
      );
      return 1;
    }
    console.error(`kube-soomkiller replay: wrote ${options.htmlPath}`);
  }
  return 0;
}
