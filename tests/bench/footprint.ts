/**
 * The footprint run: `src/main.ts` from source under its production-shaped permission set
 * against a synthetic 250-pod node (cgroup tree, fake `/proc`, the HTTPS API stand-in with
 * the node's pods, a kubeconfig), idle and then under sustained swap pressure, next to an
 * idle Deno process that only sleeps (the floor) and, for reference, a Deno that made one
 * HTTPS request and then sleeps (what TLS and fetch alone cost). RSS and CPU time come from
 * `/proc/<pid>/`: VmRSS, VmHWM, utime + stime (and schedstat for a per-second CPU trace).
 *
 * The agent runs with `--poll-interval=1s --dry-run=true --sustained-duration=5s
 * --cooldown-period=5s`, so that 20 s of pressure brings two decisions (each one LIST and
 * one Event) and the pod scans in between. The node's meminfo shows the swapping pods'
 * swap in use, as on a real swap-enabled node.
 */
import type { V1Pod } from "@kubernetes/client-node";
import {
  type ApiStandin,
  makePod,
  startApiStandin,
  writeKubeconfig,
} from "../fakes/api_standin.ts";
import { BENCH_NODE, buildSyntheticNode, type SyntheticNode } from "./synthetic_node.ts";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;
const DENO_JSON = new URL("../../deno.json", import.meta.url).pathname;
export const TOKEN = "bench-token";

/** How the run goes. Optional fields default as in brackets. */
export interface FootprintOptions {
  /** The idle window, after settling: CPU and API requests are counted over it, s [60]. */
  readonly idleSeconds?: number;
  /** Sustained pressure after the calm, s [20]. */
  readonly pressureSeconds?: number;
  /** Calm time after the start line before the idle window (start-up is not idling), s [5]. */
  readonly settleSeconds?: number;
  /** Pods on the node [250]. */
  readonly pods?: number;
  /** Node swap I/O during the pressure (pswpin + pswpout), pages/s [3,000]. */
  readonly pressurePagesPerSecond?: number;
  /** The agent's entry point [src/main.ts]; experiments point it at a variant. */
  readonly main?: string;
  /** meminfo shows swap in use, as on a node whose pods swap [true]; see SyntheticNodeOptions. */
  readonly swapInUse?: boolean;
  /** `--metrics-addr` for the agent: a free port by default; null turns the endpoint off. */
  readonly metricsAddr?: string | null;
  /** Extra `deno run` flags (e.g. `--v8-flags=…`), before the entry point. */
  readonly denoFlags?: readonly string[];
  /** Working directory of the agent (a checkout of another revision, with its deno.json). */
  readonly cwd?: string;
  /** Extra environment of the agent (e.g. `MALLOC_ARENA_MAX`). */
  readonly env?: Readonly<Record<string, string>>;
  /** Extra agent flags, after the fixed ones. */
  readonly agentFlags?: readonly string[];
  /** Called with every line the agent writes to stdout (experiments: `--trace-gc` …). */
  readonly onLine?: (line: string) => void;
  /** Progress lines (stderr by default). */
  readonly progress?: (line: string) => void;
  /** Connection modes, one agent each, run side by side [in-cluster and kubeconfig]. */
  readonly modes?: readonly ConnectionMode[];
  /** Pods in the big-LIST step (peak RSS while it is parsed); 0: no such step [5,000]. */
  readonly bigListPods?: number;
}

/** What `/proc/<pid>/` said at one moment. */
export interface ProcSample {
  /** Seconds since the agent's start line. */
  readonly atSeconds: number;
  /** `VmRSS`, KiB. */
  readonly rssKiB: number;
  /** `VmHWM` (peak RSS), KiB. */
  readonly hwmKiB: number;
  /** `RssAnon`, KiB: heap and stacks, what the process itself allocated. */
  readonly rssAnonKiB: number;
  /** `RssFile`, KiB: mapped files (the deno binary's touched pages). */
  readonly rssFileKiB: number;
  /** `Threads`. */
  readonly threads: number;
  /** utime + stime, seconds. */
  readonly cpuSeconds: number;
}

/** The three moments of one process. */
export interface ProcTimeline {
  /** After settling (`settleSeconds` after the start line): the start of the idle window. */
  readonly settled: ProcSample;
  /** At the end of the idle window (`idleSeconds` later). */
  readonly idleEnd: ProcSample;
  /** At the end of the pressure. */
  readonly pressureEnd: ProcSample;
}

/** How an agent finds its API server. */
export type ConnectionMode = "in-cluster" | "kubeconfig";

/** One agent's run inside the footprint run. */
export interface AgentRun {
  readonly mode: ConnectionMode;
  /** The agent's command line after `deno run` (in-cluster: inside `unshare`). */
  readonly agentArgs: readonly string[];
  /** Seconds from spawn to the agent's start line. */
  readonly startupSeconds: number;
  readonly timeline: ProcTimeline;
  /** API requests from spawn to the start of the idle window (start-up checks), by kind. */
  readonly startupApiRequests: Record<string, number>;
  /**
   * The agent's CPU time in each second of the idle window, ms (schedstat of its live
   * threads): where the idle CPU goes (a periodic scan, a summary line, a GC).
   */
  readonly idleCpuPerSecondMs: readonly number[];
  /** API requests during the idle window (must be 0). */
  readonly idleApiRequests: number;
  /** API requests during the pressure, by `METHOD path`. */
  readonly pressureApiRequests: Record<string, number>;
  /** Decision lines ("Sustained swap I/O …") the agent logged. */
  readonly decisions: number;
  /** Bytes the agent wrote to stdout over the whole run. */
  readonly stdoutBytes: number;
  /** The agent's exit code after SIGTERM. */
  readonly agentExitCode: number;
}

/** The agent while it parses one big LIST of the node's pods. */
export interface BigListRun {
  readonly pods: number;
  /** Size of the PodList body, bytes. */
  readonly listBytes: number;
  /** VmHWM after the first decision (the LIST parsed), KiB. */
  readonly hwmKiB: number;
  /** VmRSS then, KiB. */
  readonly rssKiB: number;
  /** The LIST requests the agent made. */
  readonly lists: number;
}

/** The footprint run's figures. */
export interface FootprintReport {
  /** Length of the idle window (CPU and API requests are counted over it), s. */
  readonly idleSeconds: number;
  /** Calm time before the idle window, after the start line (start-up work), s. */
  readonly settleSeconds: number;
  readonly pressureSeconds: number;
  /** Node swap I/O during the pressure, pages/s. */
  readonly pressurePagesPerSecond: number;
  readonly pods: number;
  readonly containersPerPod: number;
  /** The floor's command line and script. */
  readonly floorCommand: string;
  /** Clock ticks per second used for utime/stime. */
  readonly clockTicksPerSecond: number;
  /** One per connection mode, all at the same time against the same node. */
  readonly runs: readonly AgentRun[];
  /** Modes asked for but not run, with the reason (in-cluster needs root for `unshare`). */
  readonly skipped: readonly { readonly mode: ConnectionMode; readonly reason: string }[];
  readonly floor: ProcTimeline;
  /**
   * A second reference: Deno that made one HTTPS request with a custom CA (as the agent's
   * client does) and then only sleeps: what TLS and fetch alone cost.
   */
  readonly tlsFloor: ProcTimeline;
  /** The TLS floor's script (URL and CA elided). */
  readonly tlsFloorCommand: string;
  /** The same for the floor process. */
  readonly floorIdleCpuPerSecondMs: readonly number[];
  /** Peak RSS while a LIST of `bigListPods` pods is parsed; null when not asked for. */
  readonly bigList: BigListRun | null;
}

/** CPU share of one core between two samples, percent. */
export function cpuPercent(from: ProcSample, to: ProcSample): number {
  const seconds = to.atSeconds - from.atSeconds;
  return seconds <= 0 ? NaN : ((to.cpuSeconds - from.cpuSeconds) / seconds) * 100;
}

/** `getconf CLK_TCK`, or 100 (the Linux USER_HZ everywhere that matters). */
export async function clockTicksPerSecond(): Promise<number> {
  try {
    const output = await new Deno.Command("getconf", { args: ["CLK_TCK"], stdout: "piped" })
      .output();
    const value = Number(new TextDecoder().decode(output.stdout).trim());
    return output.success && value > 0 ? value : 100;
  } catch {
    return 100;
  }
}

/** Reads RSS figures and CPU time of `pid`; throws when it is gone. */
export function readProcSample(pid: number, ticksPerSecond: number, atSeconds: number): ProcSample {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kib = (key: string): number => {
    const match = new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(status);
    return match === null ? NaN : Number(match[1]);
  };
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // Fields after "(comm) ": state is [0], utime [11], stime [12] (proc(5) fields 14 and 15).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return {
    atSeconds,
    rssKiB: kib("VmRSS"),
    hwmKiB: kib("VmHWM"),
    rssAnonKiB: kib("RssAnon"),
    rssFileKiB: kib("RssFile"),
    threads: kib("Threads"),
    cpuSeconds: ticks / ticksPerSecond,
  };
}

/**
 * CPU time of all live threads of `pid` from `/proc/<pid>/task/<tid>/schedstat`, ms, at
 * nanosecond resolution (utime/stime count 10 ms ticks). Threads that exited are not in it.
 */
export function readThreadsCpuMs(pid: number): number {
  let ns = 0;
  for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/schedstat`).split(" ")[0]);
    } catch {
      // The thread exited meanwhile.
    }
  }
  return ns / 1e6;
}

/** The agent's env allowlist, from the "agent" permission set in deno.json. */
function agentEnvAllowlist(): string[] {
  const config = JSON.parse(Deno.readTextFileSync(DENO_JSON));
  const allow = config?.permissions?.agent?.env?.allow;
  return Array.isArray(allow) && allow.length > 0 ? allow : ["NODE_NAME", "KUBECONFIG"];
}

/** Collects a child's stdout: total bytes, and lines matching a few patterns. */
function watchStdout(stream: ReadableStream<Uint8Array>, onLine?: (line: string) => void) {
  const state = { bytes: 0, started: false, decisions: 0, lines: [] as string[] };
  let onStart: () => void = () => {};
  const started = new Promise<void>((resolve) => (onStart = resolve));
  const done = (async () => {
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of stream) {
      state.bytes += chunk.length;
      pending += decoder.decode(chunk, { stream: true });
      let newline: number;
      while ((newline = pending.indexOf("\n")) !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (state.lines.length < 20) state.lines.push(line);
        onLine?.(line);
        if (line.includes("watching node")) {
          state.started = true;
          onStart();
        }
        if (line.includes("Sustained swap I/O")) state.decisions++;
      }
    }
  })();
  return { state, started, done };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Counts requests by `METHOD path`. */
function countRequests(requests: readonly { method: string; path: string }[]) {
  const counts: Record<string, number> = {};
  for (const request of requests) {
    const key = `${request.method} ${request.path}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** A free TCP port on 127.0.0.1 (for the agent's metrics endpoint). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

/** True when the agent knows `--<flag>` (flags come and go while the agent grows). */
async function agentHasFlag(main: string, flag: string, cwd?: string): Promise<boolean> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", main, "--help"],
    ...(cwd === undefined ? {} : { cwd }),
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(output.stdout).includes(`--${flag}`);
}

/** The floor's script: Deno that only sleeps, waking once a second as the agent does. */
export const FLOOR_SCRIPT = "setInterval(() => {}, 1000);";

/** The TLS floor's script: one HTTPS GET through a client with the CA, then the floor's. */
export function tlsFloorScript(url: string, caPem: string): string {
  return `const client = Deno.createHttpClient({ caCerts: [${JSON.stringify(caPem)}] });\n` +
    `await (await fetch(${JSON.stringify(url)}, { client })).arrayBuffer();\n` + FLOOR_SCRIPT;
}

/**
 * The `deno run` flags of deno.json's `start` task, between `deno run` and `src/main.ts`,
 * without the permission set (`-P=agent`, which the bench replaces by scoped permissions):
 * the bench starts the agent as production does (e.g. `--v8-flags=--lite-mode`).
 */
export async function productionRunFlags(): Promise<string[]> {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("../../deno.json", import.meta.url)),
  ) as { tasks: Record<string, string> };
  const start = config.tasks.start ?? "";
  const match = start.match(/^deno run (.*) src\/main\.ts$/);
  if (match === null) throw new Error(`deno.json's start task is not "deno run … src/main.ts"`);
  return match[1]!.split(" ").filter((flag) =>
    flag !== "" && !/^(-P|--permission-set)\b/.test(flag)
  );
}

/** Starts `deno run -A -` with `script` on stdin. */
export async function spawnScript(script: string): Promise<Deno.ChildProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "-"],
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script + "\n"));
  await writer.close();
  return child;
}

/** Why `unshare -m` cannot give the agent its own service-account mount; null: it can. */
export async function inClusterUnavailable(): Promise<string | null> {
  try {
    const output = await new Deno.Command("unshare", {
      args: ["-m", "--propagation", "private", "true"],
      stdout: "null",
      stderr: "piped",
    }).output();
    return output.success
      ? null
      : `unshare -m failed: ${new TextDecoder().decode(output.stderr).trim()} (needs root)`;
  } catch (error) {
    return `no unshare: ${(error as Error).message}`;
  }
}

/**
 * Writes the service-account directory of an in-cluster agent under `dir`, to be
 * bind-mounted over /run (so it appears at /var/run/secrets/kubernetes.io/serviceaccount
 * for that process only). Returns the directory to mount.
 */
async function writeServiceAccount(dir: string, caPem: string): Promise<string> {
  const root = `${dir}/run`;
  const sa = `${root}/secrets/kubernetes.io/serviceaccount`;
  await Deno.mkdir(sa, { recursive: true });
  await Deno.writeTextFile(`${sa}/token`, TOKEN);
  await Deno.writeTextFile(`${sa}/ca.crt`, caPem);
  await Deno.writeTextFile(`${sa}/namespace`, "kube-soomkiller");
  return root;
}

/** One agent process and what watches it. */
export interface LiveAgent {
  readonly mode: ConnectionMode;
  readonly api: ApiStandin;
  readonly args: readonly string[];
  readonly child: Deno.ChildProcess;
  readonly stdout: ReturnType<typeof watchStdout>;
  readonly stderrText: Promise<string>;
  readonly spawnedMs: number;
}

export interface SpawnSpec {
  readonly mode: ConnectionMode;
  readonly api: ApiStandin;
  readonly node: SyntheticNode;
  readonly main: string;
  readonly metricsFlag: readonly string[];
  readonly options: FootprintOptions;
}

/** Starts one agent as a user would: `deno run` of src/main.ts, in the given mode. */
export async function spawnAgent(spec: SpawnSpec): Promise<LiveAgent> {
  const { mode, api, node, options } = spec;
  const reads = [node.hostDir, node.tree.root];
  let connection: string[];
  let env: Record<string, string> = { KUBECONFIG: "" };
  let wrapper: string[] = [];
  // A directory of its own: agents started side by side each talk to their own stand-in.
  const own = await Deno.makeTempDir({ dir: node.hostDir, prefix: `${mode}-` });
  if (mode === "kubeconfig") {
    const path = await writeKubeconfig(own, {
      server: api.url,
      caPem: api.caPem,
      token: TOKEN,
    });
    connection = [`--kubeconfig=${path}`];
  } else {
    const runDir = await writeServiceAccount(own, api.caPem!);
    reads.push("/var/run/secrets/kubernetes.io/serviceaccount");
    connection = [];
    env = {
      ...env,
      KUBERNETES_SERVICE_HOST: "127.0.0.1",
      KUBERNETES_SERVICE_PORT: api.url.split(":").pop()!,
    };
    // Its own mount namespace: /run is the temp directory, for this process only.
    wrapper = [
      "-m",
      "--propagation",
      "private",
      "sh",
      "-c",
      'mount --bind "$0" /run && exec "$@"',
      runDir,
      Deno.execPath(),
    ];
  }
  const args = [
    `--allow-read=${reads.join(",")}`,
    `--allow-env=${agentEnvAllowlist().join(",")}`,
    "--ignore-env",
    "--allow-net",
    ...(options.denoFlags ?? []),
    spec.main,
    `--node-name=${BENCH_NODE}`,
    ...connection,
    `--proc-root=${node.procRoot}`,
    `--cgroup-root=${node.tree.root}`,
    "--poll-interval=1s",
    "--dry-run=true",
    "--sustained-duration=5s",
    "--cooldown-period=5s",
    ...spec.metricsFlag,
    ...(options.agentFlags ?? []),
  ];
  const spawnedMs = performance.now();
  const child = wrapper.length === 0
    ? new Deno.Command(Deno.execPath(), {
      args: ["run", ...args],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", ...env, ...options.env },
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    }).spawn()
    : new Deno.Command("unshare", {
      args: [...wrapper, "run", ...args],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", ...env, ...options.env },
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    }).spawn();
  const stdout = watchStdout(child.stdout, options.onLine);
  const stderrText = new Response(child.stderr).text();
  return { mode, api, args, child, stdout, stderrText, spawnedMs };
}

/** Waits for the start line; throws with the agent's output when it exits first. */
export async function started(agent: LiveAgent): Promise<number> {
  const exited = agent.child.status.then(() => "exited" as const);
  const first = await Promise.race([agent.stdout.started.then(() => "started" as const), exited]);
  if (first === "exited") {
    await agent.stdout.done;
    throw new Error(
      `The ${agent.mode} agent exited before starting: ${
        agent.stdout.state.lines.join("\n")
      }\n${await agent
        .stderrText}`,
    );
  }
  return performance.now();
}

/** The metrics flag for `main`: a free port, or what the options say. */
export async function metricsFlagFor(main: string, options: FootprintOptions): Promise<string[]> {
  if (!(await agentHasFlag(main, "metrics-addr", options.cwd))) return [];
  return [
    `--metrics-addr=${
      options.metricsAddr === undefined ? `127.0.0.1:${freePort()}` : options.metricsAddr ?? ""
    }`,
  ];
}

/** Runs the footprint measurement; see the module doc. */
export async function runFootprint(options: FootprintOptions = {}): Promise<FootprintReport> {
  const idleSeconds = options.idleSeconds ?? 60;
  const pressureSeconds = options.pressureSeconds ?? 20;
  const settleSeconds = options.settleSeconds ?? 5;
  const pods = options.pods ?? 250;
  const containersPerPod = 3;
  const rate = options.pressurePagesPerSecond ?? 3_000;
  const main = options.main ?? MAIN;
  const progress = options.progress ?? ((line: string) => console.error(line));
  const ticksPerSecond = await clockTicksPerSecond();
  const skipped: { mode: ConnectionMode; reason: string }[] = [];
  const modes: ConnectionMode[] = [];
  for (const mode of options.modes ?? ["in-cluster", "kubeconfig"]) {
    const reason = mode === "in-cluster" ? await inClusterUnavailable() : null;
    if (reason === null) modes.push(mode);
    else skipped.push({ mode, reason });
  }

  progress(`footprint: building a ${pods}-pod node and the API stand-ins`);
  // Not on /dev/shm: Deno refuses reads under /dev (as under /proc and /sys) without -A.
  const node: SyntheticNode = await buildSyntheticNode({
    pods,
    containersPerPod,
    swapInUse: options.swapInUse ?? true,
    tempDir: Deno.env.get("TMPDIR") ?? "/tmp",
  });
  const apis: ApiStandin[] = [];
  let tlsApi: ApiStandin | null = null;
  const agents: LiveAgent[] = [];
  let floor: Deno.ChildProcess | null = null;
  let tlsFloor: Deno.ChildProcess | null = null;
  let swapTimer: ReturnType<typeof setInterval> | undefined;
  let pages = 1_000;
  const startPressure = () => {
    // Sustained pressure: pswpin and pswpout each grow by rate/2 pages/s, every 250 ms.
    swapTimer = setInterval(() => {
      pages += rate / 2 / 4;
      node.setSwapCounters(pages, pages).catch(() => {});
    }, 250);
  };
  const stopPressure = () => {
    if (swapTimer !== undefined) clearInterval(swapTimer);
    swapTimer = undefined;
  };
  try {
    floor = await spawnScript(FLOOR_SCRIPT);
    // The TLS floor talks to a stand-in of its own, so the agents' request counts stay clean.
    tlsApi = await startApiStandin({ tls: true });
    tlsFloor = await spawnScript(tlsFloorScript(`${tlsApi.url}/api/v1/pods`, tlsApi.caPem!));

    // Each agent has its own stand-in (its own request count), all serve the node's pods.
    for (const mode of modes) {
      const api = await startApiStandin({ tls: true, token: TOKEN, pods: [...node.apiPods] });
      apis.push(api);
      const metricsFlag = await metricsFlagFor(main, options);
      agents.push(await spawnAgent({ mode, api, node, main, metricsFlag, options }));
    }
    const startedAt = await Promise.all(agents.map(started));
    const startedMs = Math.max(...startedAt);
    const at = () => (performance.now() - startedMs) / 1000;
    progress(
      `footprint: ${
        agents.map((a, i) =>
          `${a.mode} up in ${((startedAt[i]! - a.spawnedMs) / 1000).toFixed(2)} s`
        )
          .join(", ")
      }; settling ${settleSeconds} s, idle ${idleSeconds} s, then ${pressureSeconds} s of pressure`,
    );
    const sampleAll = () => ({
      agents: agents.map((a) => readProcSample(a.child.pid, ticksPerSecond, at())),
      floor: readProcSample(floor!.pid, ticksPerSecond, at()),
      tlsFloor: readProcSample(tlsFloor!.pid, ticksPerSecond, at()),
    });

    await sleep(settleSeconds * 1000);
    const settled = sampleAll();
    const startupRequests = agents.map((a) => a.api.requests.length);
    const idleCpu: number[][] = agents.map(() => []);
    const floorIdleCpuPerSecondMs: number[] = [];
    const pids = [...agents.map((a) => a.child.pid), floor.pid];
    let previous = pids.map(readThreadsCpuMs);
    for (let second = 1; second <= Math.floor(idleSeconds); second++) {
      await sleep(Math.max(0, (settleSeconds + second - at()) * 1000));
      const now = pids.map(readThreadsCpuMs);
      const delta = now.map((ms, i) => Math.max(0, Math.round((ms - previous[i]!) * 100) / 100));
      delta.slice(0, agents.length).forEach((ms, i) => idleCpu[i]!.push(ms));
      floorIdleCpuPerSecondMs.push(delta[agents.length]!);
      previous = now;
    }
    await sleep(Math.max(0, (settleSeconds + idleSeconds - at()) * 1000));
    const idleEnd = sampleAll();
    const idleRequests = agents.map((a, i) => a.api.requests.length - startupRequests[i]!);
    progress(
      `footprint: idle done: ${
        agents.map((a, i) => `${a.mode} RSS ${(idleEnd.agents[i]!.rssKiB / 1024).toFixed(1)} MiB`)
          .join(", ")
      }, floor ${(idleEnd.floor.rssKiB / 1024).toFixed(1)} MiB`,
    );

    startPressure();
    await sleep(pressureSeconds * 1000);
    const pressureEnd = sampleAll();
    stopPressure();
    progress(
      `footprint: pressure done: ${
        agents.map((a, i) =>
          `${a.mode} RSS ${(pressureEnd.agents[i]!.rssKiB / 1024).toFixed(1)} MiB, ` +
          `${a.stdout.state.decisions} decisions`
        ).join("; ")
      }`,
    );

    const runs: AgentRun[] = [];
    for (const [i, agent] of agents.entries()) {
      agent.child.kill("SIGTERM");
      const status = await agent.child.status;
      await agent.stdout.done;
      await agent.stderrText;
      runs.push({
        mode: agent.mode,
        agentArgs: agent.args,
        startupSeconds: (startedAt[i]! - agent.spawnedMs) / 1000,
        timeline: {
          settled: settled.agents[i]!,
          idleEnd: idleEnd.agents[i]!,
          pressureEnd: pressureEnd.agents[i]!,
        },
        startupApiRequests: countRequests(agent.api.requests.slice(0, startupRequests[i]!)),
        idleCpuPerSecondMs: idleCpu[i]!,
        idleApiRequests: idleRequests[i]!,
        pressureApiRequests: countRequests(
          agent.api.requests.slice(startupRequests[i]! + idleRequests[i]!),
        ),
        decisions: agent.stdout.state.decisions,
        stdoutBytes: agent.stdout.state.bytes,
        agentExitCode: status.code,
      });
    }
    agents.length = 0;

    const bigListPods = options.bigListPods ?? 5_000;
    const bigList = bigListPods > 0
      ? await runBigList(node, bigListPods, main, options, progress, startPressure, stopPressure)
      : null;

    return {
      idleSeconds,
      settleSeconds,
      pressureSeconds,
      pressurePagesPerSecond: rate,
      pods,
      containersPerPod,
      floorCommand: `deno run -A - <<< "${FLOOR_SCRIPT}"`,
      clockTicksPerSecond: ticksPerSecond,
      runs,
      skipped,
      floor: { settled: settled.floor, idleEnd: idleEnd.floor, pressureEnd: pressureEnd.floor },
      tlsFloor: {
        settled: settled.tlsFloor,
        idleEnd: idleEnd.tlsFloor,
        pressureEnd: pressureEnd.tlsFloor,
      },
      tlsFloorCommand:
        `deno run -A - <<< 'one HTTPS GET with Deno.createHttpClient({ caCerts }); ` +
        `${FLOOR_SCRIPT}'`,
      floorIdleCpuPerSecondMs,
      bigList,
    };
  } finally {
    stopPressure();
    for (const child of [...agents.map((a) => a.child), floor, tlsFloor]) {
      if (child === null) continue;
      try {
        child.kill("SIGKILL");
      } catch {
        // Already exited.
      }
      await child.status;
    }
    for (const api of apis) await api.close();
    await tlsApi?.close();
    await node.dispose();
  }
}

/**
 * The agent (kubeconfig mode) against a stand-in whose LIST of the node has `count` pods
 * (the node's own and padding pods as big as real ones): pressure until the first decision,
 * then VmHWM, the peak RSS while that LIST was parsed.
 */
async function runBigList(
  node: SyntheticNode,
  count: number,
  main: string,
  options: FootprintOptions,
  progress: (line: string) => void,
  startPressure: () => void,
  stopPressure: () => void,
): Promise<BigListRun> {
  const padding = Array.from(
    { length: Math.max(0, count - node.apiPods.length) },
    (_, i) => realisticPod(i),
  );
  const api = await startApiStandin({
    tls: true,
    token: TOKEN,
    pods: [...node.apiPods, ...padding],
  });
  let agent: LiveAgent | null = null;
  try {
    const listBytes = new TextEncoder().encode(
      JSON.stringify({ kind: "PodList", apiVersion: "v1", items: api.pods }),
    ).length;
    progress(
      `footprint: big LIST: ${api.pods.length} pods, ${(listBytes / 1024 / 1024).toFixed(1)} MiB`,
    );
    agent = await spawnAgent({
      mode: "kubeconfig",
      api,
      node,
      main,
      metricsFlag: await metricsFlagFor(main, options),
      options,
    });
    await started(agent);
    await sleep(2_000);
    startPressure();
    const deadline = performance.now() + 30_000;
    while (agent.stdout.state.decisions === 0 && performance.now() < deadline) await sleep(250);
    await sleep(500);
    stopPressure();
    const sample = readProcSample(agent.child.pid, 100, 0);
    const lists = api.requests.filter((r) => r.method === "GET" && r.path === "/api/v1/pods")
      .length;
    progress(`footprint: big LIST parsed: peak RSS ${(sample.hwmKiB / 1024).toFixed(1)} MiB`);
    return {
      pods: api.pods.length,
      listBytes,
      hwmKiB: sample.hwmKiB,
      rssKiB: sample.rssKiB,
      lists,
    };
  } finally {
    stopPressure();
    if (agent !== null) {
      try {
        agent.child.kill("SIGKILL");
      } catch {
        // Already exited.
      }
      await agent.child.status;
      await agent.stdout.done;
      await agent.stderrText;
    }
    await api.close();
  }
}

/** A pod of another workload on the node, about as big as a real one (~4 KiB of JSON). */
function realisticPod(i: number): V1Pod {
  const pod = makePod({
    name: `other-${i}-${"x".repeat(20)}`,
    namespace: `ns-${i % 40}`,
    uid: crypto.randomUUID(),
    nodeName: BENCH_NODE,
    terminationGracePeriodSeconds: 30,
  });
  const labels: Record<string, string> = {
    app: `other-${i % 97}`,
    "app.kubernetes.io/name": `service-${i % 97}`,
    "pod-template-hash": "5d8f7c9b6d",
  };
  return {
    ...pod,
    metadata: {
      ...pod.metadata,
      labels,
      annotations: {
        "kubectl.kubernetes.io/restartedAt": "2026-11-30T12:00:00Z",
        "example.com/config": "y".repeat(1_500),
      },
      ownerReferences: [{
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        name: `other-${i % 97}-5d8f7c9b6d`,
        uid: crypto.randomUUID(),
        controller: true,
        blockOwnerDeletion: true,
      }],
    },
    spec: {
      ...pod.spec,
      containers: [{
        name: "app",
        image: `registry.example.com/team/service-${i % 97}:1.2.3`,
        env: Array.from({ length: 12 }, (_, e) => ({ name: `ENV_${e}`, value: `value-${e}` })),
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
      }],
    },
  } as V1Pod;
}
