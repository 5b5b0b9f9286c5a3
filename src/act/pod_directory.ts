/**
 * The node's pods as the API lists them, by cgroup UID: one LIST on demand into a cache,
 * with a static pod's cgroup UID an alias of its mirror pod, and the rule of when the
 * cache is too old for the headroom trigger. After a failed call (a LIST, or a write the
 * API refused) no LIST is sent until the backoff has passed.
 */
import { indexByCgroupUid, type MirrorConflict, type PodMeta } from "../decide/pod_meta.ts";
import type { FailureStreak, StreakSummary } from "./backoff.ts";
import { type KubeApi, KubeApiError } from "./kube_client.ts";

/** How long pod metadata learned for the headroom trigger is reused, ms. */
export const POD_META_MAX_AGE_MS = 60_000;

/**
 * A LIST younger than this is reused rather than sent again, ms: at most one LIST a second
 * whatever the triggers ask and whatever the server answers (a LIST itself is at most
 * `ceil(MAX_LIST_ITEMS / page size) + 1` requests, act/pod_list.ts; a failed one backs off).
 */
export const MIN_LIST_INTERVAL_MS = 1_000;

/** What the directory needs: the API, the clock, the backoff, where to report failures. */
export interface PodDirectoryDeps {
  readonly kube: Pick<KubeApi, "listNodePods">;
  readonly clock: { monotonicMs(): number };
  readonly nodeName: string;
  /** The streak of failed LISTs (the directory's own). */
  readonly reads: FailureStreak;
  /** The streak of refused writes: while it backs off, no LIST goes out either. */
  readonly writes: FailureStreak;
  /** The delay after one more failure of `streak`, ms. */
  readonly backoff: (streak: FailureStreak, retryAfterMs: number | null) => number;
  readonly onListFailed: (error: string, delayMs: number, failedCalls: number) => void;
  readonly onStreakEnded: (summary: StreakSummary) => void;
  /**
   * A mirror pod claims a static pod UID the API lists as another pod's: the claim is
   * ignored; told once per claimant and UID for as long as the directory lives.
   */
  readonly onMirrorConflict?: (conflict: MirrorConflict) => void;
}

/** Mirror conflicts remembered as told before the memory starts afresh (a bound). */
const MAX_TOLD_CONFLICTS = 1_000;

export class PodDirectory {
  readonly #deps: PodDirectoryDeps;
  /** The last LIST, by cgroup UID (a mirror pod also under its static pod's UID). */
  #cache: { readonly byUid: ReadonlyMap<string, PodMeta>; readonly atMs: number } | null = null;
  /** Mirror conflicts already told, as `claimant uid → claimed uid`. */
  readonly #toldConflicts = new Set<string>();

  constructor(deps: PodDirectoryDeps) {
    this.#deps = deps;
  }

  /** The pod whose cgroup carries `uid`, as of the last LIST. */
  get(uid: string): PodMeta | undefined {
    return this.#cache?.byUid.get(uid);
  }

  /** Every pod of the last LIST, once each (the cache must have been filled). */
  pods(): PodMeta[] {
    return [...new Set(this.#cache!.byUid.values())];
  }

  /**
   * True when the cache cannot tell the grace periods of the pods with cgroup UIDs
   * `uids`: never listed, older than {@linkcode POD_META_MAX_AGE_MS}, or missing one.
   * False when `uids` is empty (nothing to learn).
   */
  stale(uids: readonly string[], nowMs: number): boolean {
    const cache = this.#cache;
    return uids.length > 0 &&
      (cache === null || nowMs - cache.atMs > POD_META_MAX_AGE_MS ||
        uids.some((uid) => !cache.byUid.has(uid)));
  }

  /**
   * One LIST of the node's pods into the cache (or the cache, when a LIST was made less than
   * {@linkcode MIN_LIST_INTERVAL_MS} ago); false on failure or while backing off.
   */
  async refresh(): Promise<boolean> {
    const { clock, reads, writes } = this.#deps;
    const nowMs = clock.monotonicMs();
    if (nowMs < Math.max(reads.retryAtMs, writes.retryAtMs)) return false;
    if (this.#cache !== null && nowMs - this.#cache.atMs < MIN_LIST_INTERVAL_MS) return true;
    try {
      const pods = await this.#deps.kube.listNodePods(this.#deps.nodeName);
      const { byUid, conflicts } = indexByCgroupUid(pods);
      for (const conflict of conflicts) this.#tell(conflict);
      this.#cache = { byUid, atMs: clock.monotonicMs() };
      const ended = reads.ended(clock.monotonicMs());
      if (ended !== null) this.#deps.onStreakEnded(ended);
      return true;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const retryAfterMs = error instanceof KubeApiError ? error.retryAfterMs : null;
      const delayMs = reads.failed(message, nowMs, this.#deps.backoff(reads, retryAfterMs));
      this.#deps.onListFailed(message, delayMs, reads.failures);
      return false;
    }
  }

  #tell(conflict: MirrorConflict): void {
    const key = `${conflict.claimant.uid} ${conflict.claimant.mirrorOfUid}`;
    if (this.#toldConflicts.has(key)) return;
    if (this.#toldConflicts.size >= MAX_TOLD_CONFLICTS) this.#toldConflicts.clear();
    this.#toldConflicts.add(key);
    this.#deps.onMirrorConflict?.(conflict);
  }
}
