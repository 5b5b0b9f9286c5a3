/**
 * The settings decide/ reads, as its own type: src/config.ts's `Config` extends it, so the
 * loop passes its Config and decide/ depends on nothing above it. Durations in ms.
 */
import type { LabelSelector } from "./label_selector.ts";
import type { PressureSettings } from "./node_pressure.ts";
import type { OwnPod } from "./select.ts";

/** How a victim is terminated: DELETE, or the Eviction API (honours PodDisruptionBudgets). */
export type TerminationMode = "delete" | "evict";

export interface DecideSettings extends PressureSettings {
  /** Per-container swap-headroom trigger on/off. */
  readonly headroomTrigger: boolean;
  /** Act when a container's projected time to its swap limit < grace period + this, ms. */
  readonly headroomMarginMs: number;
  /** Act when a container at memory.max has swap at or above this share of its limit, %. */
  readonly swapFullPercent: number;
  /** Act when the node's SwapFree falls under this share of SwapTotal, percent (0: off). */
  readonly nodeSwapFreePercent: number;
  /** Minimum pod `memory.pressure` full avg10 for a swap-io candidate, percent. */
  readonly psiThresholdPercent: number;
  /** A pod's own swap I/O above the threshold qualifies it below the PSI threshold. */
  readonly swapIoAttributionQualifies: boolean;
  /** Namespaces whose pods are never chosen. */
  readonly protectedNamespaces: readonly string[];
  /** Pods whose `spec.priority` is at or above this are never chosen. */
  readonly protectedPriority: number;
  /** The agent's own pod, never chosen. */
  readonly ownPod: OwnPod;
  /** The opt-in scope (`--pod-selector`): only matching pods may be chosen; null: all. */
  readonly podSelector: LabelSelector | null;
  /** The opt-in scope (`--namespaces`): only pods in these may be chosen; null: all. */
  readonly scopeNamespaces: readonly string[] | null;
  readonly terminationMode: TerminationMode;
}
