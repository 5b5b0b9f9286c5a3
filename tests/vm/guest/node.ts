// Guest driver: runs inside the VM (deno run -A) as a kubelet-shaped node for one
// scenario. Builds the systemd-driver cgroup tree, starts the API stand-in, the agent
// (production permission set) and the workloads, samples a per-second trace, and
// writes result.json (+ trace.jsonl, agent.log) into the output dir.

import {
  AGENT_BASE_FLAGS,
  API_PORT,
  findScenario,
  type GuestResult,
  NAMESPACE,
  NODE_NAME,
  type PodResult,
  type PodSpec,
} from "../scenarios.ts";
import { ApiStandin, type StandinPod } from "./standin.ts";
import {
  preloadPrograms,
  prepareRoot,
  readTextOrEmpty,
  SERVER_KINDS,
  spawnInRoot,
  waitForLog,
} from "./servers.ts";

const arg = (name: string, def: string): string => {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 && Deno.args[i + 1] !== undefined ? Deno.args[i + 1]! : def;
};

const scenarioName = arg("scenario", "thrash");
const traceForced = arg("trace", "0") === "1";
const OUT = arg("out", "/out");
const APP = arg("app", "/disk/app");
const DENO = arg("deno", "/disk/deno/deno");
const WORKLOAD = arg("workload", "/disk/bin/workload");
const CERTS = arg("certs", "/disk/certs");
const DENO_DIR = arg("deno-dir", "/disk/deno_dir");
/** Diagnostic only (E2E_AGENT_DENO_FLAGS on the host): extra deno flags for the agent. */
const AGENT_DENO_FLAGS = arg("agent-deno-flags", "").split("+").filter(Boolean);
const CG = "/sys/fs/cgroup";

const enc = new TextEncoder();
const errors: string[] = [];
const procStart = performance.now();
let t0: number | null = null; // scenario clock origin (first workload start)
const now = () => (t0 === null ? -(performance.now() - procStart) : performance.now() - t0);

function say(msg: string) {
  const s = (now() / 1000).toFixed(1);
  console.log(`node| t=${s}s ${msg}`);
}

const scenario = findScenario(scenarioName);
if (!scenario) {
  console.log(
    `@@RESULT@@ ${
      JSON.stringify({ scenario: scenarioName, errors: [`Unknown scenario "${scenarioName}"`] })
    }`,
  );
  Deno.exit(2);
}
const tracing = scenario.trace || traceForced;

function readText(p: string): string | null {
  try {
    return Deno.readTextFileSync(p);
  } catch {
    return null;
  }
}
function write(p: string, v: string) {
  Deno.writeTextFileSync(p, v);
}
function kv(text: string | null): Record<string, number> {
  const o: Record<string, number> = {};
  for (const l of (text ?? "").split("\n")) {
    const [k, v] = l.trim().split(/\s+/);
    if (k && v !== undefined) o[k.replace(/:$/, "")] = Number(v);
  }
  return o;
}
function num(text: string | null): number | "max" | null {
  if (text === null) return null;
  const t = text.trim();
  return t === "max" ? "max" : Number(t);
}
function psi(text: string | null) {
  const out: Record<string, { avg10: number; total: number }> = {};
  for (const l of (text ?? "").split("\n")) {
    const m = l.match(/^(some|full) avg10=([\d.]+) .* total=(\d+)/);
    if (m) out[m[1]!] = { avg10: Number(m[2]), total: Number(m[3]) };
  }
  return out;
}

const meminfo = kv(readText("/proc/meminfo"));
const memTotalBytes = (meminfo.MemTotal ?? 0) * 1024;
const swapTotalBytes = (meminfo.SwapTotal ?? 0) * 1024;
const kernelRelease = (readText("/proc/sys/kernel/osrelease") ?? "").trim();
say(
  `scenario ${scenario.name} on ${kernelRelease}: MemTotal=${memTotalBytes} SwapTotal=${swapTotalBytes}`,
);

// ---- cgroup tree (kubelet systemd driver, containerd scopes) ----
function enableControllers(dir: string) {
  for (const c of ["+memory", "+cpu", "+io", "+pids"]) {
    try {
      write(`${dir}/cgroup.subtree_control`, c);
    } catch (e) {
      if (c === "+memory") errors.push(`Cannot enable memory controller in "${dir}": ${e}`);
    }
  }
}
const KUBEPODS = `${CG}/kubepods.slice`;
const BURSTABLE = `${KUBEPODS}/kubepods-burstable.slice`;
enableControllers(CG);
Deno.mkdirSync(BURSTABLE, { recursive: true });
enableControllers(KUBEPODS);
enableControllers(BURSTABLE);
const hasServers = scenario.pods.some((p) => p.server);
/** Unlimited cgroups outside the pods: the benchmarks, and the servers' restart check. */
const BENCH_CG = `${CG}/bench`;
const RESTART_CG = `${CG}/restart`;
if (hasServers) {
  prepareRoot();
  Deno.mkdirSync(BENCH_CG, { recursive: true });
  Deno.mkdirSync(RESTART_CG, { recursive: true });
}

function hex(n: number): string {
  const b = crypto.getRandomValues(new Uint8Array(n));
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

interface LivePod {
  spec: PodSpec;
  sp: StandinPod;
  podDir: string;
  ctrDir: string;
  limitBytes: number;
  swapMaxBytes: number;
  marker: string;
  /** A server's verdict from its own logs (restart check). */
  serverVerdict?: string;
  serverLines?: string[];
  child: Deno.ChildProcess | null;
  /** A server's benchmark client (outside the pod). */
  bench: Deno.ChildProcess | null;
  startedAtMs: number | null;
  exit: { atMs: number; code: number; signal: string | null } | null;
  teardown: boolean;
}

const pods: LivePod[] = [];
for (const spec of scenario.pods) {
  const uid = crypto.randomUUID();
  const cid = hex(32);
  const podDir = `${BURSTABLE}/kubepods-burstable-pod${uid.replaceAll("-", "_")}.slice`;
  const ctrDir = `${podDir}/cri-containerd-${cid}.scope`;
  const limitBytes = spec.limitMiB * 1024 * 1024;
  // LimitedSwap: container memory request / node memory capacity × swap available
  const swapMaxBytes = spec.swapMaxMiB !== undefined
    ? spec.swapMaxMiB * 1024 * 1024
    : Math.floor((spec.requestMiB * 1024 * 1024) / memTotalBytes * swapTotalBytes);
  Deno.mkdirSync(podDir);
  write(`${podDir}/memory.max`, String(limitBytes));
  enableControllers(podDir);
  Deno.mkdirSync(ctrDir);
  write(`${ctrDir}/memory.max`, String(limitBytes));
  write(`${ctrDir}/memory.swap.max`, String(swapMaxBytes));
  write(`${ctrDir}/memory.oom.group`, "1");
  const sp: StandinPod = {
    name: spec.name,
    namespace: NAMESPACE,
    uid,
    graceSeconds: spec.terminationGracePeriodSeconds,
    containerCgroups: [ctrDir],
    containerId: cid,
    limitMiB: spec.limitMiB,
    requestMiB: spec.requestMiB,
    deleteRequests: [],
    sigtermAtMs: null,
    sigkillAtMs: null,
    gone: false,
    ...(spec.server ? { stopSignal: SERVER_KINDS[spec.server.kind].stopSignal } : {}),
  };
  pods.push({
    spec,
    sp,
    podDir,
    ctrDir,
    limitBytes,
    swapMaxBytes,
    marker: `/run/e2e/${spec.name}.marker`,
    child: null,
    bench: null,
    startedAtMs: null,
    exit: null,
    teardown: false,
  });
  say(`pod ${spec.name} uid=${uid} memory.max=${limitBytes} swap.max=${swapMaxBytes}`);
}
Deno.mkdirSync("/run/e2e", { recursive: true });

// ---- credentials: kubeconfig with inline CA and token; service-account dir too ----
const token = hex(24);
const caPem = Deno.readTextFileSync(`${CERTS}/ca.crt`);
const b64 = (s: string) => btoa(s);
Deno.mkdirSync("/etc/kube-soomkiller", { recursive: true });
write(
  "/etc/kube-soomkiller/kubeconfig",
  [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: vm",
    "  cluster:",
    `    server: https://127.0.0.1:${API_PORT}`,
    `    certificate-authority-data: ${b64(caPem)}`,
    "users:",
    "- name: kube-soomkiller",
    "  user:",
    `    token: ${token}`,
    "contexts:",
    "- name: vm",
    "  context:",
    "    cluster: vm",
    "    user: kube-soomkiller",
    "    namespace: kube-system",
    "current-context: vm",
    "",
  ].join("\n"),
);
const SA = "/var/run/secrets/kubernetes.io/serviceaccount";
Deno.mkdirSync(SA, { recursive: true });
write(`${SA}/token`, token);
write(`${SA}/ca.crt`, caPem);
write(`${SA}/namespace`, "kube-system");

const standin = new ApiStandin(token, NODE_NAME, now, (l) => {
  if (!l.startsWith("api GET")) say(l);
});
for (const p of pods) standin.add(p.sp);
standin.start(
  API_PORT,
  Deno.readTextFileSync(`${CERTS}/server.crt`),
  Deno.readTextFileSync(`${CERTS}/server.key`),
);

// ---- agent ----
/** How the agent (and `record`) run: the production environment, nothing inherited. */
const AGENT_PROCESS = {
  env: {
    NODE_NAME,
    DENO_DIR,
    HOME: "/tmp/home",
    NO_COLOR: "1",
    PATH: "/bin:/sbin",
    LD_LIBRARY_PATH: Deno.env.get("LD_LIBRARY_PATH") ?? "",
  },
  clearEnv: true,
  stdin: "null",
  stdout: "piped",
  stderr: "piped",
} as const;
const agentLog = await Deno.open(`${OUT}/agent.log`, { write: true, create: true, truncate: true });
const decisionLines: string[] = [];
let agentFirstLineAt: number | null = null;
let agent: Deno.ChildProcess | null = null;
let agentExit: { code: number; signal: string | null } | null = null;
const agentSpawnAt = performance.now();

async function pumpLines(stream: ReadableStream<Uint8Array>, tag: string) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      // Deno's own "Warning ..." lines are not the agent's sign of life.
      if (agentFirstLineAt === null && !line.startsWith("Warning")) {
        agentFirstLineAt = performance.now();
      }
      const stamped = `${(now() / 1000).toFixed(2)} ${tag} ${line}\n`;
      await agentLog.write(enc.encode(stamped));
      if (/delet|evict|terminat|would|error|warn|fatal|uncaught/i.test(line)) {
        if (decisionLines.length < 60) {
          decisionLines.push(`t=${(now() / 1000).toFixed(1)}s ${line}`);
        }
        say(`agent ${tag}: ${line.slice(0, 400)}`);
      }
    }
  }
}

if (scenario.agent) {
  const args = [
    "run",
    "-P=agent",
    // As `deno task start` and the compiled binary run it.
    "--v8-flags=--lite-mode",
    "--no-code-cache",
    ...AGENT_DENO_FLAGS,
    "--cached-only",
    "src/main.ts",
    ...AGENT_BASE_FLAGS,
    ...scenario.agentFlags,
  ];
  say(`starting agent: deno ${args.join(" ")}`);
  agent = new Deno.Command(DENO, {
    args,
    cwd: APP,
    ...AGENT_PROCESS,
  }).spawn();
  pumpLines(agent.stdout, "out");
  pumpLines(agent.stderr, "err");
  agent.status.then((s) => {
    agentExit = { code: s.code, signal: s.signal };
    say(`agent exited code=${s.code} signal=${s.signal}`);
  });
  // Ready = first log line or first API request; then let it take a baseline sample.
  const deadline = performance.now() + 150_000;
  while (
    performance.now() < deadline && agentExit === null &&
    agentFirstLineAt === null && standin.firstRequestAtMs === null
  ) {
    await sleep(200);
  }
  if (agentExit !== null) {
    errors.push(`Agent exited before the scenario: ${JSON.stringify(agentExit)}`);
  } else if (agentFirstLineAt === null && standin.firstRequestAtMs === null) {
    errors.push("Agent showed no sign of life in 150 s");
  }
  say(`agent ready after ${((performance.now() - agentSpawnAt) / 1000).toFixed(1)} s`);
  await sleep(3000);
  if (agentExit !== null && !errors.some((e) => e.startsWith("Agent exited"))) {
    errors.push(`Agent exited before the scenario: ${JSON.stringify(agentExit)}`);
  }
}
const agentReadyMs = agentFirstLineAt !== null ? Math.round(agentFirstLineAt - agentSpawnAt) : null;

// ---- workloads ----
// Read the binary once outside the pod cgroups: its page cache is charged to the root
// cgroup, so the pod's reclaim cannot evict the program text (livelock instead of OOM).
await Deno.readFile(WORKLOAD);
if (hasServers) say(`preloaded ${(preloadPrograms() / 2 ** 20).toFixed(1)} MiB of server programs`);

function startPod(p: LivePod) {
  p.startedAtMs = Math.round(now());
  p.sp.startedAt = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  if (p.spec.server) return startServer(p);
  p.child = new Deno.Command(WORKLOAD, {
    args: ["--cgroup", p.ctrDir, "--marker", p.marker, ...p.spec.workload],
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  say(`started ${p.spec.name} pid=${p.child.pid}: ${p.spec.workload.join(" ")}`);
  p.child.status.then((s) => {
    p.exit = { atMs: Math.round(now()), code: s.code, signal: s.signal };
    say(
      `${p.spec.name} exited code=${s.code} signal=${s.signal} marker=${
        (readText(p.marker) ?? "").trim()
      }`,
    );
  });
}

function watchExit(p: LivePod) {
  p.child!.status.then((s) => {
    p.exit = { atMs: Math.round(now()), code: s.code, signal: s.signal };
    say(`${p.spec.name} exited code=${s.code} signal=${s.signal}`);
  });
}

/** A real server as the container's init process; its benchmark starts once it is ready. */
function startServer(p: LivePod) {
  const kind = SERVER_KINDS[p.spec.server!.kind];
  const logPath = `${OUT}/${p.spec.name}-server.log`;
  const command = kind.command(p.spec.server!);
  p.child = spawnInRoot(command, p.ctrDir, logPath);
  p.sp.mainPid = p.child.pid;
  say(`started ${p.spec.name} pid=${p.child.pid}: ${command.join(" ")}`);
  watchExit(p);
  (async () => {
    if (!(await waitForLog(logPath, kind.ready, 120_000))) {
      errors.push(`${p.spec.name} did not become ready in 120 s`);
      return;
    }
    if (p.exit !== null) return;
    const argv = kind.bench(p.spec.server!, scenario!.maxSeconds);
    p.bench = spawnInRoot(argv, BENCH_CG, `${OUT}/${p.spec.name}-bench.log`);
    say(`${p.spec.name} ready at t=${(now() / 1000).toFixed(1)}s; benchmark: ${argv.join(" ")}`);
  })();
}

/**
 * After the scenario: start the server once more outside any limit and let its own log
 * say whether it had stopped cleanly; then stop it with its stop signal.
 */
async function restartCheck(p: LivePod): Promise<void> {
  const kind = SERVER_KINDS[p.spec.server!.kind];
  const firstLog = `${OUT}/${p.spec.name}-server.log`;
  const restartLog = `${OUT}/${p.spec.name}-restart.log`;
  const child = spawnInRoot(kind.command(p.spec.server!), RESTART_CG, restartLog);
  const ready = await waitForLog(restartLog, kind.ready, 180_000);
  try {
    child.kill(kind.stopSignal);
  } catch { /* exited */ }
  const stopped = await Promise.race([child.status, sleep(60_000).then(() => null)]);
  if (stopped === null) child.kill("SIGKILL");
  const first = readTextOrEmpty(firstLog);
  const restart = readTextOrEmpty(restartLog);
  p.serverVerdict = kind.verdict(first, restart) + (ready ? "" : "; restart not ready in 180 s");
  p.serverLines = [
    ...first.split("\n").filter((l) => kind.telling.test(l)).slice(-12).map((l) => `run: ${l}`),
    ...restart.split("\n").filter((l) => kind.telling.test(l)).slice(0, 12).map((l) =>
      `restart: ${l}`
    ),
  ];
  say(`${p.spec.name} restart check: ${p.serverVerdict}`);
}

function killCgroup(dir: string) {
  try {
    for (const l of Deno.readTextFileSync(`${dir}/cgroup.procs`).split("\n")) {
      if (l.trim()) Deno.kill(Number(l), "SIGKILL");
    }
  } catch { /* gone */ }
}

// ---- trace sampler ----
let trace: Deno.FsFile | null = null;
function sample() {
  const vm = kv(readText("/proc/vmstat"));
  const mi = kv(readText("/proc/meminfo"));
  const uptime = Number((readText("/proc/uptime") ?? "0").split(" ")[0]);
  const rec = {
    tMs: Math.round(now()),
    monoMs: Math.round(uptime * 1000),
    pswpin: vm.pswpin ?? null,
    pswpout: vm.pswpout ?? null,
    swapTotalKiB: mi.SwapTotal ?? null,
    swapFreeKiB: mi.SwapFree ?? null,
    nodePressure: psi(readText("/proc/pressure/memory")),
    pods: pods.map((p) => {
      const ps = psi(readText(`${p.podDir}/memory.pressure`));
      const stat = kv(readText(`${p.podDir}/memory.stat`));
      const ev = kv(readText(`${p.podDir}/memory.events`));
      const cstat = kv(readText(`${p.ctrDir}/memory.stat`));
      return {
        name: p.spec.name,
        uid: p.sp.uid,
        swapCurrent: num(readText(`${p.podDir}/memory.swap.current`)),
        memoryCurrent: num(readText(`${p.podDir}/memory.current`)),
        memoryMax: num(readText(`${p.podDir}/memory.max`)),
        someAvg10: ps.some?.avg10 ?? null,
        someTotalUs: ps.some?.total ?? null,
        fullAvg10: ps.full?.avg10 ?? null,
        fullTotalUs: ps.full?.total ?? null,
        oomKill: ev.oom_kill ?? null,
        memoryEvents: ev,
        ...("pswpin" in stat ? { pswpin: stat.pswpin, pswpout: stat.pswpout } : {}),
        containers: [{
          id: p.sp.containerId,
          swapCurrent: num(readText(`${p.ctrDir}/memory.swap.current`)),
          swapMax: num(readText(`${p.ctrDir}/memory.swap.max`)),
          memoryCurrent: num(readText(`${p.ctrDir}/memory.current`)),
          memoryMax: num(readText(`${p.ctrDir}/memory.max`)),
          ...("pswpin" in cstat ? { pswpin: cstat.pswpin, pswpout: cstat.pswpout } : {}),
        }],
      };
    }),
  };
  trace?.writeSync(enc.encode(JSON.stringify(rec) + "\n"));
}

// `kube-soomkiller record` itself, with pod names from the stand-in: the fixture traces.
let recorder: Deno.ChildProcess | null = null;
let recorderDone: Promise<unknown> = Promise.resolve();
if (scenario.record) {
  recorder = new Deno.Command(DENO, {
    args: [
      "run",
      "-P=agent",
      "--v8-flags=--lite-mode",
      "--no-code-cache",
      "--cached-only",
      "src/main.ts",
      "record",
      "--out=-",
      ...AGENT_BASE_FLAGS.filter((f) => !f.startsWith("--dry-run") && !f.startsWith("--log")),
    ],
    cwd: APP,
    ...AGENT_PROCESS,
  }).spawn();
  const file = await Deno.open(`${OUT}/record.jsonl`, {
    write: true,
    create: true,
    truncate: true,
  });
  recorderDone = Promise.all([
    recorder.stdout.pipeTo(file.writable),
    pumpLines(recorder.stderr, "record"),
    recorder.status,
  ]).catch((e) => errors.push(`record: ${e}`));
  await sleep(4000); // its start-up and first ticks, before the workload
}

t0 = performance.now();
say(`scenario start`);
if (tracing) {
  trace = Deno.openSync(`${OUT}/trace.jsonl`, { write: true, create: true, truncate: true });
  sample();
}
const traceTimer = tracing ? setInterval(sample, 1000) : null;
const started = new Set<LivePod>();
const pressurePods = pods.filter((p) => p.spec.role === "pressure");
const agentDead = scenario.agent && agentExit !== null;
if (agentDead) say("agent is not running: the workloads are not started");
for (; !agentDead;) {
  for (const p of pods) {
    if (!started.has(p) && now() >= p.spec.startDelaySeconds * 1000) {
      started.add(p);
      startPod(p);
    }
  }
  const allDone = pressurePods.every((p) => p.exit !== null);
  if (allDone || now() > scenario.maxSeconds * 1000) break;
  await sleep(250);
}
say(pressurePods.every((p) => p.exit !== null) ? "pressure pods exited" : "time limit reached");
await sleep(2500); // one more PSI update, a late decision would show
if (traceTimer !== null) clearInterval(traceTimer);
if (tracing) sample();

// ---- teardown ----
if (agent && agentExit === null) {
  try {
    agent.kill("SIGTERM");
  } catch { /* gone */ }
  for (let i = 0; i < 30 && agentExit === null; i++) await sleep(100);
  if (agentExit === null) {
    try {
      agent.kill("SIGKILL");
    } catch { /* gone */ }
  }
}
for (const p of pods) {
  if (p.child && p.exit === null) {
    p.teardown = true;
    for (const pid of standin.pids(p.sp)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* gone */ }
    }
  }
}
for (let i = 0; i < 40 && pods.some((p) => p.child && p.exit === null); i++) await sleep(100);
try {
  recorder?.kill("SIGTERM");
} catch { /* exited */ }
if (hasServers) {
  killCgroup(BENCH_CG);
  for (const p of pods) {
    if (p.spec.server && p.exit !== null && !p.teardown) await restartCheck(p);
  }
}
await recorderDone;

const results: PodResult[] = pods.map((p) => {
  const ev = kv(readText(`${p.podDir}/memory.events`));
  return {
    name: p.spec.name,
    uid: p.sp.uid,
    role: p.spec.role,
    podCgroup: p.podDir,
    containerCgroup: p.ctrDir,
    limitBytes: p.limitBytes,
    swapMaxBytes: p.swapMaxBytes,
    startedAtMs: p.startedAtMs,
    deleteRequests: p.sp.deleteRequests,
    sigtermAtMs: p.sp.sigtermAtMs,
    sigkillAtMs: p.sp.sigkillAtMs,
    exit: p.exit,
    marker: p.serverVerdict ?? (readText(p.marker) ?? "").trim(),
    ...(p.serverLines ? { serverLines: p.serverLines } : {}),
    oomKill: ev.oom_kill ?? 0,
    oomGroupKill: ev.oom_group_kill ?? 0,
    teardown: p.teardown,
  };
});
const result: GuestResult = {
  scenario: scenario.name,
  kernelRelease,
  agent: scenario.agent,
  memTotalBytes,
  swapTotalBytes,
  agentReadyMs,
  agentExit,
  agentDecisionLines: decisionLines,
  events: standin.events,
  requests: standin.requests.slice(0, 400),
  pods: results,
  durationMs: Math.round(now()),
  errors: [...errors, ...standin.problems],
};
Deno.writeTextFileSync(`${OUT}/result.json`, JSON.stringify(result, null, 2));
trace?.close();
agentLog.close();
console.log(`@@RESULT@@ ${JSON.stringify({ ...result, requests: result.requests.length })}`);
await standin.stop();
Deno.exit(0);

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}
