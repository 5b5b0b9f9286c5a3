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

/** The summary line of one `--report-interval`. */
function logSummary(log: Logger, summary: IntervalSummary): void {
  const round = (rate: number | null) => rate === null ? null : Math.round(rate);
  log.info(
    "Last {intervalSeconds} s: swap I/O {rateMinPagesPerSecond}/{rateMedianPagesPerSecond}/" +
      "{rateMaxPagesPerSecond} pages/s (min/median/max), {ticks} ticks, {scans} pod scans, " +
      "up to {candidatesMax} candidates, actions {actions}",
    {
      ...summary,
      rateMinPagesPerSecond: round(summary.rateMinPagesPerSecond),
      rateMedianPagesPerSecond: round(summary.rateMedianPagesPerSecond),
      rateMaxPagesPerSecond: round(summary.rateMaxPagesPerSecond),
    },
  );
}
