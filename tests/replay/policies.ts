// Side by side: decision policies run over the same recorded traces of real servers (agent
// off), judged against what the kernel did in that run. Used by tests/replay/policies_test.ts
// and by the VM suite's scorecard (tests/vm/run.ts).
import { getLogger } from "../../src/observe/log.ts";
import { type Config, DEFAULTS } from "../../src/config.ts";
import { replay } from "../../src/replay/replay.ts";
import { parseTrace, type Trace, type TraceTick } from "../../src/replay/trace.ts";

/** What the kernel did to the pressure pod in the recorded run. */
export type Truth =
  /** OOM-killed it (a swap limit too small). */
  | "kernel-kill"
  /** It lived the whole run (an ample limit). */
  | "survived";

export interface PolicyAction {
  readonly tMs: number;
  readonly victimUid: string;
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
      return first ? { tMs: first.tMs, victimUid: first.victimUid } : null;
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
      if (victim !== null) return Promise.resolve({ tMs: line.tMs, victimUid: victim });
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
  | "spared";

export interface Judgement {
  readonly verdict: Verdict;
  /** Seconds from the action to the recorded kernel kill (converted only). */
  readonly leadSeconds: number | null;
  /** Seconds into the trace of the action, or null. */
  readonly actedAtSeconds: number | null;
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

/** Judges one policy's first action against what the kernel did to `pressureUid`. */
export function judge(
  trace: Trace,
  pressureUid: string,
  truth: Truth,
  action: PolicyAction | null,
): Judgement {
  const actedAtSeconds = action === null ? null : round1(action.tMs / 1000);
  if (truth === "survived") {
    return {
      verdict: action === null ? "spared" : "false kill",
      leadSeconds: null,
      actedAtSeconds,
    };
  }
  const killMs = kernelKillAtMs(trace, pressureUid);
  if (action === null || (killMs !== null && action.tMs >= killMs)) {
    return { verdict: "miss", leadSeconds: null, actedAtSeconds };
  }
  if (action.victimUid !== pressureUid) {
    return { verdict: "wrong victim", leadSeconds: null, actedAtSeconds };
  }
  return {
    verdict: "converted",
    leadSeconds: killMs === null ? null : round1((killMs - action.tMs) / 1000),
    actedAtSeconds,
  };
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

/** One recorded real-server run for the side-by-side table. */
export interface RecordedCase {
  readonly name: string;
  readonly trace: Trace;
  readonly pressureUid: string;
  readonly truth: Truth;
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
export async function sideBySide(cases: readonly RecordedCase[]): Promise<PolicyRow[]> {
  const rows: PolicyRow[] = [];
  for (const policy of POLICIES) {
    const cells: Judgement[] = [];
    for (const c of cases) {
      cells.push(judge(c.trace, c.pressureUid, c.truth, await policy.firstAction(c.trace)));
    }
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

/** The table as text: one row per policy, one column per case, then the counts. */
export function formatSideBySide(
  cases: readonly RecordedCase[],
  rows: readonly PolicyRow[],
): string {
  const cell = (j: Judgement) =>
    j.verdict === "converted"
      ? `converted at ${j.actedAtSeconds} s (${j.leadSeconds ?? "?"} s before the kill)`
      : j.actedAtSeconds === null
      ? j.verdict
      : `${j.verdict} at ${j.actedAtSeconds} s`;
  const header = ["policy", ...cases.map((c) => c.name), "converted", "false", "wrong", "missed"];
  const table = [
    header,
    ...rows.map((r) => [
      r.policy,
      ...r.cells.map(cell),
      String(r.converted),
      String(r.falseKills),
      String(r.wrongVictims),
      String(r.misses),
    ]),
  ];
  const widths = header.map((_, i) => Math.max(...table.map((t) => t[i]!.length)));
  const lines = table.map((t) => t.map((c, i) => c.padEnd(widths[i]!)).join(" | "));
  lines.splice(1, 0, widths.map((w) => "-".repeat(w)).join("-+-"));
  return lines.join("\n");
}

/**
 * The committed recorded traces: [fixture, the pressure pod's name, what the kernel did].
 * The real servers, then two synthetic shapes a straight line gets wrong.
 */
export const REAL_SERVER_TRACES: readonly [string, string, Truth][] = [
  ["6.12-pg-small-swap.jsonl", "postgres", "kernel-kill"],
  ["6.12-pg-ample-swap.jsonl", "postgres", "survived"],
  ["6.12-redis-small-swap.jsonl", "redis", "kernel-kill"],
  ["6.12-redis-ample-swap.jsonl", "redis", "survived"],
  ["6.12-leak-steps.jsonl", "step-leaker", "kernel-kill"],
  ["6.12-ramp.jsonl", "ramper", "survived"],
];

/** The pod's UID from the trace's pod list. */
export function uidOf(trace: Trace, podName: string): string {
  for (const line of trace.lines) {
    if (line.kind !== "pods") continue;
    const pod = line.pods.find((p) => p.name === podName);
    if (pod) return pod.uid;
  }
  throw new Error(`No pod "${podName}" in the trace`);
}

/** The committed real-server traces as cases (tests/fixtures/traces/). */
export async function realServerCases(): Promise<RecordedCase[]> {
  const out: RecordedCase[] = [];
  for (const [name, pod, truth] of REAL_SERVER_TRACES) {
    const path = new URL(`../fixtures/traces/${name}`, import.meta.url);
    const trace = parseTrace(await Deno.readTextFile(path), name);
    out.push({ name: name.replace(/\.jsonl$/, ""), trace, pressureUid: uidOf(trace, pod), truth });
  }
  return out;
}
