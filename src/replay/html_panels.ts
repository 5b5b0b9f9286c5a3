/**
 * What the replay page shows, as data: the panels of one replay (swap per container with
 * the estimator's projection, time left, node swap I/O, PSI, SwapFree), each a set of
 * lines against thresholds. src/replay/html.ts draws them as SVG.
 */
import type { Config } from "../config.ts";
import { DEFAULT_GRACE_SECONDS } from "../decide/headroom.ts";
import type { ReplayResult, ReplaySample } from "./replay.ts";

/** What the headroom estimator said of one container at one tick. */
export interface EstimatorPoint {
  /** `<pod uid>/<container id>`. */
  readonly key: string;
  readonly podUid: string;
  readonly tMs: number;
  /** `memory.swap.current`, bytes. */
  readonly swapBytes: number;
  /** The swap it may reach before the kernel kills it, bytes. */
  readonly limitBytes: number;
  /** Projected seconds until the limit; null when not growing. */
  readonly secondsLeft: number | null;
  /** Where the estimator sees the growth level off, bytes; null when not slowing down. */
  readonly plateauBytes: number | null;
}

/**
 * The estimator's output for one tick. The one place this page reads the headroom code's
 * types (`ContainerHeadroom`): re-point it here when the estimator changes.
 */
export function estimatorPoints(sample: ReplaySample): EstimatorPoint[] {
  // Once per sample: every container's lines ask for it (100 containers × 900 ticks would
  // otherwise build millions of records).
  const known = pointsBySample.get(sample);
  if (known !== undefined) return known;
  const points = (sample.headroom ?? []).map((c) => ({
    key: `${c.podUid}/${c.containerId}`,
    podUid: c.podUid,
    tMs: sample.tMs,
    swapBytes: c.swapBytes,
    limitBytes: c.swapLimitBytes,
    secondsLeft: c.secondsLeft,
    plateauBytes: c.plateauBytes,
  }));
  pointsBySample.set(sample, points);
  return points;
}

/** {@linkcode estimatorPoints} by sample, for as long as the sample lives. */
const pointsBySample = new WeakMap<ReplaySample, EstimatorPoint[]>();

const MiB = 1024 * 1024;

/** Time left above this is drawn at the top edge of its panel, s. */
const TIME_LEFT_CAP_SECONDS = 120;
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b"];

/** Escapes text for HTML and SVG. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

export interface Line {
  readonly label: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number | null])[];
  readonly dashed?: boolean;
  /** The dash pattern (SVG `stroke-dasharray`) when not the default dashes. */
  readonly dash?: string;
  /** Extra class, e.g. `threshold`. */
  readonly kind?: string;
  /** The legend's heading this line goes under (a container), when the legend groups. */
  readonly legendGroup?: string;
  /** The legend's text under its heading (default: `label`). */
  readonly legend?: string;
}

/**
 * `color` made darker (`amount` < 0) or lighter (> 0), as `#rrggbb`: the limit and the
 * plateau of a container in shades of its own colour, told apart from its swap.
 */
export function shade(color: string, amount: number): string {
  const channels = [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16));
  return "#" + channels.map((c) => {
    const v = amount < 0 ? c * (1 + amount) : c + (255 - c) * amount;
    return Math.round(v).toString(16).padStart(2, "0");
  }).join("");
}

export interface Panel {
  readonly title: string;
  /** Y axis label, with its unit in parentheses. */
  readonly yLabel: string;
  readonly lines: readonly Line[];
  /** Extra SVG drawn in the panel's coordinates (projections). */
  readonly extra?: (x: (tMs: number) => number, y: (v: number) => number) => string;
  readonly yMax?: number;
}

/** The name of a pod on the page: namespace/name when known, else its UID and QoS class. */
export function podLabel(result: ReplayResult, uid: string, sample?: ReplaySample): string {
  const name = result.podNames.get(uid);
  if (name !== undefined) return name;
  const qos = sample?.pods.find((p) => p.uid === uid)?.qosClass;
  return `pod ${uid.slice(0, 8)}${qos ? ` (${qos})` : ""}`;
}

/** What every panel reads: the samples, the containers in order of appearance, their names. */
interface ReplayView {
  readonly result: ReplayResult;
  readonly samples: readonly ReplaySample[];
  /** `<pod uid>/<container id>`, in the order they first appear. */
  readonly containerKeys: readonly string[];
  readonly podUids: readonly string[];
  readonly color: (i: number) => string;
  readonly containerLabel: (key: string) => string;
  /** A container's swap or swap.max at one sample, MiB; null when absent or unlimited. */
  readonly containerValue: (sample: ReplaySample, key: string, field: "swap" | "max") =>
    | number
    | null;
  /** A dashed horizontal line across the whole trace. */
  readonly threshold: (value: number, label: string) => Line;
}

function replayView(result: ReplayResult): ReplayView {
  const samples = result.samples;
  const firstSeen = new Map<string, ReplaySample>();
  const containerKeys: string[] = [];
  for (const sample of samples) {
    for (const pod of sample.pods) {
      for (const c of pod.containers) {
        const key = `${pod.uid}/${c.id}`;
        if (!firstSeen.has(key)) {
          firstSeen.set(key, sample);
          containerKeys.push(key);
        }
      }
    }
  }
  return {
    result,
    samples,
    containerKeys,
    podUids: [...new Set(samples.flatMap((s) => s.pods.map((p) => p.uid)))],
    color: (i) => COLORS[i % COLORS.length]!,
    containerLabel: (key) => {
      const [uid, id] = key.split("/") as [string, string];
      return `${podLabel(result, uid, firstSeen.get(key))} ${id.slice(0, 6)}`;
    },
    containerValue: (sample, key, field) => {
      const [uid, id] = key.split("/");
      const c = sample.pods.find((p) => p.uid === uid)?.containers.find((c) => c.id === id);
      if (c === undefined) return null;
      if (field === "swap") return c.swapCurrentBytes / MiB;
      return c.swapMaxBytes === null ? null : c.swapMaxBytes / MiB;
    },
    threshold: (value, label) => ({
      label,
      color: "#555",
      dashed: true,
      kind: "threshold",
      points: [[0, value], [result.durationMs, value]],
    }),
  };
}

/** The panels of one replay, top to bottom. */
export function panels(result: ReplayResult, config: Config): Panel[] {
  const view = replayView(result);
  return [
    swapPanel(view),
    timeLeftPanel(view, config),
    swapIoPanel(view, config),
    psiPanel(view, config),
    swapFreePanel(view, config),
  ];
}

/** Swap per container, its swap.max, the plateau estimate, and the estimator's projection. */
function swapPanel(view: ReplayView): Panel {
  const { result, samples, color, containerLabel, containerValue } = view;
  // The estimator: its latest projection before the first action (or at the end).
  const cutoff = result.actions[0]?.tMs ?? Infinity;
  const projections = new Map<string, EstimatorPoint>();
  for (const e of samples.flatMap(estimatorPoints)) {
    if (e.tMs <= cutoff && e.secondsLeft !== null) projections.set(e.key, e);
  }
  // One hue per container; its limit darker and dashed, its plateau lighter and dash-dotted.
  const lines: Line[] = view.containerKeys.flatMap((key, i) => [
    {
      label: `${containerLabel(key)} swap`,
      color: color(i),
      legendGroup: containerLabel(key),
      legend: "swap (memory.swap.current)",
      points: samples.map((s) => [s.tMs, containerValue(s, key, "swap")] as const),
    },
    {
      label: `${containerLabel(key)} swap.max`,
      color: shade(color(i), -0.45),
      dashed: true,
      kind: "limit",
      legendGroup: containerLabel(key),
      legend: "limit (memory.swap.max)",
      points: samples.map((s) => [s.tMs, containerValue(s, key, "max")] as const),
    },
    {
      label: `${containerLabel(key)} plateau estimate`,
      color: shade(color(i), 0.45),
      dashed: true,
      dash: "10 3 2 3",
      kind: "plateau",
      legendGroup: containerLabel(key),
      legend: "plateau estimate",
      points: samples.map((s) => {
        const plateau = estimatorPoints(s).find((p) => p.key === key)?.plateauBytes ?? null;
        return [s.tMs, plateau === null ? null : plateau / MiB] as const;
      }),
    },
  ]);
  return {
    title: "Swap per container, its limit, and the estimator's projection (dotted)",
    yLabel: "swap (MiB)",
    lines,
    extra: (x, y) =>
      [...projections.values()].map((e) => projectionSvg(e, result.durationMs, x, y)).join(""),
  };
}

/** One projection: a dotted line to the limit (or the right edge), its end and its note. */
function projectionSvg(
  e: EstimatorPoint,
  durationMs: number,
  x: (tMs: number) => number,
  y: (v: number) => number,
): string {
  const endMs = e.tMs + e.secondsLeft! * 1000;
  // Past the end of the trace: drawn to the right edge, at the same slope.
  const shownMs = Math.min(endMs, durationMs);
  const share = endMs > e.tMs ? (shownMs - e.tMs) / (endMs - e.tMs) : 1;
  const shownMiB = (e.swapBytes + (e.limitBytes - e.swapBytes) * share) / MiB;
  const end = endMs <= durationMs
    ? `<circle cx="${x(endMs)}" cy="${y(e.limitBytes / MiB)}" r="4" fill="none" ` +
      `stroke="#000"/>`
    : "";
  // In the right half the note ends at the estimate, so it stays out of the legend.
  const right = x(e.tMs) > (x(0) + x(durationMs)) / 2;
  return `<g class="projection" data-key="${escapeHtml(e.key)}">` +
    `<line x1="${x(e.tMs)}" y1="${y(e.swapBytes / MiB)}" x2="${x(shownMs)}" ` +
    `y2="${y(shownMiB)}" stroke="#000" stroke-width="2" stroke-dasharray="2 3"/>${end}` +
    `<text class="note" x="${x(e.tMs) + (right ? -4 : 4)}" y="${y(e.swapBytes / MiB) - 6}"` +
    `${right ? ' text-anchor="end"' : ""}>` +
    `estimate at +${(e.tMs / 1000).toFixed(1)} s: ${e.secondsLeft!.toFixed(1)} s left, ` +
    `limit at +${(endMs / 1000).toFixed(1)} s</text></g>`;
}

/** The estimator's time left per container against each pod's grace + --headroom-margin. */
function timeLeftPanel(view: ReplayView, config: Config): Panel {
  const { result, samples, color } = view;
  const marginSeconds = config.headroomMarginMs / 1000;
  return {
    title:
      `Estimator's time left per container (capped at ${TIME_LEFT_CAP_SECONDS} s) vs grace + --headroom-margin`,
    yLabel: "time left (s)",
    yMax: TIME_LEFT_CAP_SECONDS,
    lines: [
      ...view.containerKeys.map((key, i) => ({
        label: view.containerLabel(key),
        color: color(i),
        points: samples.map((s) => {
          const e = estimatorPoints(s).find((p) => p.key === key);
          return [s.tMs, e?.secondsLeft ?? null] as const;
        }),
      })),
      ...view.podUids.map((uid) =>
        view.threshold(
          (result.podGraceSeconds.get(uid) ?? DEFAULT_GRACE_SECONDS) + marginSeconds,
          `grace + margin ${podLabel(result, uid)}`,
        )
      ),
    ],
  };
}

function swapIoPanel(view: ReplayView, config: Config): Panel {
  return {
    title: "Node swap I/O vs --swap-io-threshold",
    yLabel: "swap I/O (pages/s)",
    lines: [
      {
        label: "pswpin + pswpout",
        color: view.color(0),
        points: view.samples.map((s) => [s.tMs, s.swapIoPagesPerSecond] as const),
      },
      view.threshold(config.swapIoThresholdPagesPerSecond, "--swap-io-threshold"),
    ],
  };
}

function psiPanel(view: ReplayView, config: Config): Panel {
  return {
    title: "Pod memory.pressure full avg10 vs --psi-threshold",
    yLabel: "PSI full avg10 (%)",
    yMax: 100,
    lines: [
      ...view.podUids.map((uid, i) => ({
        label: podLabel(view.result, uid),
        color: view.color(i),
        points: view.samples.map((s) =>
          [s.tMs, s.pods.find((p) => p.uid === uid)?.fullAvg10Percent ?? null] as const
        ),
      })),
      view.threshold(config.psiThresholdPercent, "--psi-threshold"),
    ],
  };
}

function swapFreePanel(view: ReplayView, config: Config): Panel {
  // A loop, not Math.max(...): a long trace has more samples than the call stack holds.
  const swapTotalMiB = view.samples.reduce((max, s) => Math.max(max, s.swapTotalBytes), 0) / MiB;
  return {
    title: "Node SwapFree vs --node-swap-free-percent of SwapTotal",
    yLabel: "SwapFree (MiB)",
    yMax: Math.max(1, swapTotalMiB) * 1.05,
    lines: [
      {
        label: "SwapFree",
        color: view.color(2),
        points: view.samples.map((s) => [s.tMs, s.swapFreeBytes / MiB] as const),
      },
      view.threshold(
        (config.nodeSwapFreePercent / 100) * swapTotalMiB,
        "--node-swap-free-percent",
      ),
    ],
  };
}
