/**
 * The words the loop, act/ and observe/ share about one tick: which rule fired, the
 * attempts made, and the tick report. Types only, so that act/events.ts, observe/ and
 * replay/ need not import the loop (and the loop need not import them back).
 */
import type { EventResult, Outcome } from "./outcome.ts";
import type { Meminfo } from "../sense/meminfo.ts";
import type { PodStats } from "../sense/pod_stats.ts";
import type { ContainerHeadroom } from "./headroom.ts";
import type { PressureObservation } from "./node_pressure.ts";
import type { KernelOomKill } from "./oom_watch.ts";
import type { Candidate, Selection } from "./select.ts";

/** Which rule made the agent act. */
export type TriggerKind = "swap-io" | "headroom" | "node-swap-free";

/** What a decision line says before ": {action} {victim} → {outcome}". */
export interface DecisionText {
  readonly message: string;
  readonly properties: Record<string, unknown>;
}

/**
 * What the triggers decided this tick:
 * - `act`: a rule fired and chose; the round re-checks and terminates the top of
 *   `selection` (the next candidate when an eviction is blocked);
 * - `report`: a rule fired but nobody may be chosen, or the API could not be asked; the
 *   tick reports the selection and does nothing;
 * - `none`: no rule fired (or each gave way to the next).
 */
export type Decision =
  | {
    readonly kind: "act";
    readonly trigger: TriggerKind;
    readonly selection: Selection;
    /** The first half of the decision line for the victim the round ends on. */
    readonly explain: (victim: Candidate) => DecisionText;
  }
  | { readonly kind: "report"; readonly trigger: TriggerKind; readonly selection: Selection }
  | { readonly kind: "none" };

/** One termination attempt of a tick. */
export interface Attempt {
  readonly victim: Candidate;
  readonly outcome: Outcome;
}

/** A container with swap in use whose pod the agent has named (per-container metrics). */
export interface NamedContainer {
  readonly namespace: string;
  readonly pod: string;
  /** The container's name, or its ID when the API did not say. */
  readonly container: string;
  readonly headroom: ContainerHeadroom;
}

/** One early warning of a tick: the pod, its container, and how the Event went. */
export interface EarlyWarningReport {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly headroom: ContainerHeadroom;
  /** How the Event went; `not sent (replay)` when the loop only simulates. */
  readonly event: EventResult | "not sent (replay)";
}

/** What one tick saw and did; the demo, replay, metrics and tests read it. */
export interface TickReport {
  /** Null when the swap counters could not be read this tick. */
  readonly observation: PressureObservation | null;
  /** Node memory figures, when readable. */
  readonly meminfo?: Meminfo;
  /** The pods read this tick (pods are scanned only when something calls for it). */
  readonly pods?: readonly PodStats[];
  /** Headroom estimates of every container that can swap, when pods were scanned. */
  readonly headroom?: readonly ContainerHeadroom[];
  /** Node swap I/O counters as `/proc/vmstat` has them (pswpin, pswpout), pages. */
  readonly swapIoPages?: { readonly in: number; readonly out: number };
  /** The containers with swap in use whose pod is named, when pods were scanned. */
  readonly swapContainers?: readonly NamedContainer[];
  /** Early warnings posted this tick (dry-run included). */
  readonly earlyWarnings?: readonly EarlyWarningReport[];
  /** Kernel OOM kills seen since the previous scan: the kills the agent did not prevent. */
  readonly kernelOomKills?: readonly KernelOomKill[];
  /** The trigger that fired, if any. */
  readonly trigger?: TriggerKind;
  /** The ranked candidates, when a trigger fired. */
  readonly selection?: Selection;
  /** The pod acted on (or that would have been, in dry-run). */
  readonly victim?: Candidate;
  readonly outcome?: Outcome;
  /**
   * Attempts made in this tick before the one in `victim`/`outcome`: evictions a
   * PodDisruptionBudget blocked (the next candidate was tried), in order.
   */
  readonly attempts?: readonly Attempt[];
  /** The Event posted on the victim pod for an action (dry-run included). */
  readonly event?: EventResult;
}
