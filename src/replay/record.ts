/**
 * `kube-soomkiller record`: samples the node with the agent's own readers every poll
 * interval and writes one trace line per tick. No API writes; one LIST now and then (when
 * a pod with swap appears that has no name yet) so replay can name victims.
 */
import type { KubeApi } from "../act/kube_client.ts";
import type { Clock } from "../clock.ts";
import type { PodMeta } from "../decide/pod_meta.ts";
import type { NodeSensor } from "../sense/node_sensor.ts";
import { formatTraceLine, TRACE_VERSION, type TraceLine } from "./trace.ts";

export interface RecordOptions {
  readonly nodeName: string;
  readonly pollIntervalMs: number;
  /** Stop after this long, ms; null: until the signal. */
  readonly durationMs: number | null;
  readonly note?: string;
}

export interface RecordDeps {
  readonly sensor: NodeSensor;
  readonly clock: Clock;
  /** Null: record without pod names. */
  readonly kube: KubeApi | null;
  /** Receives each line (with its newline). */
  readonly write: (text: string) => Promise<void>;
  /** Problems worth telling the operator (stderr). */
  readonly warn: (message: string) => void;
}

/** Least time between two LISTs for names, ms. */
const LIST_MIN_INTERVAL_MS = 30_000;

/** Records until `signal` aborts or the duration ends; returns the number of ticks written. */
export async function record(
  options: RecordOptions,
  deps: RecordDeps,
  signal: AbortSignal,
): Promise<number> {
  const { sensor, clock, kube, write } = deps;
  const startMs = clock.monotonicMs();
  const emit = (line: TraceLine) => write(formatTraceLine(line) + "\n");
  await emit({
    kind: "header",
    version: TRACE_VERSION,
    pollIntervalMs: options.pollIntervalMs,
    nodeName: options.nodeName,
    startedAt: clock.wallTime().toISOString(),
    ...(options.note ? { note: options.note } : {}),
  });

  const names = new PodNamer(kube, options.nodeName, emit, deps.warn);
  let ticks = 0;
  while (!signal.aborted) {
    const tickStartMs = clock.monotonicMs();
    if (options.durationMs !== null && tickStartMs - startMs >= options.durationMs) break;
    try {
      const [counters, meminfo, scan] = await Promise.all([
        sensor.readSwapIo(),
        sensor.readMeminfo(),
        sensor.scanPods(),
      ]);
      const tMs = Math.round(clock.monotonicMs() - startMs);
      // Pods without swap cannot be chosen; keep those with kernel kills for the count.
      const pods = scan.pods.filter((pod) => pod.swapCurrentBytes > 0 || pod.oomKillCount > 0);
      await names.nameNew(pods, tMs, tickStartMs);
      await emit({
        kind: "tick",
        tMs,
        swapInPages: counters.swapInPages,
        swapOutPages: counters.swapOutPages,
        oomKills: counters.oomKills ?? null,
        meminfo,
        pods,
      });
      ticks++;
      for (const problem of scan.errors) deps.warn(`${problem.cgroupPath}: ${problem.message}`);
    } catch (error) {
      deps.warn(`Cannot sample the node: ${(error as Error).message}`);
    }
    const elapsedMs = clock.monotonicMs() - tickStartMs;
    await clock.sleep(Math.max(0, options.pollIntervalMs - elapsedMs), signal);
  }
  return ticks;
}

/**
 * Names for the trace: a `pods` line from a LIST when a pod without a name appears, at most
 * once per LIST_MIN_INTERVAL_MS; nothing without an API.
 */
class PodNamer {
  readonly #named = new Set<string>();
  #lastListMs = -Infinity;

  constructor(
    private readonly kube: RecordDeps["kube"],
    private readonly nodeName: string,
    private readonly emit: (line: TraceLine) => Promise<void>,
    private readonly warn: (message: string) => void,
  ) {}

  async nameNew(pods: readonly { uid: string }[], tMs: number, nowMs: number): Promise<void> {
    const unnamed = pods.some((pod) => !this.#named.has(pod.uid));
    if (!this.kube || !unnamed || nowMs - this.#lastListMs < LIST_MIN_INTERVAL_MS) return;
    this.#lastListMs = nowMs;
    try {
      const metas: PodMeta[] = await this.kube.listNodePods(this.nodeName);
      for (const meta of metas) {
        this.#named.add(meta.uid);
        if (meta.mirrorOfUid) this.#named.add(meta.mirrorOfUid);
      }
      await this.emit({ kind: "pods", tMs, pods: metas });
    } catch (error) {
      this.warn(`Cannot list pods for names: ${(error as Error).message}`);
    }
  }
}
