// `deno task e2e [--kernel 6.1|6.12|7.3|all] [--scenario name[,name]] [--smoke] [--trace]`
//
// Proves the agent on real kernels: boots Debian kernels in qemu (TCG), runs each
// scenario of scenarios.ts in its own VM (a kubelet-shaped node with an API stand-in,
// the agent under its production permission set, and a workload), and prints a
// scorecard. Needs root and qemu; installs missing Debian packages with apt-get.
// Caches kernels and images under .cache/vm/. Exit 1 when a scenario that should
// pass fails.

import { fetchKernel, KERNELS } from "./kernels.ts";
import { buildDisk, buildInitramfs } from "./image.ts";
import { type GuestResult, type Scenario, SCENARIOS } from "./scenarios.ts";
import { boot, type BootOutcome } from "./vm.ts";
import { exists, log, sh, which } from "./util.ts";
import { buildServersDisk } from "./servers.ts";
import { formatSideBySide, loadCorpus, sideBySide } from "../replay/policies.ts";

const REPO = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const CACHE = `${REPO}/.cache/vm`;
const TRACES = `${REPO}/tests/vm/traces`;

// ---- flags ----
function flag(name: string): string | null {
  const i = Deno.args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return null;
  const a = Deno.args[i]!;
  if (a.includes("=")) return a.slice(a.indexOf("=") + 1);
  const v = Deno.args[i + 1];
  return v && !v.startsWith("--") ? v : "";
}
if (flag("help") !== null) {
  console.log(
    `Usage: deno task e2e [--kernel 6.1|6.12|7.3|all] [--scenario NAME[,NAME]] [--smoke] [--trace] [--save-traces]
  --kernel    kernels to boot (default: all)
  --scenario  scenarios to run (default: ${
      SCENARIOS.filter((s) => s.byDefault).map((s) => s.name).join(",")
    };
              also: ${SCENARIOS.filter((s) => !s.byDefault).map((s) => s.name).join(",")}, or "all")
  --smoke     one kernel (6.12), thrash only (for CI)
  --trace     record the per-second trace for every scenario run
  --save-traces  copy traces to tests/vm/traces/<kernel>-<scenario>.jsonl (default: .cache/vm/traces/)
Env: E2E_REPORT=<file> (default .cache/vm/report.json), E2E_VERBOSE=1 (echo guest console)`,
  );
  Deno.exit(0);
}
const smoke = flag("smoke") !== null;
const kernelArg = flag("kernel") || (smoke ? "6.12" : "all");
const scenarioArg = flag("scenario") || (smoke ? "thrash" : "");
const traceAll = flag("trace") !== null;
const saveTraces = flag("save-traces") !== null;
/** Diagnostic only: extra deno flags for the agent, e.g. "--allow-env=LOG_TOKENS". */
const agentDenoFlags = (Deno.env.get("E2E_AGENT_DENO_FLAGS") ?? "").trim().split(/\s+/).join("+");

const kernels = kernelArg === "all"
  ? KERNELS
  : KERNELS.filter((k) => kernelArg.split(",").includes(k.label));
if (kernels.length === 0) {
  console.error(`Unknown kernel "${kernelArg}": use 6.1, 6.12, 7.3 or all`);
  Deno.exit(2);
}
let scenarios: Scenario[];
if (scenarioArg === "all") scenarios = [...SCENARIOS];
else if (scenarioArg) {
  scenarios = [];
  for (const n of scenarioArg.split(",")) {
    const s = SCENARIOS.find((x) => x.name === n);
    if (!s) {
      console.error(`Unknown scenario "${n}": use ${SCENARIOS.map((x) => x.name).join(", ")}`);
      Deno.exit(2);
    }
    scenarios.push(s);
  }
} else scenarios = SCENARIOS.filter((s) => s.byDefault);

// ---- host prerequisites ----
if (Deno.uid() !== 0) {
  console.error("The VM suite needs root (apt-get, qemu)");
  Deno.exit(2);
}
async function ensurePackages() {
  const need: string[] = [];
  if (!which("qemu-system-x86_64")) need.push("qemu-system-x86");
  const bb = await sh("dpkg-query", ["-W", "-f=${Status}", "busybox-static"]).catch(() => "");
  if (!bb.includes("install ok installed")) need.push("busybox-static");
  if (!which("cpio")) need.push("cpio");
  if (!which("mke2fs")) need.push("e2fsprogs");
  if (!which("xz")) need.push("xz-utils");
  if (!which("zstd")) need.push("zstd");
  if (!which("gcc")) need.push("gcc", "libc6-dev");
  if (!which("openssl")) need.push("openssl");
  // The real servers' guest root (servers.ts).
  if (!(await exists("/usr/sbin/debootstrap"))) need.push("debootstrap");
  if (need.length === 0) return;
  log(`apt-get install ${need.join(" ")}`);
  await sh("apt-get", ["-q", "update"]);
  await sh("apt-get", ["install", "-y", "-q", "--no-install-recommends", ...need], {
    env: { ...Deno.env.toObject(), DEBIAN_FRONTEND: "noninteractive" },
  });
}

// ---- evaluation ----
type Verdict = "PASS" | "FAIL" | "XFAIL" | "XPASS" | "ERROR" | "NOT RUN";

interface Row {
  kernel: string;
  kernelRelease: string;
  scenario: string;
  expect: Scenario["expect"];
  expected: string;
  observed: string;
  /** Seconds from pressure onset (workload start) to SIGTERM. */
  onsetToSigtermSeconds: number | null;
  /** Seconds from workload start to the kernel's OOM kill (agent off or too late). */
  onsetToKernelKillSeconds: number | null;
  shutdownCompleted: boolean | null;
  oomKills: number | null;
  wrongVictims: number | null;
  falseKills: number | null;
  verdict: Verdict;
  expectedToFail: boolean;
  attempts: number;
  wallSeconds: number;
  notes: string[];
  /** Console log, result.json, agent.log, trace.jsonl, dmesg.txt of the boot. */
  runDir: string;
  /** Trigger named in the agent's delete log line (e.g. "headroom/time-left"). */
  agentTrigger: string | null;
  /** The agent's log lines about decisions and errors. */
  agentDecisionLines: readonly string[];
  /** Peak `memory.swap.current` of the pressure pod's container and its limit, MiB (trace). */
  swapPeak: { peakMiB: number; limitMiB: number; endMiB: number } | null;
}

/** The pressure pod's container swap over the sampler's trace: peak, limit, last, MiB. */
async function swapPeakOf(tracePath: string, podName: string): Promise<Row["swapPeak"]> {
  let peak = 0;
  let end = 0;
  let limit = 0;
  for (const line of (await Deno.readTextFile(tracePath)).split("\n")) {
    if (!line.trim()) continue;
    const rec = JSON.parse(line);
    const c = rec.pods?.find((p: { name: string }) => p.name === podName)?.containers?.[0];
    if (!c || typeof c.swapCurrent !== "number") continue;
    peak = Math.max(peak, c.swapCurrent);
    end = c.swapCurrent;
    if (typeof c.swapMax === "number") limit = c.swapMax;
  }
  const mib = (b: number) => Math.round(b / 2 ** 20);
  return { peakMiB: mib(peak), limitMiB: mib(limit), endMiB: mib(end) };
}

const EXPECTED_TEXT: Record<Scenario["expect"], string> = {
  "graceful-termination": "pressure pod SIGTERM, clean exit, no oom_kill",
  "nobody-deleted": "nobody deleted, no oom_kill",
  "kernel-oom-kill": "kernel OOM-kills the pod",
  "not-oom-killed":
    "no oom_kill; never deleted by the headroom trigger; if the seed's swap-io rule deletes it, a clean shutdown",
  "trace-only": "runs (trace recorded)",
};

function evaluate(s: Scenario, r: GuestResult, row: Row) {
  row.kernelRelease = r.kernelRelease;
  const pressure = r.pods.find((p) => p.role === "pressure");
  const ok2xx = (p: GuestResult["pods"][number]) =>
    p.deleteRequests.some((d) => d.status >= 200 && d.status < 300);
  const bystandersDeleted = r.pods.filter((p) => p.role === "bystander" && ok2xx(p)).length;
  const anyDeleted = r.pods.filter(ok2xx).length;
  row.oomKills = r.pods.reduce((a, p) => a + p.oomKill, 0);
  row.wrongVictims = bystandersDeleted;
  row.falseKills = s.expect === "nobody-deleted" ? anyDeleted : 0;
  row.notes.push(...r.errors);
  for (const p of r.pods) {
    for (const d of p.deleteRequests) {
      if (d.preconditionUid === null) {
        row.notes.push(`${d.via} of ${p.name} without preconditions.uid`);
      }
      if (d.gracePeriodSeconds !== null) {
        row.notes.push(
          `${d.via} of ${p.name} overrode the grace period: ${d.gracePeriodSeconds} s`,
        );
      }
    }
  }
  if (s.agent) row.notes.push(`${r.events.length} Event(s) posted`);
  if (!pressure) {
    row.observed = "no pressure pod in result";
    row.verdict = "ERROR";
    return;
  }
  const start = pressure.startedAtMs ?? 0;
  if (pressure.sigtermAtMs !== null) {
    row.onsetToSigtermSeconds = round1((pressure.sigtermAtMs - start) / 1000);
  }
  const ex = pressure.exit;
  const clean = ex !== null && ex.code === 0 && pressure.marker.startsWith("clean");
  row.shutdownCompleted = pressure.sigtermAtMs !== null ? clean : null;
  const kernelKilled = pressure.oomKill > 0;
  if (kernelKilled && ex) row.onsetToKernelKillSeconds = round1((ex.atMs - start) / 1000);
  // The agent's own account of its action: the trigger that fired (from its JSON log).
  for (const line of r.agentDecisionLines) {
    const j = line.indexOf("{");
    if (j < 0) continue;
    try {
      const rec = JSON.parse(line.slice(j));
      const p = rec.properties ?? {};
      if (p.action === "delete" || p.action === "evict" || p.action === "eviction") {
        row.agentTrigger = [p.trigger ?? "swap-io", p.reason].filter(Boolean).join("/");
        break;
      }
    } catch { /* not JSON */ }
  }
  const parts: string[] = [];
  if (pressure.sigtermAtMs !== null) {
    parts.push(
      `SIGTERM at ${row.onsetToSigtermSeconds} s`,
    );
    if (pressure.sigkillAtMs !== null) parts.push("SIGKILL after grace");
  } else parts.push(ok2xx(pressure) ? "deleted (no SIGTERM?)" : "not deleted");
  if (kernelKilled) {
    parts.push(`kernel OOM kill${ex ? ` at ${round1((ex.atMs - start) / 1000)} s` : ""}`);
  }
  if (pressure.teardown) parts.push("alive at the end (stopped by the driver)");
  else if (ex) {
    if (clean) parts.push("clean exit");
    else if (ex.signal) parts.push(`died by ${ex.signal}`);
    else parts.push(`exit ${ex.code} (${pressure.marker.split(" ")[0] || "no marker"})`);
  }
  if (bystandersDeleted) parts.push(`${bystandersDeleted} bystander(s) deleted`);
  if (s.pods.some((p) => p.server) && ex && !pressure.teardown) {
    parts.push(`server log: ${pressure.marker}`);
  }
  if (s.agent && r.agentExit) parts.push(`agent exited ${r.agentExit.code}`);
  row.observed = parts.join(", ");
  let pass: boolean;
  switch (s.expect) {
    case "graceful-termination":
      pass = pressure.sigtermAtMs !== null && clean && pressure.sigkillAtMs === null &&
        pressure.oomKill === 0 && bystandersDeleted === 0 && row.oomKills === 0;
      break;
    case "nobody-deleted":
      pass = anyDeleted === 0 && row.oomKills === 0;
      // A real server must also still be serving at the end (it lived the whole run).
      if (s.pods.some((p) => p.server)) pass &&= pressure.teardown;
      break;
    case "not-oom-killed":
      // It fits in memory + swap: the headroom trigger, which predicts kernel kills, must
      // leave it alone; the seed's swap-io rule may stop it (its definition of thrashing).
      pass = row.oomKills === 0 && bystandersDeleted === 0 &&
        !(row.agentTrigger ?? "").startsWith("headroom") &&
        (pressure.sigtermAtMs === null || (clean && pressure.sigkillAtMs === null));
      break;
    case "kernel-oom-kill":
      pass = kernelKilled && anyDeleted === 0;
      break;
    case "trace-only":
      pass = true;
      break;
  }
  if (s.agent && r.errors.some((e) => e.startsWith("Agent"))) pass = false;
  row.verdict = s.expectedToFail ? (pass ? "XPASS" : "XFAIL") : (pass ? "PASS" : "FAIL");
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

// ---- main ----
const suiteStart = performance.now();
await ensurePackages();
await Deno.mkdir(`${CACHE}/build`, { recursive: true });
const agentAvailable = await exists(`${REPO}/src/main.ts`);
if (!agentAvailable) log("src/main.ts does not exist yet: agent scenarios are reported NOT RUN");
const disk = await buildDisk(CACHE);
const serversDisk = scenarios.some((s) => s.pods.some((p) => p.server))
  ? await buildServersDisk(CACHE)
  : undefined;
/** A default run boots a scenario only on its default kernels; a named one on every kernel. */
const onKernel = (s: Scenario, label: string) =>
  scenarioArg !== "" || !s.defaultKernels || s.defaultKernels.includes(label);
const rows: Row[] = [];
for (const spec of kernels) {
  const k = await fetchKernel(CACHE, spec);
  const initramfs = await buildInitramfs(CACHE, k);
  for (const s of scenarios.filter((s) => onKernel(s, k.label))) {
    const row: Row = {
      kernel: k.label,
      kernelRelease: k.release,
      scenario: s.name,
      expect: s.expect,
      expected: EXPECTED_TEXT[s.expect],
      observed: "",
      onsetToSigtermSeconds: null,
      onsetToKernelKillSeconds: null,
      shutdownCompleted: null,
      oomKills: null,
      wrongVictims: null,
      falseKills: null,
      verdict: "ERROR",
      expectedToFail: s.expectedToFail ?? false,
      attempts: 0,
      wallSeconds: 0,
      notes: [],
      runDir: `${CACHE}/runs/${k.label}-${s.name}`,
      agentDecisionLines: [],
      agentTrigger: null,
      swapPeak: null,
    };
    rows.push(row);
    await Deno.remove(row.runDir, { recursive: true }).catch(() => {});
    if (s.agent && !agentAvailable) {
      row.verdict = "NOT RUN";
      row.observed = "agent (src/main.ts) not available yet";
      continue;
    }
    const trace = s.trace || traceAll;
    let out: BootOutcome | null = null;
    for (let attempt = 1; attempt <= 3; attempt++) {
      row.attempts = attempt;
      log(`kernel ${k.label} scenario ${s.name}: boot ${attempt}`);
      out = await boot({
        kernel: k,
        initramfs,
        disk,
        scenario: s.name,
        trace,
        runDir: `${CACHE}/runs/${k.label}-${s.name}`,
        timeoutSeconds: s.maxSeconds + (s.agent ? 240 : 90) +
          (s.pods.some((p) => p.server) ? 420 : 0),
        agentDenoFlags: s.agent ? agentDenoFlags : "",
        ...(s.memMiB ? { memMiB: s.memMiB } : {}),
        ...(s.swapSize ? { swapSize: s.swapSize } : {}),
        ...(s.swapDevice ? { swapDevice: s.swapDevice } : {}),
        ...(s.pods.some((p) => p.server) && serversDisk ? { serversDisk } : {}),
      });
      row.wallSeconds = round1(row.wallSeconds + out.wallSeconds);
      if (out.oops) {
        // Keep the evidence: the next boot overwrites console.log.
        await Deno.copyFile(
          `${CACHE}/runs/${k.label}-${s.name}/console.log`,
          `${CACHE}/runs/${k.label}-${s.name}/console-oops-${attempt}.log`,
        );
      }
      if (out.oops && !out.result) {
        row.notes.push(`guest oops on boot ${attempt}, retried`);
        continue;
      }
      break;
    }
    if (!out?.result) {
      row.observed = out?.timedOut ? "VM timed out without a result" : "no result from the guest";
      if (out?.oops) row.observed += " (guest oops)";
      row.verdict = "ERROR";
      row.notes.push(`console: ${CACHE}/runs/${k.label}-${s.name}/console.log`);
    } else {
      evaluate(s, out.result, row);
      row.agentDecisionLines = out.result.agentDecisionLines;
      if (s.agent && agentDenoFlags) {
        row.notes.push(
          `agent run with extra deno flags ${agentDenoFlags} (not the production set)`,
        );
      }
      if (out.oops) row.notes.push("guest oops during the run");
      if (s.record && (await exists(`${out.outDir}/record.jsonl`))) {
        const dir = `${CACHE}/traces`;
        await Deno.mkdir(dir, { recursive: true });
        const name = `${k.label}-${s.name}.record.jsonl`;
        await Deno.copyFile(`${out.outDir}/record.jsonl`, `${dir}/${name}`);
        row.notes.push(`recorded trace (kube-soomkiller record): .cache/vm/traces/${name}`);
      }
      for (const p of out.result.pods) {
        for (const l of p.serverLines ?? []) row.notes.push(`${p.name} ${l.slice(0, 160)}`);
      }
      const pressure = out.result.pods.find((p) => p.role === "pressure");
      if (pressure && (await exists(`${out.outDir}/trace.jsonl`))) {
        row.swapPeak = await swapPeakOf(`${out.outDir}/trace.jsonl`, pressure.name).catch(() =>
          null
        );
      }
      if (trace && (await exists(`${out.outDir}/trace.jsonl`))) {
        const dir = saveTraces ? TRACES : `${CACHE}/traces`;
        await Deno.mkdir(dir, { recursive: true });
        await Deno.copyFile(`${out.outDir}/trace.jsonl`, `${dir}/${k.label}-${s.name}.jsonl`);
        row.notes.push(`trace: ${dir.replace(`${REPO}/`, "")}/${k.label}-${s.name}.jsonl`);
      }
    }
    log(`  → ${row.verdict}: ${row.observed}`);
  }
}
const wall = round1((performance.now() - suiteStart) / 1000);

// ---- scorecard ----
const cols: [string, (r: Row) => string][] = [
  ["kernel", (r) => r.kernel],
  ["scenario", (r) => r.scenario],
  ["expected", (r) => r.expect + (r.expectedToFail ? " (xfail)" : "")],
  ["verdict", (r) => r.verdict],
  ["onset→SIGTERM s", (r) => fmt(r.onsetToSigtermSeconds)],
  ["agent trigger", (r) => r.agentTrigger ?? "-"],
  ["onset→OOM kill s", (r) => fmt(r.onsetToKernelKillSeconds)],
  [
    "clean shutdown",
    (r) => (r.shutdownCompleted === null ? "-" : r.shutdownCompleted ? "yes" : "NO"),
  ],
  ["oom_kill", (r) => fmt(r.oomKills)],
  [
    "swap peak/limit MiB",
    (r) => (r.swapPeak ? `${r.swapPeak.peakMiB}/${r.swapPeak.limitMiB}` : "-"),
  ],
  ["wrong victims", (r) => fmt(r.wrongVictims)],
  ["false kills", (r) => fmt(r.falseKills)],
  ["observed", (r) => r.observed],
];
function fmt(v: number | null): string {
  return v === null ? "-" : String(v);
}
const table = [cols.map((c) => c[0]), ...rows.map((r) => cols.map((c) => c[1](r)))];
const widths = cols.map((_, i) => Math.max(...table.map((t) => t[i]!.length)));
const lines = table.map((t) => t.map((c, i) => c.padEnd(widths[i]!)).join(" | "));
lines.splice(1, 0, widths.map((w) => "-".repeat(w)).join("-+-"));
console.log("\nkube-soomkiller VM scorecard");
console.log(lines.join("\n"));
for (const r of rows) {
  console.log(
    `  ${r.kernel}/${r.scenario}: expected ${r.expected}; ${r.attempts} boot(s), ${r.wallSeconds} s` +
      (r.notes.length ? `; ${r.notes.join("; ")}` : ""),
  );
}
// Side by side: the policies over the labelled corpus (agent off), judged against what the
// kernel did in those runs (tests/replay/policies.ts, tests/fixtures/traces/corpus.json).
try {
  const cases = await loadCorpus();
  console.log("\nPolicies side by side on the labelled corpus (tests/fixtures/traces/)");
  console.log(formatSideBySide(cases, await sideBySide(cases)));
} catch (error) {
  console.log(`Policies side by side: not available (${(error as Error).message})`);
}
const failed = rows.filter((r) => r.verdict === "FAIL" || r.verdict === "ERROR").length;
const passed =
  rows.filter((r) => r.verdict === "PASS" || r.verdict === "XFAIL" || r.verdict === "XPASS").length;
console.log(`suite wall time ${wall} s`);
const gitHead = (await sh("git", ["-C", REPO, "rev-parse", "--short", "HEAD"]).catch(() => ""))
  .trim();
const gitDirty =
  (await sh("git", ["-C", REPO, "status", "--porcelain", "src", "deno.json", "deno.lock"])
    .catch(() => "")).trim() !== "";
const agentSource = `${gitHead}${gitDirty ? " + uncommitted changes in src/" : ""}`;
console.log(`agent source: ${agentSource}`);
const reportPath = Deno.env.get("E2E_REPORT") || `${CACHE}/report.json`;
await Deno.writeTextFile(
  reportPath,
  JSON.stringify(
    {
      generatedAt: new Date().toISOString(),
      agentSource,
      wallSeconds: wall,
      rows,
    },
    null,
    2,
  ) + "\n",
);
console.log(`report: ${reportPath}`);
console.log(`${passed} passed, ${failed} failed`);
Deno.exit(failed > 0 ? 1 : 0);
