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
import { type ApiStandin, startApiStandin, writeKubeconfig } from "../fakes/api_standin.ts";
import { BENCH_NODE, buildSyntheticNode, type SyntheticNode } from "./synthetic_node.ts";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;
const DENO_JSON = new URL("../../deno.json", import.meta.url).pathname;
const TOKEN = "bench-token";

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
  /** Extra environment of the agent (e.g. `MALLOC_ARENA_MAX`). */
  readonly env?: Readonly<Record<string, string>>;
  /** Extra agent flags, after the fixed ones. */
  readonly agentFlags?: readonly string[];
  /** Called with every line the agent writes to stdout (experiments: `--trace-gc` …). */
  readonly onLine?: (line: string) => void;
  /** Progress lines (stderr by default). */
  readonly progress?: (line: string) => void;
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
  /** The agent's command line after `deno run`. */
  readonly agentArgs: readonly string[];
  /** The floor's command line and script. */
  readonly floorCommand: string;
  /** Clock ticks per second used for utime/stime. */
  readonly clockTicksPerSecond: number;
  /** Seconds from spawn to the agent's start line. */
  readonly startupSeconds: number;
  readonly agent: ProcTimeline;
  readonly floor: ProcTimeline;
  /**
   * A second reference: Deno that made one HTTPS request with a custom CA (as the agent's
   * client does) and then only sleeps: what TLS and fetch alone cost.
   */
  readonly tlsFloor: ProcTimeline;
  /** The TLS floor's script (URL and CA elided). */
  readonly tlsFloorCommand: string;
  /** API requests from spawn to the start of the idle window (start-up checks), by kind. */
  readonly startupApiRequests: Record<string, number>;
  /**
   * The agent's CPU time in each second of the idle window, ms (schedstat of its live
   * threads): where the idle CPU goes (a periodic scan, a summary line, a GC).
   */
  readonly idleCpuPerSecondMs: readonly number[];
  /** The same for the floor process. */
  readonly floorIdleCpuPerSecondMs: readonly number[];
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

/** True when the agent knows `--<flag>` (flags come and go while the agent grows). */
async function agentHasFlag(main: string, flag: string): Promise<boolean> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", main, "--help"],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(output.stdout).includes(`--${flag}`);
}

/** The floor's script: Deno that only sleeps, waking once a second as the agent does. */
const FLOOR_SCRIPT = "setInterval(() => {}, 1000);";

/** The TLS floor's script: one HTTPS GET through a client with the CA, then the floor's. */
function tlsFloorScript(url: string, caPem: string): string {
  return `const client = Deno.createHttpClient({ caCerts: [${JSON.stringify(caPem)}] });\n` +
    `await (await fetch(${JSON.stringify(url)}, { client })).arrayBuffer();\n` + FLOOR_SCRIPT;
}

/** Starts `deno run -A -` with `script` on stdin. */
async function spawnScript(script: string): Promise<Deno.ChildProcess> {
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

  progress(`footprint: building a ${pods}-pod node and the API stand-in`);
  // Not on /dev/shm: Deno refuses reads under /dev (as under /proc and /sys) without -A.
  const node: SyntheticNode = await buildSyntheticNode({
    pods,
    containersPerPod,
    swapInUse: options.swapInUse ?? true,
    tempDir: Deno.env.get("TMPDIR") ?? "/tmp",
  });
  let api: ApiStandin | null = null;
  let tlsApi: ApiStandin | null = null;
  let agent: Deno.ChildProcess | null = null;
  let floor: Deno.ChildProcess | null = null;
  let tlsFloor: Deno.ChildProcess | null = null;
  let swapTimer: ReturnType<typeof setInterval> | undefined;
  try {
    api = await startApiStandin({ tls: true, token: TOKEN, pods: node.apiPods });
    const kubeconfig = await writeKubeconfig(node.hostDir, {
      server: api.url,
      caPem: api.caPem,
      token: TOKEN,
    });
    // The metrics endpoint is part of the production shape: keep it, on a free port.
    const metricsFlag = (await agentHasFlag(main, "metrics-addr"))
      ? [
        `--metrics-addr=${
          options.metricsAddr === undefined ? `127.0.0.1:${freePort()}` : options.metricsAddr ?? ""
        }`,
      ]
      : [];

    floor = await spawnScript(FLOOR_SCRIPT);
    // The TLS floor talks to a stand-in of its own, so the agent's request counts stay clean.
    tlsApi = await startApiStandin({ tls: true });
    tlsFloor = await spawnScript(tlsFloorScript(`${tlsApi.url}/api/v1/pods`, tlsApi.caPem!));

    const agentArgs = [
      `--allow-read=${node.hostDir},${node.tree.root}`,
      `--allow-env=${agentEnvAllowlist().join(",")}`,
      "--ignore-env",
      "--allow-net",
      ...(options.denoFlags ?? []),
      main,
      `--node-name=${BENCH_NODE}`,
      `--kubeconfig=${kubeconfig}`,
      `--proc-root=${node.procRoot}`,
      `--cgroup-root=${node.tree.root}`,
      "--poll-interval=1s",
      "--dry-run=true",
      "--sustained-duration=5s",
      "--cooldown-period=5s",
      ...metricsFlag,
      ...(options.agentFlags ?? []),
    ];
    const spawnedMs = performance.now();
    agent = new Deno.Command(Deno.execPath(), {
      args: ["run", ...agentArgs],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", ...options.env },
    }).spawn();
    const stdout = watchStdout(agent.stdout, options.onLine);
    const stderrText = new Response(agent.stderr).text();
    const exited = agent.status.then(() => "exited" as const);
    const first = await Promise.race([stdout.started.then(() => "started" as const), exited]);
    if (first === "exited") {
      await stdout.done;
      throw new Error(
        `The agent exited before starting: ${stdout.state.lines.join("\n")}\n${await stderrText}`,
      );
    }
    const startedMs = performance.now();
    const at = () => (performance.now() - startedMs) / 1000;
    const startupSeconds = (startedMs - spawnedMs) / 1000;
    progress(
      `footprint: agent up in ${startupSeconds.toFixed(2)} s; settling ${settleSeconds} s, ` +
        `idle ${idleSeconds} s, then ${pressureSeconds} s of pressure`,
    );
    const sampleBoth = () => ({
      agent: readProcSample(agent!.pid, ticksPerSecond, at()),
      floor: readProcSample(floor!.pid, ticksPerSecond, at()),
      tlsFloor: readProcSample(tlsFloor!.pid, ticksPerSecond, at()),
    });

    await sleep(settleSeconds * 1000);
    const settled = sampleBoth();
    const startupRequests = api.requests.length;
    const idleCpuPerSecondMs: number[] = [];
    const floorIdleCpuPerSecondMs: number[] = [];
    let previous = [readThreadsCpuMs(agent.pid), readThreadsCpuMs(floor.pid)];
    for (let second = 1; second <= Math.floor(idleSeconds); second++) {
      await sleep(Math.max(0, (settleSeconds + second - at()) * 1000));
      const now = [readThreadsCpuMs(agent.pid), readThreadsCpuMs(floor.pid)];
      idleCpuPerSecondMs.push(Math.max(0, Math.round((now[0]! - previous[0]!) * 100) / 100));
      floorIdleCpuPerSecondMs.push(Math.max(0, Math.round((now[1]! - previous[1]!) * 100) / 100));
      previous = now;
    }
    await sleep(Math.max(0, (settleSeconds + idleSeconds - at()) * 1000));
    const idleEnd = sampleBoth();
    const idleApiRequests = api.requests.length - startupRequests;
    progress(
      `footprint: idle done: agent RSS ${(idleEnd.agent.rssKiB / 1024).toFixed(1)} MiB, ` +
        `floor ${(idleEnd.floor.rssKiB / 1024).toFixed(1)} MiB, ${idleApiRequests} API requests`,
    );

    // Sustained pressure: pswpin and pswpout each grow by rate/2 pages/s, every 250 ms.
    let pages = 1_000;
    swapTimer = setInterval(() => {
      pages += rate / 2 / 4;
      node.setSwapCounters(pages, pages).catch(() => {});
    }, 250);
    const pressureStart = at();
    await sleep(pressureSeconds * 1000);
    const pressureEnd = sampleBoth();
    clearInterval(swapTimer);
    swapTimer = undefined;
    const pressureApiRequests = countRequests(
      api.requests.slice(startupRequests + idleApiRequests),
    );
    progress(
      `footprint: pressure done after ${(at() - pressureStart).toFixed(1)} s: agent RSS ` +
        `${(pressureEnd.agent.rssKiB / 1024).toFixed(1)} MiB, ${stdout.state.decisions} decisions`,
    );

    agent.kill("SIGTERM");
    const status = await agent.status;
    await stdout.done;
    await stderrText;
    agent = null;
    return {
      idleSeconds,
      settleSeconds,
      pressureSeconds,
      pressurePagesPerSecond: rate,
      pods,
      containersPerPod,
      agentArgs,
      floorCommand: `deno run -A - <<< "${FLOOR_SCRIPT}"`,
      clockTicksPerSecond: ticksPerSecond,
      startupSeconds,
      agent: { settled: settled.agent, idleEnd: idleEnd.agent, pressureEnd: pressureEnd.agent },
      floor: { settled: settled.floor, idleEnd: idleEnd.floor, pressureEnd: pressureEnd.floor },
      tlsFloor: {
        settled: settled.tlsFloor,
        idleEnd: idleEnd.tlsFloor,
        pressureEnd: pressureEnd.tlsFloor,
      },
      tlsFloorCommand:
        `deno run -A - <<< 'one HTTPS GET with Deno.createHttpClient({ caCerts }); ` +
        `${FLOOR_SCRIPT}'`,
      startupApiRequests: countRequests(api.requests.slice(0, startupRequests)),
      idleCpuPerSecondMs,
      floorIdleCpuPerSecondMs,
      idleApiRequests,
      pressureApiRequests,
      decisions: stdout.state.decisions,
      stdoutBytes: stdout.state.bytes,
      agentExitCode: status.code,
    };
  } finally {
    if (swapTimer !== undefined) clearInterval(swapTimer);
    for (const child of [agent, floor, tlsFloor]) {
      if (child === null) continue;
      try {
        child.kill("SIGKILL");
      } catch {
        // Already exited.
      }
      await child.status;
    }
    await api?.close();
    await tlsApi?.close();
    await node.dispose();
  }
}
