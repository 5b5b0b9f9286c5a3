/**
 * What main.ts wires for operators: the metrics, liveness and readiness, the periodic
 * summary line, the HTTP endpoint and the startup API check, fed by the loop's `onTick`
 * and the API client's `onRequest`.
 */
import type { TickReport } from "../decide/decision.ts";
import type { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import { AgentMetrics } from "./agent_metrics.ts";
import { checkApiUntilReachable } from "./api_check.ts";
import { Health } from "./health.ts";
import { type EndpointServer, serveEndpoint } from "./http.ts";
import { formatListenAddress, type ListenAddress, parseListenAddress } from "./listen_address.ts";
import type { Logger } from "./log.ts";
import { type IntervalSummary, ReportAccumulator } from "./report.ts";

export interface ObservabilityDeps {
  readonly clock: Clock;
  readonly log: Logger;
  /** The agent's version, for `soomkiller_build_info`. */
  readonly version: string;
}

export class Observability {
  readonly metrics: AgentMetrics;
  readonly health: Health;
  readonly #deps: ObservabilityDeps;
  readonly #config: Config;
  readonly #report: ReportAccumulator | null;

  constructor(config: Config, deps: ObservabilityDeps) {
    this.#config = config;
    this.#deps = deps;
    this.metrics = new AgentMetrics(config, deps.version);
    this.health = new Health(deps.clock, config.pollIntervalMs);
    this.#report = config.reportIntervalMs > 0
      ? new ReportAccumulator(config.reportIntervalMs, deps.clock.monotonicMs())
      : null;
  }

  /** For `createKubeClient({ onRequest })`. */
  readonly onApiRequest = (verb: string, code: number | null): void => {
    this.metrics.apiRequest(verb, code);
  };

  /** For `AgentDeps.onTickStart`: liveness knows a tick is in progress. */
  readonly onTickStart = (): void => {
    this.health.tickStarted();
  };

  /** For `AgentDeps.onTick`: metrics, liveness and the summary line. Cheap: runs every tick. */
  readonly onTick = (report: TickReport, tickDurationMs: number): void => {
    const nowMs = this.#deps.clock.monotonicMs();
    this.health.tickDone(report.observation !== null);
    this.metrics.tick(report, tickDurationMs, nowMs);
    const summary = this.#report?.add(report, nowMs);
    if (summary) logSummary(this.#deps.log, summary);
  };

  /**
   * Starts the HTTP endpoint when `--metrics-addr` is set (null when it is off). Throws
   * when the address cannot be bound. It stops when `signal` aborts.
   */
  serve(signal: AbortSignal): EndpointServer | null {
    if (this.#config.metricsAddr === null) return null;
    const address = parseListenAddress(this.#config.metricsAddr);
    if ("error" in address) {
      throw new Error(`Cannot listen on "${this.#config.metricsAddr}": ${address.error}`);
    }
    const { log } = this.#deps;
    return serveEndpoint({
      metrics: () => this.metrics.registry.render(),
      liveness: () => this.health.liveness(),
      readiness: () => this.health.readiness(),
    }, {
      address,
      signal,
      onListen: (bound: ListenAddress) =>
        log.info("Serving /metrics, /healthz and /readyz on http://{address}", {
          address: formatListenAddress(bound),
        }),
    });
  }

  /**
   * The startup connectivity check, in the background: retried with backoff until it
   * succeeds, then readiness. The only API call made while the node is calm.
   */
  checkApi(check: () => Promise<void>, signal: AbortSignal): Promise<boolean> {
    return checkApiUntilReachable(check, this.#deps, signal).then((ok) => {
      if (ok) this.health.apiReachable();
      return ok;
    });
  }
}

/** The summary line of one `--report-interval`: words in the message, figures as properties. */
export function logSummary(log: Logger, summary: IntervalSummary): void {
  log.info(summaryMessage(summary), {
    ...summary,
    rateMinPagesPerSecond: roundRate(summary.rateMinPagesPerSecond),
    rateMedianPagesPerSecond: roundRate(summary.rateMedianPagesPerSecond),
    rateMaxPagesPerSecond: roundRate(summary.rateMaxPagesPerSecond),
  });
}

/**
 * `Last 60 s: swap I/O 0/12/40 pages/s (min/median/max), 60 ticks, 1 pod scan, up to 1
 * candidate, no action` (plurals right, the actions as words, nothing but text).
 */
export function summaryMessage(summary: IntervalSummary): string {
  const rates = summary.rateMinPagesPerSecond === null
    ? "no swap I/O rate measured"
    : `swap I/O ${roundRate(summary.rateMinPagesPerSecond)}/${
      roundRate(summary.rateMedianPagesPerSecond)
    }/${roundRate(summary.rateMaxPagesPerSecond)} pages/s (min/median/max)`;
  const actions = Object.entries(summary.actions);
  const acted = actions.length === 0
    ? "no action"
    : `actions: ${actions.map(([kind, n]) => `${n} ${kind}`).join(", ")}`;
  const failed = summary.failedSamples === 0
    ? ""
    : `, ${count(summary.failedSamples, "unreadable sample")}`;
  // Braces in the words would read as placeholders: there are none (numbers and kinds only).
  return `Last ${summary.intervalSeconds} s: ${rates}, ${count(summary.ticks, "tick")}${failed}, ` +
    `${count(summary.scans, "pod scan")}, up to ${
      count(summary.candidatesMax, "candidate")
    }, ${acted}`;
}

/** `1 tick`, `2 ticks`, `0 ticks`. */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function roundRate(rate: number | null): number | null {
  return rate === null ? null : Math.round(rate);
}
