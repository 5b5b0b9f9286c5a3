/**
 * Composition root: the only place that reads Deno.args and Deno.env, installs signal
 * handlers and builds the dependencies the rest receives.
 */
import { inClusterConnection } from "./act/in_cluster.ts";
import { createKubeClient, type KubeClient, type KubeConnection } from "./act/kube_client.ts";
import { denoConnectionDeps } from "./act/token_source.ts";
import { Agent } from "./agent.ts";
import { type CliEnv, parseCli, VERSION } from "./cli.ts";
import { systemClock } from "./clock.ts";
import { API_TIMEOUT_MS, type Config } from "./config.ts";
import { agentLogger, type Logger, setupLogging } from "./observe/log.ts";
import type { EndpointServer } from "./observe/http.ts";
import { Observability } from "./observe/observability.ts";
import { checkHost } from "./sense/host_check.ts";
import { denoHostFs } from "./sense/host_fs.ts";
import { hostSensor } from "./sense/node_sensor.ts";

/** Most time a stop may take after SIGTERM/SIGINT before the process exits anyway, ms. */
const STOP_DEADLINE_MS = 1_500;

/** Environment access that treats a variable outside the permission set as unset. */
const env: CliEnv = {
  get(name) {
    try {
      return Deno.env.get(name);
    } catch {
      return undefined;
    }
  },
};

/**
 * Deno (≥ 2.9.2) starts the V8 inspector on 127.0.0.1:9229 when the process gets SIGUSR1
 * (denoland/deno#35738), with no flag to turn that off; a JS listener does not stop it, and
 * it stays off only when that address cannot be bound. An inspector runs any code a local
 * client sends, with the agent's network permission and token. So the agent holds
 * 127.0.0.1:9229 itself (in its own network namespace) and closes every connection to it,
 * before Deno arms its handler 500 ms after start. Null when the port was already taken
 * (then the inspector cannot bind it either).
 */
function holdInspectorPort(): Deno.Listener | null {
  let listener: Deno.Listener;
  try {
    listener = Deno.listen({ hostname: "127.0.0.1", port: 9229 });
  } catch {
    return null;
  }
  (async () => {
    try {
      for await (const connection of listener) connection.close();
    } catch {
      // Closed at stop.
    }
  })();
  return listener;
}

/**
 * SIGUSR1 and SIGHUP change nothing: both are logged and ignored (SIGHUP's default action
 * would end the agent without a word; there is no configuration to reload).
 */
function ignoreSignals(log: Logger, inspectorHeld: boolean): () => void {
  const onUsr1 = () =>
    log.warn(
      "SIGUSR1 received: ignored; the V8 inspector is never opened in production ({why})",
      {
        why: inspectorHeld
          ? "127.0.0.1:9229 is held by the agent"
          : "127.0.0.1:9229 is in use by another process",
      },
    );
  const onHup = () =>
    log.warn("SIGHUP received: ignored (nothing to reload); send SIGTERM to stop the agent");
  Deno.addSignalListener("SIGUSR1", onUsr1);
  Deno.addSignalListener("SIGHUP", onHup);
  return () => {
    Deno.removeSignalListener("SIGUSR1", onUsr1);
    Deno.removeSignalListener("SIGHUP", onHup);
  };
}

async function main(args: readonly string[]): Promise<number> {
  if (args[0] === "record" || args[0] === "replay") return await subcommand(args[0], args.slice(1));
  const cli = parseCli(args, env);
  switch (cli.kind) {
    case "help":
    case "version":
      console.log(cli.text);
      return 0;
    case "error":
      console.error(`kube-soomkiller: ${cli.message}`);
      return 2;
    case "run":
      return await runAgent(cli.config);
  }
}

/**
 * The agent's life: guard the process, check the host, connect, serve, loop until SIGTERM or
 * SIGINT, stop within STOP_DEADLINE_MS. Exit code 1 when it cannot start.
 */
async function runAgent(config: Config): Promise<number> {
  // First, before Deno arms its SIGUSR1 inspector handler (500 ms after start).
  const inspectorPort = holdInspectorPort();
  await setupLogging(config.logFormat, config.logLevel);
  const log = agentLogger("agent");
  const restoreSignals = ignoreSignals(log, inspectorPort !== null);

  // The host view: refuse to start without cgroup v2 or swap counters; warn for the rest.
  const host = await checkHost(denoHostFs, config.procRoot, config.cgroupRoot);
  for (const problem of host.problems) log.error("Host check: {problem}", { problem });
  if (!host.ok) return 1;

  // What operators see: metrics, health and the summary line, fed by the client and the loop.
  const observability = new Observability(config, {
    clock: systemClock,
    log: agentLogger("observe"),
    version: VERSION,
  });
  const api = await connectAgentClient(config, observability, log);
  if (api === null) return 1;
  const { connection, kube } = api;
  const agent = new Agent(config, {
    sensor: hostSensor(denoHostFs, config.procRoot, config.cgroupRoot),
    clock: systemClock,
    kube,
    log,
    onTick: observability.onTick,
    onTickStart: observability.onTickStart,
    random: Math.random,
    randomBytes: (length) => crypto.getRandomValues(new Uint8Array(length)),
  });

  const stop = new AbortController();
  // The HTTP endpoint (--metrics-addr) starts before the loop; an address in use stops the start.
  const server = startEndpoint(observability, config, log, stop.signal);
  if (server === undefined) return 1;
  const onSignal = () => stop.abort();
  for (const signal of ["SIGTERM", "SIGINT"] as const) Deno.addSignalListener(signal, onSignal);

  logStarted(log, config, host.swapTotalBytes, connection.server);
  const running = agent.run(stop.signal);
  // Readiness: one cheap authenticated call at startup, retried with backoff until it works.
  observability.checkApi(
    () => kube.checkConnectivity(env.get("POD_NAMESPACE") || "default"),
    stop.signal,
  );
  await new Promise<void>((resolve) => stop.signal.addEventListener("abort", () => resolve()));
  // A tick in flight may wait on the API: give it a moment, never more than the deadline.
  await Promise.race([
    Promise.all([running, server?.finished]),
    systemClock.sleep(STOP_DEADLINE_MS),
  ]);
  log.info("Stopped by signal");
  kube.close();
  restoreSignals();
  inspectorPort?.close();
  return 0;
}

/** The connection (in-cluster or --kubeconfig) and its client; null (logged) when it fails. */
async function connectAgentClient(
  config: Config,
  observability: Observability,
  log: Logger,
): Promise<{ connection: KubeConnection; kube: KubeClient } | null> {
  let connection: KubeConnection;
  let kube: KubeClient;
  try {
    connection = await connect(config);
    kube = createKubeClient(connection, {
      timeoutMs: API_TIMEOUT_MS,
      onRequest: observability.onApiRequest,
      allowInsecureHttp: config.allowInsecureHttp ?? false,
      onSkippedItems: (reasons) => {
        // One malformed PodList item costs that pod only; say which, at most a few.
        log.warn(
          "Left {count} pods out of the node's list (malformed, or listed twice): {reasons}",
          {
            count: reasons.length,
            reasons: reasons.slice(0, 5),
          },
        );
      },
    });
  } catch (error) {
    log.error("Cannot set up the Kubernetes client: {error}", {
      error: error instanceof Error ? error.message : String(error),
    });
    return null;
  }
  if (connection.server.startsWith("http:")) {
    log.warn(
      "API server {api} is plain http:// (--allow-insecure-http): the bearer token crosses " +
        "the network in clear text",
      { api: connection.server },
    );
  }
  return { connection, kube };
}

/**
 * The metrics and health endpoint: null when --metrics-addr is off, undefined (logged) when
 * the address cannot be served.
 */
function startEndpoint(
  observability: Observability,
  config: Config,
  log: Logger,
  signal: AbortSignal,
): EndpointServer | null | undefined {
  try {
    return observability.serve(signal);
  } catch (error) {
    log.error("Cannot serve --metrics-addr {address}: {error}", {
      address: config.metricsAddr,
      error: error instanceof Error ? error.message : String(error),
    });
    return undefined;
  }
}

/**
 * The start line: what the agent watches (every trigger that is on, most urgent first, and
 * the early warning), its scope, and whether it is armed.
 */
function logStarted(log: Logger, config: Config, swapTotalBytes: number, api: string): void {
  log.info(
    "kube-soomkiller {version} watching node {nodeName}: {headroom}; {nodeSwapFree}; swap I/O " +
      "above {swapIoThresholdPagesPerSecond} pages/s for {sustainedSeconds} s with psi full " +
      "avg10 at least {psiThresholdPercent}%; {earlyWarning}; {terminationMode} mode, {scope}, " +
      "{mode}",
    {
      version: VERSION,
      nodeName: config.nodeName,
      headroom: config.headroomTrigger
        ? `headroom: a container's swap projected to reach its limit within its grace period ` +
          `plus ${config.headroomMarginMs / 1000} s (${config.headroomEstimator} estimator), ` +
          `or over ${config.swapFullPercent}% of it at memory.max`
        : "headroom trigger off",
      nodeSwapFree: config.nodeSwapFreePercent > 0
        ? `node swap free under ${config.nodeSwapFreePercent}%`
        : "node swap free trigger off",
      earlyWarning: config.earlyWarningLookaheadMs > 0
        ? `early warning ${config.earlyWarningLookaheadMs / 1000} s ahead of a swap limit`
        : "no early warning",
      scope: scopeText(config),
      swapIoThresholdPagesPerSecond: config.swapIoThresholdPagesPerSecond,
      sustainedSeconds: config.sustainedDurationMs / 1000,
      psiThresholdPercent: config.psiThresholdPercent,
      terminationMode: config.terminationMode,
      mode: config.dryRun ? "dry-run (set --dry-run=false to act)" : "armed",
      protectedNamespaces: config.protectedNamespaces,
      protectedPriority: config.protectedPriority,
      ...(config.terminationMode === "evict"
        ? { evictFallbackAfterSeconds: config.evictFallbackAfterMs / 1000 }
        : {}),
      ownPod: config.ownPod.uid ??
        (config.ownPod.name ? `${config.ownPod.namespace}/${config.ownPod.name}` : null),
      swapTotalBytes,
      api,
    },
  );
}

/** Who may be chosen, in words: every pod, or the opt-in scope. */
function scopeText(config: Config): string {
  const parts = [
    ...(config.podSelector ? [`pods matching ${config.podSelector.text}`] : []),
    ...(config.scopeNamespaces ? [`in namespaces ${config.scopeNamespaces.join(",")}`] : []),
  ];
  return parts.length === 0 ? "every pod in scope" : `scope: ${parts.join(" ")}`;
}

/** `record` (sample the node into a trace) and `replay` (run the decisions over one). */
async function subcommand(name: "record" | "replay", args: readonly string[]): Promise<number> {
  const { parseSubcommand, runRecord, runReplay } = await import("./replay/commands.ts");
  const parsed = parseSubcommand(name, args, env);
  switch (parsed.kind) {
    case "help":
      console.log(parsed.text);
      return 0;
    case "error":
      console.error(`kube-soomkiller ${name}: ${parsed.message}`);
      return 2;
    case "replay":
      await setupLogging(parsed.config.logFormat, parsed.config.logLevel);
      return await runReplay(parsed);
  }
  // A recording runs for long too: the same SIGUSR1 guard as the agent.
  const inspectorPort = holdInspectorPort();
  await setupLogging(parsed.config.logFormat, parsed.config.logLevel);
  const host = await checkHost(denoHostFs, parsed.config.procRoot, parsed.config.cgroupRoot);
  for (const problem of host.problems) console.error(`kube-soomkiller record: ${problem}`);
  if (!host.ok) return 1;
  // Names for the trace when an API is reachable; recording works without one.
  const kube = await connect(parsed.config).then(
    (connection) =>
      createKubeClient(connection, {
        timeoutMs: API_TIMEOUT_MS,
        allowInsecureHttp: parsed.config.allowInsecureHttp ?? false,
      }),
    (error) => {
      console.error(`kube-soomkiller record: no pod names (${(error as Error).message})`);
      return null;
    },
  );
  const stop = new AbortController();
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    Deno.addSignalListener(signal, () => stop.abort());
  }
  const code = await runRecord(parsed, kube, stop.signal);
  kube?.close();
  inspectorPort?.close();
  return code;
}

function connect(config: Config): Promise<KubeConnection> {
  if (config.kubeconfigPath !== null) {
    // Loaded only for bare nodes: in-cluster runs never pay for the YAML parser.
    return import("./act/kubeconfig.ts").then(({ loadKubeconfig }) =>
      loadKubeconfig(config.kubeconfigPath!, denoConnectionDeps)
    );
  }
  return Promise.resolve(inClusterConnection(env, denoConnectionDeps));
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
