// The labelled corpus (tests/fixtures/traces/corpus.json): every recorded trace with what the
// kernel did to its pressure pod without an agent, and decision policies replayed over each
// one through the real Agent, judged against that ground truth. Used by
// tests/replay/corpus_test.ts and by the VM suite's scorecard (tests/vm/run.ts); run it alone
// for the side-by-side table:
//   deno run -A tests/replay/policies.ts
import { getLogger } from "../../src/observe/log.ts";
import { type Config, DEFAULTS } from "../../src/config.ts";
import { replay } from "../../src/replay/replay.ts";
import { parseTrace, type Trace, type TraceTick } from "../../src/replay/trace.ts";

/** What the kernel did to the pressure pod in the recorded run, agent off. */
export type Truth =
  /** The first tick that recorded its oom_kill rising, s into the trace. */
  | { readonly kernel: "oom-kill"; readonly atSeconds: number }
  /** Alive at the end of a run of at least 180 s ("run") or until its workload ended. */
  | { readonly kernel: "lived"; readonly untilSeconds: number; readonly end: "run" | "workload" };

/** One line of the manifest. */
export interface CorpusEntry {
  readonly trace: string;
  readonly kernel: string;
  /** Where the guest swapped: "zram" or "disk". */
  readonly swap: string;
  readonly workload: string;
  /** The pressure pod's name in the trace. */
  readonly pod: string;
  /** Its terminationGracePeriodSeconds. */
  readonly grace: number;
  readonly truth: Truth;
}

/** A labelled trace, parsed. */
export interface CorpusCase extends CorpusEntry {
  readonly name: string;
  readonly parsed: Trace;
  readonly pressureUid: string;
}

const TRACES = new URL("../fixtures/traces/", import.meta.url);

/** The manifest's entries, in its order. */
export async function corpusEntries(): Promise<CorpusEntry[]> {
  const text = await Deno.readTextFile(new URL("corpus.json", TRACES));
  return (JSON.parse(text) as { traces: CorpusEntry[] }).traces;
}

/** Every labelled trace, parsed, with its pressure pod's UID. */
export async function loadCorpus(): Promise<CorpusCase[]> {
  const out: CorpusCase[] = [];
  for (const entry of await corpusEntries()) {
    const parsed = parseTrace(await Deno.readTextFile(new URL(entry.trace, TRACES)), entry.trace);
    out.push({
      ...entry,
      name: entry.trace.replace(/\.jsonl$/, ""),
      parsed,
      pressureUid: uidOf(parsed, entry.pod),
    });
  }
  return out;
}

export interface PolicyAction {
  readonly tMs: number;
  readonly victimUid: string;
  /** The agent's trigger, or the rule's name. */
  readonly trigger: string;
}

export interface Policy {
  readonly name: string;
  readonly description: string;
  /** The first action over the trace, or null. */
  readonly firstAction: (trace: Trace) => Promise<PolicyAction | null>;
}

const silent = getLogger(["policies-silent"]);

function agentPolicy(name: string, description: string, overrides: Partial<Config>): Policy {
  return {
    name,
    description,
    firstAction: async (trace) => {
      const config: Config = { ...DEFAULTS, nodeName: trace.header.nodeName, ...overrides };
      const first = (await replay(trace, config, silent)).actions[0];
      return first ? { tMs: first.tMs, victimUid: first.victimUid, trigger: first.trigger } : null;
    },
  };
}

/** The share of its swap limit above which the naive rule deletes a pod, percent. */
export const NAIVE_SWAP_PERCENT = 1;

/** "Kill any pod over 1 % swap": the first pod whose container uses > 1 % of its swap limit. */
const naivePolicy: Policy = {
  name: "any pod over 1 % swap",
  description: `delete the first pod whose container's swap exceeds ${NAIVE_SWAP_PERCENT} % ` +
    "of its memory.swap.max (what simpler soft-OOM killers ship)",
  firstAction: (trace) => {
    for (const line of trace.lines) {
      if (line.kind !== "tick") continue;
      const victim = overNaiveLimit(line);
      if (victim !== null) {
        return Promise.resolve({ tMs: line.tMs, victimUid: victim, trigger: "naive" });
      }
    }
    return Promise.resolve(null);
  },
};

function overNaiveLimit(tick: TraceTick): string | null {
  for (const pod of tick.pods) {
    for (const c of pod.containers) {
      const limit = c.swapMaxBytes ?? tick.meminfo.swapTotalBytes;
      if (limit > 0 && c.swapCurrentBytes > limit * NAIVE_SWAP_PERCENT / 100) return pod.uid;
    }
  }
  return null;
}

export const POLICIES: readonly Policy[] = [
  agentPolicy("agent defaults", "this agent's default flags", {}),
  agentPolicy(
    "seed v1 rule",
    "swap I/O above --swap-io-threshold for --sustained-duration, candidates at full avg10 ≥ " +
      "--psi-threshold (--headroom-trigger=false, --node-swap-free-percent=0)",
    { headroomTrigger: false, nodeSwapFreePercent: 0, swapIoAttributionQualifies: false },
  ),
  agentPolicy(
    "linear headroom",
    "this agent with the first version's straight-line estimator (--headroom-estimator=linear)",
    { headroomEstimator: "linear" },
  ),
  naivePolicy,
];

export type Verdict =
  /** Acted on the pressure pod before the kernel's kill: a graceful conversion. */
  | "converted"
  /** Acted on a pod the kernel would have let live. */
  | "false kill"
  /** Acted on another pod than the one under pressure. */
  | "wrong victim"
  /** Did not act (or acted only after the kernel's kill). */
  | "miss"
  /** Did not act on a pod that lived: right. */
  | "spared"
  /**
   * The seed's swap-io rule stopped a pod that lived but thrashed (node swap I/O sustained
   * above the threshold and the pod's full avg10 at --psi-threshold): the seed's own
   * definition of thrashing, allowed by design; not a prediction of a kernel kill.
   */
  | "stopped thrashing";

export interface Judgement {
  readonly verdict: Verdict;
  /** Seconds from the action to the recorded kernel kill (converted only). */
  readonly leadSeconds: number | null;
  /** Seconds into the trace of the action, or null. */
  readonly actedAtSeconds: number | null;
  readonly trigger: string | null;
}

/** The first recorded kernel OOM kill of `podUid` in the trace, ms, or null. */
export function kernelKillAtMs(trace: Trace, podUid: string): number | null {
  let last: number | null = null;
  for (const line of trace.lines) {
    if (line.kind !== "tick") continue;
    const pod = line.pods.find((p) => p.uid === podUid);
    if (pod === undefined) continue;
    if (last !== null && pod.oomKillCount > last) return line.tMs;
    last = pod.oomKillCount;
  }
  return null;
}

/**
 * Where the fill toward a kill at `killMs` starts: the first tick after the last one at which
 * `podUid`'s swap was within the bottom `sharePercent` of its container's swap limit (a pod
 * without swap is not in a trace's tick: it counts as empty), ms.
 */
export function fillStartMs(
  trace: Trace,
  podUid: string,
  killMs: number,
  sharePercent = 5,
): number {
  let start = 0;
  let nearlyEmpty = true;
  for (const line of trace.lines) {
    if (line.kind !== "tick" || line.tMs >= killMs) continue;
    const pod = line.pods.find((p) => p.uid === podUid);
    const limit = pod?.containers[0]?.swapMaxBytes ?? line.meminfo.swapTotalBytes;
    const empty = (pod?.swapCurrentBytes ?? 0) <= limit * sharePercent / 100;
    if (nearlyEmpty && !empty) start = line.tMs;
    nearlyEmpty = empty;
  }
  return start;
}

/** The first tick that satisfies `test`, ms, or null. */
export function firstTickAtMs(trace: Trace, test: (tick: TraceTick) => boolean): number | null {
  for (const line of trace.lines) {
    if (line.kind === "tick" && test(line)) return line.tMs;
  }
  return null;
}

/** Judges one policy's first action against what the kernel did to the case's pressure pod. */
export function judge(c: CorpusCase, action: PolicyAction | null): Judgement {
  const actedAtSeconds = action === null ? null : round1(action.tMs / 1000);
  const trigger = action?.trigger ?? null;
  const verdict = (v: Verdict, leadSeconds: number | null = null): Judgement => ({
    verdict: v,
    leadSeconds,
    actedAtSeconds,
    trigger,
  });
  if (c.truth.kernel === "lived") {
    if (action === null) return verdict("spared");
    if (action.victimUid !== c.pressureUid) return verdict("wrong victim");
    return verdict(action.trigger === "swap-io" ? "stopped thrashing" : "false kill");
  }
  const killMs = kernelKillAtMs(c.parsed, c.pressureUid);
  if (action === null || (killMs !== null && action.tMs >= killMs)) return verdict("miss");
  if (action.victimUid !== c.pressureUid) return verdict("wrong victim");
  return verdict("converted", killMs === null ? null : round1((killMs - action.tMs) / 1000));
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

export interface PolicyRow {
  readonly policy: string;
  readonly cells: readonly Judgement[];
  readonly converted: number;
  readonly falseKills: number;
  readonly wrongVictims: number;
  readonly misses: number;
}

/** Every policy over every case. */
export async function sideBySide(
  cases: readonly CorpusCase[],
  policies: readonly Policy[] = POLICIES,
): Promise<PolicyRow[]> {
  const rows: PolicyRow[] = [];
  for (const policy of policies) {
    const cells: Judgement[] = [];
    for (const c of cases) cells.push(judge(c, await policy.firstAction(c.parsed)));
    const count = (v: Verdict) => cells.filter((cell) => cell.verdict === v).length;
    rows.push({
      policy: policy.name,
      cells,
      converted: count("converted"),
      falseKills: count("false kill"),
      wrongVictims: count("wrong victim"),
      misses: count("miss"),
    });
  }
  return rows;
}

function describeCell(j: Judgement): string {
  if (j.verdict === "converted") {
    return `converted at ${j.actedAtSeconds} s, lead ${j.leadSeconds ?? "?"} s`;
  }
  return j.actedAtSeconds === null ? j.verdict : `${j.verdict} at ${j.actedAtSeconds} s`;
}

function describeTruth(t: Truth): string {
  return t.kernel === "oom-kill"
    ? `OOM kill at ${t.atSeconds} s`
    : `lived to ${t.untilSeconds} s (${t.end})`;
}

/** Lays out rows of cells as a Markdown table. */
function markdown(table: readonly (readonly string[])[]): string {
  const widths = table[0]!.map((_, i) => Math.max(...table.map((t) => t[i]!.length)));
  const line = (t: readonly string[]) => `| ${t.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [
    line(table[0]!),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...table.slice(1).map(line),
  ].join("\n");
}

/** The corpus itself: trace, kernel, swap device, workload, ground truth. */
export function formatCorpus(cases: readonly CorpusCase[]): string {
  return markdown([
    ["trace", "kernel", "swap", "workload", "without an agent"],
    ...cases.map((c) => [c.name, c.kernel, c.swap, c.workload, describeTruth(c.truth)]),
  ]);
}

/** One row per trace, one column per policy, then each policy's counts. */
export function formatSideBySide(
  cases: readonly CorpusCase[],
  rows: readonly PolicyRow[],
): string {
  const table = [
    ["trace", "ground truth", ...rows.map((r) => r.policy)],
    ...cases.map((c, i) => [
      c.name,
      describeTruth(c.truth),
      ...rows.map((r) => describeCell(r.cells[i]!)),
    ]),
    [
      "**totals**",
      "",
      ...rows.map((r) =>
        `${r.converted} converted, ${r.falseKills} false, ${r.wrongVictims} wrong, ${r.misses} missed`
      ),
    ],
  ];
  return markdown(table);
}

/** The pod's UID from the trace's pod list. */
export function uidOf(trace: Trace, podName: string): string {
  for (const line of trace.lines) {
    if (line.kind !== "pods") continue;
    const pod = line.pods.find((p) => p.name === podName);
    if (pod) return pod.uid;
  }
  throw new Error(`No pod "${podName}" in the trace`);
}

if (import.meta.main) {
  const cases = await loadCorpus();
  console.log(formatCorpus(cases));
  console.log();
  console.log(formatSideBySide(cases, await sideBySide(cases)));
}
