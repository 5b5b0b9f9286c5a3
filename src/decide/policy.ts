/**
 * The victim policy in one place: the triggers as a table of values, most urgent first,
 * each with one interface (`fires`, `candidates`, `victims`, `explain`), and the rules of a
 * round (who is excluded, when the next candidate is tried, how a round ends). The loop
 * walks {@linkcode TRIGGERS} in order; the first rule that acts (or tries to) ends the
 * tick. Pure.
 */
import type { Meminfo } from "../sense/meminfo.ts";
import type { PodStats } from "../sense/pod_stats.ts";
import type { DecisionText, TriggerKind } from "./decision.ts";
import type { RoundEnd } from "./evict_fallback.ts";
import { describeHeadroom, describeNodeDecision } from "./explain.ts";
import { type ContainerHeadroom, type HeadroomAlarm, headroomAlarms } from "./headroom.ts";
import type { PressureObservation } from "./node_pressure.ts";
import type { PodMeta } from "./pod_meta.ts";
import {
  type Candidate,
  type Exclusions,
  preselect,
  type PreselectOptions,
  type Selection,
  selectVictims,
} from "./select.ts";
import type { DecideSettings } from "./settings.ts";

/** How far ahead the headroom trigger looks for pods whose grace period it must learn, s. */
export const HEADROOM_HORIZON_SECONDS = 600;

/** The settings the policy reads. */
export type PolicyConfig = Pick<
  DecideSettings,
  | "headroomTrigger"
  | "headroomMarginMs"
  | "swapFullPercent"
  | "nodeSwapFreePercent"
  | "psiThresholdPercent"
  | "swapIoAttributionQualifies"
  | "swapIoThresholdPagesPerSecond"
  | "protectedNamespaces"
  | "protectedPriority"
  | "ownPod"
  | "podSelector"
  | "scopeNamespaces"
>;

/** What a tick sensed, as the triggers judge it (after a pod scan). */
export interface TickFacts {
  readonly observation: PressureObservation;
  readonly meminfo: Meminfo | undefined;
  readonly pods: readonly PodStats[];
  /** Headroom estimates of every container that can swap. */
  readonly containers: readonly ContainerHeadroom[];
  /** The containers whose swap fills within {@linkcode HEADROOM_HORIZON_SECONDS}. */
  readonly atRisk: readonly ContainerHeadroom[];
  /** Each pod's own swap I/O rate, pages/s, when the kernel attributes it; else null. */
  readonly swapIoRates: ReadonlyMap<string, number> | null;
  /** Pods acted on before and still there (kill-once): never chosen again. */
  readonly actedOn: ReadonlySet<string>;
}

/** A rule's first cut, from the cgroup figures (and the grace periods it asked for). */
export interface Shortlist {
  /** True when the rule found something to act on (before the API is asked who may go). */
  readonly flagged: boolean;
  /** Who may be to blame, best first; candidates carry no API pod yet. */
  readonly selection: Selection;
  /** Headroom: the alarm behind each pod, by cgroup UID. */
  readonly alarms?: ReadonlyMap<string, HeadroomAlarm>;
}

/** Grace periods as the API tells them, by cgroup UID; null when unknown (default 30 s). */
export type GraceOf = (podUid: string) => number | null;

/** One trigger: when it fires, whom it blames, whom it may choose, and why in words. */
export interface TriggerPolicy {
  readonly kind: TriggerKind;
  /**
   * How the rule speaks and gives way:
   * - `alarm`: per-container alarms (headroom): each pod passed over is logged with its
   *   alarm; when nobody can be acted on (or the API cannot be asked) the next rule is tried;
   * - `node`: a node-wide condition: "no pod qualifies" is a warning, static pods among
   *   the sources are named, and once the API is asked the tick ends with this rule.
   */
  readonly style: "alarm" | "node";
  /** When the first cut is empty: try the next rule, or end the tick reporting it. */
  readonly ifNoCandidate: "next" | "report";
  /** The rule is on and its condition holds this tick. */
  fires(facts: TickFacts, config: PolicyConfig): boolean;
  /** Cgroup UIDs of the pods whose grace period the first cut needs from the API. */
  needsGraceOf(facts: TickFacts): readonly string[];
  /** The first cut, from the cgroup figures. */
  candidates(facts: TickFacts, config: PolicyConfig, graceOf: GraceOf): Shortlist;
  /** The second cut, with the node's pods: the victims best first, and who is excluded. */
  victims(shortlist: Shortlist, nodePods: readonly PodMeta[], exclusions: Exclusions): Selection;
  /** The first half of the decision line when acting on `victim`, the top of `selection`. */
  explain(
    victim: Candidate,
    selection: Selection,
    shortlist: Shortlist,
    facts: TickFacts,
  ): DecisionText;
}

/** A container about to be OOM-killed: the victim is its pod, one victim per pod. */
const HEADROOM: TriggerPolicy = {
  kind: "headroom",
  style: "alarm",
  ifNoCandidate: "next",
  fires: (_facts, config) => config.headroomTrigger,
  // A pod already acted on is never chosen again: its containers (whose swap may keep
  // growing through its grace period) ask nothing of the API.
  needsGraceOf: (facts) =>
    facts.atRisk.filter((c) => !facts.actedOn.has(c.podUid)).map((c) => c.podUid),
  candidates(facts, config, graceOf) {
    const open = facts.containers.filter((c) => !facts.actedOn.has(c.podUid));
    const alarms = headroomAlarms(open, graceOf, config);
    // In order of urgency, one per pod (its most urgent container's alarm).
    const statsByUid = new Map(facts.pods.map((p) => [p.uid, p]));
    const byUid = new Map<string, HeadroomAlarm>();
    const ranked: Candidate[] = [];
    for (const alarm of alarms) {
      const stats = statsByUid.get(alarm.container.podUid);
      if (!stats || byUid.has(stats.uid)) continue;
      byUid.set(stats.uid, alarm);
      ranked.push({ stats, pod: null });
    }
    return { flagged: alarms.length > 0, selection: { ranked, rejected: [] }, alarms: byUid };
  },
  // The urgency order stands: each pod is judged on its own, never re-ranked by PSI.
  victims(shortlist, nodePods, exclusions) {
    const ranked: Candidate[] = [];
    const rejected: Selection["rejected"][number][] = [];
    for (const first of shortlist.selection.ranked) {
      const one = selectVictims({ ranked: [first], rejected: [] }, nodePods, exclusions);
      ranked.push(...one.ranked);
      rejected.push(...one.rejected);
    }
    return { ranked, rejected };
  },
  explain: (victim, _selection, shortlist, facts) =>
    describeHeadroom(shortlist.alarms!.get(victim.stats.uid)!, victim, facts.observation),
};

/** The node's swap nearly gone: every pod with swap qualifies, whatever its PSI. */
const NODE_SWAP_FREE: TriggerPolicy = {
  kind: "node-swap-free",
  style: "node",
  ifNoCandidate: "next",
  fires: (facts, config) => swapFreeLow(facts.meminfo, config.nodeSwapFreePercent),
  needsGraceOf: () => [],
  candidates: (facts, config) =>
    flagged(preselect(facts.pods, config.psiThresholdPercent, { waivePsiThreshold: true })),
  victims: (shortlist, nodePods, exclusions) =>
    selectVictims(shortlist.selection, nodePods, exclusions),
  explain: (_victim, selection, _shortlist, facts) =>
    describeNodeDecision("node-swap-free", facts.observation, selection, facts.meminfo),
};

/** The node thrashing for the whole window: the worst pod by PSI (or its own swap I/O). */
const SWAP_IO: TriggerPolicy = {
  kind: "swap-io",
  style: "node",
  ifNoCandidate: "report",
  fires: (facts) => facts.observation.phase === "sustained",
  needsGraceOf: () => [],
  candidates: (facts, config) =>
    flagged(
      preselect(facts.pods, config.psiThresholdPercent, attributionOptions(facts, config)),
    ),
  victims: (shortlist, nodePods, exclusions) =>
    selectVictims(shortlist.selection, nodePods, exclusions),
  explain: (_victim, selection, _shortlist, facts) =>
    describeNodeDecision("swap-io", facts.observation, selection, facts.meminfo),
};

/**
 * The rules, most urgent first: a container about to be OOM-killed, the node's swap nearly
 * gone, or the node thrashing for the whole window.
 */
export const TRIGGERS: readonly TriggerPolicy[] = [HEADROOM, NODE_SWAP_FREE, SWAP_IO];

function flagged(selection: Selection): Shortlist {
  return { flagged: selection.ranked.length > 0, selection };
}

/** Attribution ranks the candidates; it waives the PSI gate only when asked to. */
function attributionOptions(facts: TickFacts, config: PolicyConfig): PreselectOptions {
  const swapIoRates = facts.swapIoRates;
  if (!swapIoRates) return {};
  return {
    swapIoRates,
    ...(config.swapIoAttributionQualifies
      ? { attributionFloorPagesPerSecond: config.swapIoThresholdPagesPerSecond }
      : {}),
  };
}

/** The node's free swap under `percent` of its total (never on a node without swap). */
export function swapFreeLow(meminfo: Meminfo | undefined, percent: number): boolean {
  return meminfo !== undefined && meminfo.swapTotalBytes > 0 &&
    meminfo.swapFreeBytes < meminfo.swapTotalBytes * percent / 100;
}

/** Any pressure at all this tick: without it the evict-fallback clock stops. */
export function underPressure(facts: TickFacts, config: PolicyConfig): boolean {
  return facts.observation.phase === "sustained" ||
    swapFreeLow(facts.meminfo, config.nodeSwapFreePercent) || facts.atRisk.length > 0;
}

/** Who may never be chosen, with the pods acted on so far. */
export function exclusionsOf(config: PolicyConfig, actedOnUids: ReadonlySet<string>): Exclusions {
  return {
    protectedNamespaces: config.protectedNamespaces,
    protectedPriority: config.protectedPriority,
    ownPod: config.ownPod,
    actedOnUids,
    podSelector: config.podSelector,
    namespaces: config.scopeNamespaces,
  };
}

/** In evict mode a blocked eviction moves on to the next candidate; anything else ends. */
export function triesNextCandidate(outcome: { readonly kind: string }): boolean {
  return outcome.kind === "blocked";
}

/**
 * How a round ended for the evict-fallback clock: an action (or a write that may have
 * happened), every eviction blocked, or neither.
 */
export function roundEnd(outcome: { readonly kind: string }, startsCooldown: boolean): RoundEnd {
  return startsCooldown ? "acted" : outcome.kind === "blocked" ? "all-blocked" : "inconclusive";
}
