/**
 * `deno task bench:ab`: where the agent's RSS goes, one import or feature at a time.
 *
 * Every round starts all probes at once (so load and timing are shared) and samples
 * `/proc/<pid>/status` after `--settle` seconds; the table shows the median over
 * `--rounds` rounds. Two kinds of probe:
 *
 * - **On the floor**: the bench's floor (Deno that only sleeps, `deno run -A -`) plus one
 *   thing: LogTape configured with one record, `node:util`'s parseArgs, the `yaml` package
 *   parsing a line, `Deno.serve` on a free port, one HTTPS GET through
 *   `Deno.createHttpClient({ caCerts })` (the TLS client), and TLS with `Deno.serve`
 *   (what the agent cannot do without). The delta is what that thing costs by itself.
 * - **The agent**: `src/main.ts` as the bench runs it (production deno run flags, 250 pods, own
 *   API stand-in), in-cluster and `--kubeconfig`, without the metrics endpoint, and, with
 *   `--ref=<git revision>`, the same two modes of that revision (before/after).
 *
 * Besides RSS, anon and file-backed (`/proc/<pid>/status`), two parts of the file-backed
 * pages from `/proc/<pid>/smaps`: the deno binary's code (Rust and V8, touched by what the
 * process uses) and Deno's SQLite caches under DENO_DIR (mapped by the code cache and
 * the module analysis caches).
 *
 * `--heap` adds a heap snapshot of the idle agent (kubeconfig mode, through `--inspect`
 * on 127.0.0.1): the V8 heap's totals and its largest groups by constructor (self size).
 *
 * Flags: `--rounds=N` [5], `--settle=S` [20], `--ref=REV`, `--heap`, `--heap-only`, `--json=FILE`,
 * `--main=FILE` (one more kubeconfig agent from another entry point, e.g. a bundle),
 * `--variant="DENO RUN FLAGS"` (repeatable: both modes once more with these flags instead of
 * the production flags, e.g. `--variant="--v8-flags=--lite-mode"`).
 */
import { startApiStandin } from "../fakes/api_standin.ts";
import {
  type ConnectionMode,
  FLOOR_SCRIPT,
  inClusterUnavailable,
  type LiveAgent,
  metricsFlagFor,
  productionRunFlags,
  readProcSample,
  sleep,
  spawnAgent,
  started,
  tlsFloorScript,
  TOKEN,
} from "./footprint.ts";
import { buildSyntheticNode, type SyntheticNode } from "./synthetic_node.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const MAIN = `${ROOT}src/main.ts`;

/** One probe: a script on the floor, or an agent variant. */
type Probe =
  | {
    readonly kind: "script";
    readonly label: string;
    readonly script: (ctx: Context) => string;
    /** Run with the agent's `deno run` flags (the floor and the others: none). */
    readonly agentFlags?: boolean;
  }
  | {
    readonly kind: "agent";
    readonly label: string;
    readonly mode: ConnectionMode;
    /** A checkout of another revision; null: this worktree. */
    readonly checkout: string | null;
    /** Another entry point (e.g. a bundle), relative to the checkout or this worktree. */
    readonly main?: string;
    /** `deno run` flags instead of the production ones. */
    readonly denoFlags?: readonly string[];
    readonly agentFlags?: readonly string[];
  };

interface Context {
  readonly tlsUrl: string;
  readonly caPem: string;
  /** The same over plain HTTP. */
  readonly httpUrl: string;
}

/** The same figure over the rounds. */
interface Figures {
  rssKiB: number[];
  anonKiB: number[];
  fileKiB: number[];
  /** Of the file-backed: the deno binary's executable pages (its code, V8's included). */
  codeKiB: number[];
  /** Of the file-backed: Deno's SQLite caches under DENO_DIR (code cache, dep analysis …). */
  cacheKiB: number[];
}

/** What src/main.ts loads before it runs (relative to the worktree, the probes' cwd). */
const IMPORT_AGENT = [
  "./src/agent.ts",
  "./src/cli.ts",
  "./src/cli_flags.ts",
  "./src/act/kube_client.ts",
  "./src/act/in_cluster.ts",
  "./src/observe/observability.ts",
  "./src/sense/host_check.ts",
  "./src/sense/node_sensor.ts",
].map((path) => `await import(${JSON.stringify(path)});`).join("\n");

const SCRIPTS: Probe[] = [
  { kind: "script", label: "floor: Deno that sleeps", script: () => FLOOR_SCRIPT },
  {
    kind: "script",
    label: "+ LogTape (configure, one record)",
    script: () =>
      `const { configure, getLogger } = await import("npm:@logtape/logtape@2.4.2");\n` +
      `await configure({ sinks: { s: () => {} }, loggers: [{ category: ["x"], sinks: ["s"] },` +
      ` { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["s"] }] });\n` +
      `getLogger(["x"]).info("hi {a}", { a: 1 });\n${FLOOR_SCRIPT}`,
  },
  {
    kind: "script",
    label: "+ node:util parseArgs",
    script: () =>
      `const { parseArgs } = await import("node:util");\n` +
      `parseArgs({ args: ["--a=1"], options: { a: { type: "string" } } });\n${FLOOR_SCRIPT}`,
  },
  {
    kind: "script",
    label: "+ yaml package (parse one document)",
    script: () =>
      `const { parse } = await import("npm:yaml@2.9.1");\n` +
      `parse("a: 1\\nb: [x, y]\\n");\n${FLOOR_SCRIPT}`,
  },
  {
    kind: "script",
    label: "+ Deno.serve (metrics endpoint)",
    script: () =>
      `Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => new Response("x"));\n` +
      FLOOR_SCRIPT,
  },
  {
    kind: "script",
    label: "+ TLS client (one HTTPS GET, custom CA)",
    script: (ctx) => tlsFloorScript(ctx.tlsUrl, ctx.caPem),
  },
  {
    kind: "script",
    label: "+ TLS client + Deno.serve",
    script: (ctx) =>
      `Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => new Response("x"));\n` +
      tlsFloorScript(ctx.tlsUrl, ctx.caPem),
  },
  {
    kind: "script",
    label: "+ fetch over plain HTTP (no TLS)",
    script: (ctx) =>
      `await (await fetch(${JSON.stringify(ctx.httpUrl)})).arrayBuffer();\n${FLOOR_SCRIPT}`,
  },
  {
    kind: "script",
    label: "+ TLS by hand: Deno.connectTls, one GET, no fetch",
    script: (ctx) => connectTlsScript(ctx) + FLOOR_SCRIPT,
  },
  {
    kind: "script",
    label: "+ the tick's synchronous reads (3 files and a directory a second)",
    script: () => SYNC_READS,
  },
  {
    kind: "script",
    label: "+ the agent's modules, imported and not run",
    script: () => `${IMPORT_AGENT}\n${FLOOR_SCRIPT}`,
  },
  {
    kind: "script",
    label: "+ TLS client + Deno.serve + the agent's modules (not run)",
    script: (ctx) =>
      `${IMPORT_AGENT}\n` +
      `Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => new Response("x"));\n` +
      tlsFloorScript(ctx.tlsUrl, ctx.caPem),
  },
  {
    kind: "script",
    label: "+ all the agent needs, not run (TLS, Deno.listen, modules, reads), agent flags",
    agentFlags: true,
    script: (ctx) =>
      `${IMPORT_AGENT}\n` +
      `const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });\n` +
      `(async () => { for await (const c of l) c.close(); })();\n` +
      tlsFloorScript(ctx.tlsUrl, ctx.caPem).replace(FLOOR_SCRIPT, "") + SYNC_READS,
  },
];

/** The tick's file reads (host_fs.ts: lstat, then a synchronous read), once a second. */
const SYNC_READS = `setInterval(() => { for (const f of ["/proc/meminfo", "/proc/vmstat", ` +
  `"/proc/pressure/memory"]) { try { Deno.lstatSync(f); Deno.readTextFileSync(f); } catch {} } ` +
  `for (const _ of Deno.readDirSync("/proc/self")) {} }, 1000);`;

/** One GET over `Deno.connectTls` with the stand-in's CA, HTTP/1.1 by hand. */
function connectTlsScript(ctx: Context): string {
  const url = new URL(ctx.tlsUrl);
  return `const c = await Deno.connectTls({ hostname: ${JSON.stringify(url.hostname)}, ` +
    `port: ${url.port}, caCerts: [${JSON.stringify(ctx.caPem)}] });\n` +
    `await c.write(new TextEncoder().encode("GET ${url.pathname} HTTP/1.1\\r\\nHost: x\\r\\n` +
    `Connection: close\\r\\n\\r\\n"));\n` +
    `const b = new Uint8Array(65536); while ((await c.read(b)) !== null) {}\n`;
}

function agentProbes(
  ref: string | null,
  checkout: string | null,
  extra: string | null,
  variants: readonly string[],
): Probe[] {
  const probes: Probe[] = [
    { kind: "agent", label: "agent, in-cluster", mode: "in-cluster", checkout: null },
    { kind: "agent", label: "agent, --kubeconfig", mode: "kubeconfig", checkout: null },
    {
      kind: "agent",
      label: "agent, --kubeconfig, --metrics-addr= (no Deno.serve)",
      mode: "kubeconfig",
      checkout: null,
      agentFlags: ["--metrics-addr="],
    },
  ];
  for (const variant of variants) {
    const flags = variant.split(" ").filter((f) => f !== "");
    for (const mode of ["in-cluster", "kubeconfig"] as const) {
      probes.push({
        kind: "agent",
        label: `agent, ${mode}, deno run ${flags.join(" ")}`,
        mode,
        checkout: null,
        denoFlags: flags,
      });
    }
  }
  if (extra !== null) {
    probes.push({
      kind: "agent",
      label: `agent from ${extra}, --kubeconfig`,
      mode: "kubeconfig",
      checkout: null,
      main: extra,
    });
  }
  if (ref !== null && checkout !== null) {
    probes.push(
      { kind: "agent", label: `agent at ${ref}, in-cluster`, mode: "in-cluster", checkout },
      { kind: "agent", label: `agent at ${ref}, --kubeconfig`, mode: "kubeconfig", checkout },
    );
  }
  return probes;
}

/** `git archive` of `ref` into a temp directory (its own deno.json and lock). */
async function exportRevision(ref: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "soomkiller-ab-" });
  const archive = await new Deno.Command("sh", {
    args: ["-c", `git -C "$0" archive "$1" | tar -x -C "$2"`, ROOT, ref, dir],
  }).output();
  if (!archive.success) throw new Error(`Cannot export ${ref}: git archive failed`);
  return dir;
}

/** `deno run -A --no-lock -` with `script` on stdin (no lockfile entries for the probes). */
async function spawnProbeScript(
  script: string,
  flags: readonly string[] = [],
): Promise<Deno.ChildProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-lock", ...flags, "-"],
    stdin: "piped",
    stdout: "null",
    stderr: "null",
    cwd: ROOT,
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script + "\n"));
  await writer.close();
  return child;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.floor(sorted.length / 2)]!;
}

function kill(child: Deno.ChildProcess): Promise<unknown> {
  try {
    child.kill("SIGKILL");
  } catch {
    // Already gone.
  }
  return child.status;
}

/** One round: every probe at once, sampled after `settle` seconds; figures in KiB. */
async function round(
  probes: readonly Probe[],
  node: SyntheticNode,
  ctx: Context,
  settle: number,
  denoFlags: readonly string[],
): Promise<(Figures | null)[]> {
  const children: (Deno.ChildProcess | null)[] = [];
  const agents: (LiveAgent | null)[] = [];
  const apis: { close(): Promise<void> }[] = [];
  try {
    for (const probe of probes) {
      if (probe.kind === "script") {
        children.push(
          await spawnProbeScript(probe.script(ctx), probe.agentFlags ? denoFlags : []),
        );
        agents.push(null);
        continue;
      }
      const api = await startApiStandin({ tls: true, token: TOKEN, pods: [...node.apiPods] });
      apis.push(api);
      const main = `${probe.checkout ?? ROOT.replace(/\/$/, "")}/${probe.main ?? "src/main.ts"}`;
      const options = {
        denoFlags: probe.denoFlags ?? denoFlags,
        agentFlags: probe.agentFlags ?? [],
        ...(probe.checkout === null ? {} : { cwd: probe.checkout }),
      };
      const agent = await spawnAgent({
        mode: probe.mode,
        api,
        node,
        main,
        metricsFlag: await metricsFlagFor(main, options),
        options,
      });
      agents.push(agent);
      children.push(agent.child);
    }
    await Promise.all(agents.map((agent) => agent === null ? null : started(agent)));
    await sleep(settle * 1000);
    return children.map((child) => {
      if (child === null) return null;
      const sample = readProcSample(child.pid, 100, 0);
      const split = smapsSplit(child.pid);
      return {
        rssKiB: [sample.rssKiB],
        anonKiB: [sample.rssAnonKiB],
        fileKiB: [sample.rssFileKiB],
        codeKiB: [split.codeKiB],
        cacheKiB: [split.cacheKiB],
      };
    });
  } finally {
    await Promise.all(children.map((child) => child === null ? null : kill(child)));
    for (const agent of agents) {
      if (agent === null) continue;
      await agent.stdout.done;
      await agent.stderrText;
    }
    for (const api of apis) await api.close();
  }
}

/**
 * From `/proc/<pid>/smaps`: the resident KiB of the deno binary's executable mappings and of
 * Deno's cache databases (files named `*_cache_v<N>`, e.g. `v8_code_cache_v2`).
 */
export function smapsSplit(pid: number): { codeKiB: number; cacheKiB: number } {
  let codeKiB = 0;
  let cacheKiB = 0;
  let kind: "code" | "cache" | null = null;
  const deno = Deno.execPath();
  for (const line of Deno.readTextFileSync(`/proc/${pid}/smaps`).split("\n")) {
    const mapping = line.match(/^[0-9a-f]+-[0-9a-f]+ (\S+) \S+ \S+ \S+\s*(.*)$/);
    if (mapping !== null) {
      const [, perms, path] = mapping as unknown as [string, string, string];
      kind = path === deno && perms.includes("x")
        ? "code"
        : /_cache_v\d+(-shm|-wal)?$/.test(path)
        ? "cache"
        : null;
      continue;
    }
    const rss = line.match(/^Rss:\s+(\d+) kB/);
    if (rss === null || kind === null) continue;
    if (kind === "code") codeKiB += Number(rss[1]);
    else cacheKiB += Number(rss[1]);
  }
  return { codeKiB, cacheKiB };
}

/** Memory use and a heap snapshot (after a full GC) of the process on inspector `port`. */
async function inspectHeap(
  port: number,
): Promise<{ memory: Record<string, number>; snapshot: Snapshot }> {
  let targets: { webSocketDebuggerUrl: string }[] = [];
  for (let i = 0; i < 50 && targets.length === 0; i++) {
    try {
      targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
    } catch {
      await sleep(100);
    }
  }
  const socket = new WebSocket(targets[0]!.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  let id = 0;
  const pending = new Map<number, (result: unknown) => void>();
  let chunks = "";
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.method === "HeapProfiler.addHeapSnapshotChunk") chunks += message.params.chunk;
    else if (message.id !== undefined) pending.get(message.id)?.(message.result);
  };
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve) => {
      pending.set(++id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
  await call("Runtime.enable");
  await call("HeapProfiler.enable");
  await call("HeapProfiler.collectGarbage");
  const usage = await call("Runtime.evaluate", {
    expression: "JSON.stringify(Deno.memoryUsage())",
    returnByValue: true,
  }) as { result: { value: string } };
  await call("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
  socket.close();
  return { memory: JSON.parse(usage.result.value), snapshot: JSON.parse(chunks) };
}

/** Heap snapshots of the idle agent (kubeconfig mode) and of the floor, side by side. */
async function heapSnapshot(
  node: SyntheticNode,
  settle: number,
  denoFlags: readonly string[],
): Promise<string[]> {
  const api = await startApiStandin({ tls: true, token: TOKEN, pods: [...node.apiPods] });
  const port = 9300 + Math.floor(Math.random() * 500);
  const options = { denoFlags: [...denoFlags, `--inspect=127.0.0.1:${port}`] };
  const agent = await spawnAgent({
    mode: "kubeconfig",
    api,
    node,
    main: MAIN,
    metricsFlag: await metricsFlagFor(MAIN, options),
    options,
  });
  const floor = await spawnProbeScript(FLOOR_SCRIPT, [
    ...denoFlags,
    `--inspect=127.0.0.1:${port + 1}`,
  ]);
  try {
    await started(agent);
    await sleep(settle * 1000);
    const a = await inspectHeap(port);
    const f = await inspectHeap(port + 1);
    const usage = (m: Record<string, number>) =>
      ["heapTotal", "heapUsed", "external"].map((k) =>
        `${k} ${(m[k]! / 1024 / 1024).toFixed(1)} MiB`
      )
        .join(", ");
    return [
      `Deno.memoryUsage() after a full GC (both with ${denoFlags.join(" ") || "no flags"}): ` +
      `idle agent ${usage(a.memory)}; floor ${usage(f.memory)}`,
      "",
      ...summarizeSnapshots(a.snapshot, f.snapshot),
    ];
  } finally {
    await kill(agent.child);
    await kill(floor);
    await agent.stdout.done;
    await agent.stderrText;
    await api.close();
  }
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

/** Self size by (type, constructor name) of one snapshot. */
function groupsOf(
  snapshot: Snapshot,
): { total: number; objects: number; groups: Map<string, { count: number; bytes: number }> } {
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const groups = new Map<string, { count: number; bytes: number }>();
  let total = 0;
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    const type = types[snapshot.nodes[i + typeAt]!]!;
    const size = snapshot.nodes[i + sizeAt]!;
    total += size;
    const name = type === "object" || type === "closure" || type === "native"
      ? snapshot.strings[snapshot.nodes[i + nameAt]!]!.slice(0, 50)
      : "";
    const key = `${type}${name === "" ? "" : ` ${name}`}`;
    const group = groups.get(key) ?? { count: 0, bytes: 0 };
    group.count++;
    group.bytes += size;
    groups.set(key, group);
  }
  return { total, objects: snapshot.nodes.length / width, groups };
}

/** The groups where the agent's heap is larger than the floor's, largest difference first. */
function summarizeSnapshots(agent: Snapshot, floor: Snapshot): string[] {
  const a = groupsOf(agent);
  const f = groupsOf(floor);
  const kib = (bytes: number) => (bytes / 1024).toFixed(0);
  const rows = [...a.groups.entries()].map(([key, g]) => {
    const base = f.groups.get(key) ?? { count: 0, bytes: 0 };
    return { key, g, base, delta: g.bytes - base.bytes };
  }).sort((x, y) => y.delta - x.delta).slice(0, 12);
  const strings = stringsByShape(agent);
  return [
    `heap snapshots: idle agent ${(a.total / 1024 / 1024).toFixed(2)} MiB in ` +
    `${a.objects.toLocaleString("en")} objects, floor ${
      (f.total / 1024 / 1024).toFixed(2)
    } MiB in ` +
    `${f.objects.toLocaleString("en")}; the groups (type and constructor, self size) the agent ` +
    `adds most to:`,
    "",
    "| group | agent objects | agent KiB | floor KiB | Δ KiB |",
    "| --- | ---: | ---: | ---: | ---: |",
    ...rows.map(({ key, g, base, delta }) =>
      `| ${key.replaceAll("|", "\\|")} | ${g.count} | ${kib(g.bytes)} | ${kib(base.bytes)} | +${
        kib(delta)
      } |`
    ),
    "",
    "the agent's strings by what they look like (self size):",
    "",
    "| strings | count | KiB |",
    "| --- | ---: | ---: |",
    ...strings.map(([key, g]) => `| ${key} | ${g.count} | ${kib(g.bytes)} |`),
  ];
}

/** The agent's string nodes grouped by shape: paths, source text, short words … */
function stringsByShape(snapshot: Snapshot): [string, { count: number; bytes: number }][] {
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const groups = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    if (types[snapshot.nodes[i + typeAt]!] !== "string") continue;
    const text = snapshot.strings[snapshot.nodes[i + nameAt]!]!;
    const size = snapshot.nodes[i + sizeAt]!;
    const key = size >= 16_384
      ? `large (≥ 16 KiB): ${JSON.stringify(text.slice(0, 40))}…`
      : text.startsWith("/")
      ? "paths (start with /)"
      : /^[0-9a-f-]{32,}$/.test(text)
      ? "UIDs and hex ids"
      : size >= 1024
      ? "1–16 KiB (source text and the like)"
      : "other, < 1 KiB";
    const group = groups.get(key) ?? { count: 0, bytes: 0 };
    group.count++;
    group.bytes += size;
    groups.set(key, group);
  }
  return [...groups.entries()].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 10);
}

async function main(args: readonly string[]): Promise<number> {
  const flag = (name: string) =>
    args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const rounds = Number(flag("rounds") ?? 5);
  const settle = Number(flag("settle") ?? 20);
  const ref = flag("ref") ?? null;
  const extraMain = flag("main") ?? null;
  const variants = args.filter((a) => a.startsWith("--variant=")).map((a) =>
    a.slice("--variant=".length)
  );
  const jsonPath = flag("json") ?? null;
  const denoFlags = await productionRunFlags();
  const unavailable = await inClusterUnavailable();
  const checkout = ref === null ? null : await exportRevision(ref);
  const node = await buildSyntheticNode({ pods: 250, tempDir: Deno.env.get("TMPDIR") ?? "/tmp" });
  const tls = await startApiStandin({ tls: true });
  const http = await startApiStandin({ tls: false });
  try {
    const ctx = {
      tlsUrl: `${tls.url}/api/v1/pods`,
      caPem: tls.caPem!,
      httpUrl: `${http.url}/api/v1/pods`,
    };
    const probes = [...SCRIPTS, ...agentProbes(ref, checkout, extraMain, variants)].filter((p) =>
      p.kind === "script" || p.mode === "kubeconfig" || unavailable === null
    );
    const figures: Figures[] = probes.map(() => ({
      rssKiB: [],
      anonKiB: [],
      fileKiB: [],
      codeKiB: [],
      cacheKiB: [],
    }));
    const heapOnly = args.includes("--heap-only");
    for (let r = 1; r <= (heapOnly ? 0 : rounds); r++) {
      console.error(`ab: round ${r} of ${rounds} (${probes.length} probes, ${settle} s) …`);
      const samples = await round(probes, node, ctx, settle, denoFlags);
      samples.forEach((sample, i) => {
        if (sample === null) return;
        figures[i]!.rssKiB.push(...sample.rssKiB);
        figures[i]!.anonKiB.push(...sample.anonKiB);
        figures[i]!.fileKiB.push(...sample.fileKiB);
        figures[i]!.codeKiB.push(...sample.codeKiB);
        figures[i]!.cacheKiB.push(...sample.cacheKiB);
      });
    }
    const floor = median(figures[0]!.rssKiB);
    const mib = (kib: number) => (kib / 1024).toFixed(1);
    const lines = heapOnly ? [] : [
      `A/B: median of ${rounds} rounds, sampled ${settle} s after start (agents: after their ` +
      `start line); Deno ${Deno.version.deno}; agents with ${denoFlags.join(" ") || "no flags"}` +
      (unavailable === null ? "" : `; in-cluster skipped: ${unavailable}`),
      "",
      "| probe | RSS MiB | Δ vs floor MiB | × floor | anon MiB | file MiB | of which deno code " +
      "MiB | of which DENO_DIR caches MiB | RSS min–max MiB |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
      ...probes.map((probe, i) => {
        const f = figures[i]!;
        const rss = median(f.rssKiB);
        return `| ${probe.label} | ${mib(rss)} | ${
          i === 0 ? "" : `${rss >= floor ? "+" : ""}${mib(rss - floor)}`
        } | ${(rss / floor).toFixed(2)}× | ${mib(median(f.anonKiB))} | ${
          mib(median(f.fileKiB))
        } | ${mib(median(f.codeKiB))} | ${mib(median(f.cacheKiB))} | ${
          mib(Math.min(...f.rssKiB))
        }–${mib(Math.max(...f.rssKiB))} |`;
      }),
    ];
    if (heapOnly || args.includes("--heap")) {
      console.error("ab: heap snapshot of the idle agent …");
      lines.push("", ...(await heapSnapshot(node, settle, denoFlags)));
    }
    console.log(lines.join("\n"));
    if (jsonPath !== null) {
      await Deno.writeTextFile(
        jsonPath,
        JSON.stringify({ rounds, settle, ref, probes: probes.map((p) => p.label), figures }) + "\n",
      );
    }
    return 0;
  } finally {
    await tls.close();
    await http.close();
    await node.dispose();
    if (checkout !== null) await Deno.remove(checkout, { recursive: true });
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
