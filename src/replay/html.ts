/**
 * `kube-soomkiller replay TRACE --html FILE`: one self-contained page (inline SVG and CSS,
 * no script, nothing fetched) that shows a replay on one time axis: per container swap
 * against its limit with the headroom estimator's projection and time left, node swap I/O
 * against `--swap-io-threshold`, PSI full avg10 against `--psi-threshold`, node SwapFree
 * against `--node-swap-free-percent`, and a labelled marker for every action and every
 * kernel OOM kill the trace recorded.
 */
import type { Config } from "../config.ts";
import { DEFAULT_GRACE_SECONDS } from "../decide/headroom.ts";
import type { TraceHeader } from "./trace.ts";
import { formatReplay, type ReplayResult, type ReplaySample } from "./replay.ts";

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
  return (sample.headroom ?? []).map((c) => ({
    key: `${c.podUid}/${c.containerId}`,
    podUid: c.podUid,
    tMs: sample.tMs,
    swapBytes: c.swapBytes,
    limitBytes: c.swapLimitBytes,
    secondsLeft: c.secondsLeft,
    plateauBytes: c.plateauBytes,
  }));
}

const MiB = 1024 * 1024;
const WIDTH = 1000;
const LEFT = 80;
const RIGHT = 200;
const PANEL_HEIGHT = 150;
const PANEL_GAP = 46;
const MARKER_BAND = 64;
const PLOT_WIDTH = WIDTH - LEFT - RIGHT;
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

interface Line {
  readonly label: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number | null])[];
  readonly dashed?: boolean;
  /** Extra class, e.g. `threshold`. */
  readonly kind?: string;
}

interface Panel {
  readonly title: string;
  /** Y axis label, with its unit in parentheses. */
  readonly yLabel: string;
  readonly lines: readonly Line[];
  /** Extra SVG drawn in the panel's coordinates (projections). */
  readonly extra?: (x: (tMs: number) => number, y: (v: number) => number) => string;
  readonly yMax?: number;
}

/** A round step for about `count` ticks over `span`. */
function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw || 1));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

function fmt(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(3)));
}

function polyline(points: string[], color: string, dashed: boolean, kind: string): string {
  if (points.length === 0) return "";
  const dash = dashed ? ` stroke-dasharray="6 4"` : "";
  return `<polyline class="series ${kind}" fill="none" stroke="${color}" stroke-width="2"${dash} ` +
    `points="${points.join(" ")}"/>`;
}

function drawPanel(panel: Panel, top: number, durationMs: number): string {
  const values = panel.lines.flatMap((l) =>
    l.points.map((p) => p[1]).filter((v): v is number => v !== null)
  );
  const yMax = panel.yMax ?? Math.max(1, ...values) * 1.08;
  const x = (tMs: number) => LEFT + (tMs / Math.max(1, durationMs)) * PLOT_WIDTH;
  const y = (v: number) => top + PANEL_HEIGHT - (Math.min(v, yMax) / yMax) * PANEL_HEIGHT;
  const out: string[] = [`<g class="panel" data-title="${escapeHtml(panel.title)}">`];
  out.push(
    `<rect x="${LEFT}" y="${top}" width="${PLOT_WIDTH}" height="${PANEL_HEIGHT}" class="frame"/>`,
    `<text class="panel-title" x="${LEFT}" y="${top - 8}">${escapeHtml(panel.title)}</text>`,
    `<text class="axis-label y" transform="translate(${LEFT - 58} ${
      top + PANEL_HEIGHT / 2
    }) rotate(-90)">${escapeHtml(panel.yLabel)}</text>`,
  );
  const step = niceStep(yMax, 4);
  for (let v = 0; v <= yMax + 1e-9; v += step) {
    out.push(
      `<line class="grid" x1="${LEFT}" x2="${LEFT + PLOT_WIDTH}" y1="${y(v)}" y2="${y(v)}"/>`,
      `<text class="tick y" x="${LEFT - 6}" y="${y(v) + 4}">${fmt(v)}</text>`,
    );
  }
  let legendY = top + 12;
  for (const line of panel.lines) {
    // Break the line where a value is missing (a pod that had no swap that tick).
    const runs: string[][] = [[]];
    for (const [t, v] of line.points) {
      if (v === null) runs.push([]);
      else runs[runs.length - 1]!.push(`${x(t).toFixed(1)},${y(v).toFixed(1)}`);
    }
    for (const run of runs) {
      out.push(polyline(run, line.color, line.dashed ?? false, line.kind ?? "data"));
    }
    out.push(
      `<text class="legend" x="${LEFT + PLOT_WIDTH + 10}" y="${legendY}" fill="${line.color}">${
        escapeHtml(line.label)
      }</text>`,
    );
    legendY += 15;
  }
  if (panel.extra) out.push(panel.extra(x, y));
  out.push("</g>");
  return out.join("\n");
}

/** The name of a pod on the page: namespace/name when known, else its UID and QoS class. */
function podLabel(result: ReplayResult, uid: string, sample?: ReplaySample): string {
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
function panels(result: ReplayResult, config: Config): Panel[] {
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
  const lines: Line[] = view.containerKeys.flatMap((key, i) => [
    {
      label: `${containerLabel(key)} swap`,
      color: color(i),
      points: samples.map((s) => [s.tMs, containerValue(s, key, "swap")] as const),
    },
    {
      label: `${containerLabel(key)} swap.max`,
      color: color(i),
      dashed: true,
      kind: "limit",
      points: samples.map((s) => [s.tMs, containerValue(s, key, "max")] as const),
    },
    {
      label: `${containerLabel(key)} plateau estimate`,
      color: color(i),
      dashed: true,
      kind: "plateau",
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
  return `<g class="projection" data-key="${escapeHtml(e.key)}">` +
    `<line x1="${x(e.tMs)}" y1="${y(e.swapBytes / MiB)}" x2="${x(shownMs)}" ` +
    `y2="${y(shownMiB)}" stroke="#000" stroke-width="2" stroke-dasharray="2 3"/>${end}` +
    `<text class="note" x="${x(e.tMs) + 4}" y="${y(e.swapBytes / MiB) - 6}">` +
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
  const swapTotalMiB = Math.max(0, ...view.samples.map((s) => s.swapTotalBytes)) / MiB;
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

/** One replay as a `<section>`: heading, the figure, the text report. */
export function renderReplaySection(
  result: ReplayResult,
  header: TraceHeader,
  config: Config,
  title: string,
): string {
  const flags = `--swap-io-threshold=${config.swapIoThresholdPagesPerSecond} ` +
    `--psi-threshold=${config.psiThresholdPercent} --headroom-trigger=${config.headroomTrigger} ` +
    `--headroom-margin=${config.headroomMarginMs / 1000}s ` +
    `--node-swap-free-percent=${config.nodeSwapFreePercent} ` +
    `--cooldown-period=${config.cooldownPeriodMs / 1000}s`;
  return [
    `<section class="replay">`,
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="meta">node ${escapeHtml(header.nodeName)}, started ${
      escapeHtml(header.startedAt)
    }, poll ${header.pollIntervalMs} ms${header.note ? `: ${escapeHtml(header.note)}` : ""}</p>`,
    `<p class="meta">flags: <code>${escapeHtml(flags)}</code></p>`,
    replayFigure(result, config),
    `<pre class="report">${escapeHtml(formatReplay(result))}</pre>`,
    `</section>`,
  ].join("\n");
}

/** The SVG: the panels stacked on one time axis, with a marker per action and OOM kill. */
function replayFigure(result: ReplayResult, config: Config): string {
  const all = panels(result, config);
  const height = MARKER_BAND + all.length * (PANEL_HEIGHT + PANEL_GAP) + 30;
  const plotBottom = MARKER_BAND + all.length * (PANEL_HEIGHT + PANEL_GAP) - PANEL_GAP;
  const durationMs = Math.max(1, result.durationMs);
  const x = (tMs: number) => LEFT + (tMs / durationMs) * PLOT_WIDTH;
  const svg: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="replay-figure" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img">`,
  ];
  all.forEach((panel, i) => {
    svg.push(drawPanel(panel, MARKER_BAND + i * (PANEL_HEIGHT + PANEL_GAP), durationMs));
  });
  svg.push(...timeAxis(durationMs, plotBottom, x));
  svg.push(...eventMarkers(result, plotBottom, x));
  svg.push("</svg>");
  return svg.join("\n");
}

/** The shared time axis, under the last panel. */
function timeAxis(durationMs: number, plotBottom: number, x: (tMs: number) => number): string[] {
  const out: string[] = [];
  const step = niceStep(durationMs / 1000, 10);
  for (let s = 0; s <= durationMs / 1000 + 1e-9; s += step) {
    out.push(
      `<line class="grid x" x1="${x(s * 1000)}" x2="${
        x(s * 1000)
      }" y1="${MARKER_BAND}" y2="${plotBottom}"/>`,
      `<text class="tick x" x="${x(s * 1000)}" y="${plotBottom + 16}">${fmt(s)}</text>`,
    );
  }
  out.push(
    `<text class="axis-label x" x="${LEFT + PLOT_WIDTH / 2}" y="${
      plotBottom + 36
    }">time since the start of the trace (s)</text>`,
  );
  return out;
}

/** One marker per action and per recorded kernel OOM kill, across every panel. */
function eventMarkers(
  result: ReplayResult,
  plotBottom: number,
  x: (tMs: number) => number,
): string[] {
  const events = [
    ...result.actions.map((a) => ({
      tMs: a.tMs,
      kind: "action",
      label: `${a.action} ${a.victim} (${a.trigger})`,
      title: `+${(a.tMs / 1000).toFixed(1)} s: would ${a.action} ${a.victim}: ${a.evidence}`,
    })),
    ...result.recordedOomKills.map((k) => ({
      tMs: k.tMs,
      kind: "oom-kill",
      label: `kernel OOM kill ${podLabel(result, k.podUid)}`,
      title: `+${(k.tMs / 1000).toFixed(1)} s: kernel OOM kill recorded in pod ${k.podUid} ` +
        `(oom_kill +${k.newKills})`,
    })),
  ].sort((a, b) => a.tMs - b.tMs);
  return events.map((event, i) => {
    const ex = x(event.tMs);
    const labelY = 14 + (i % 3) * 16;
    const anchor = ex > LEFT + PLOT_WIDTH * 0.7 ? "end" : "start";
    return `<g class="marker ${event.kind}" data-t-ms="${event.tMs}"><title>${
      escapeHtml(event.title)
    }</title>` +
      `<line x1="${ex}" x2="${ex}" y1="${labelY + 4}" y2="${plotBottom}"/>` +
      `<text x="${ex + (anchor === "start" ? 4 : -4)}" y="${labelY}" text-anchor="${anchor}">${
        escapeHtml(`+${(event.tMs / 1000).toFixed(1)} s ${event.label}`)
      }</text></g>`;
  });
}

const STYLE = `
body { font: 13px system-ui, sans-serif; margin: 16px; color: #222; background: #fff; }
h1 { font-size: 17px; margin: 0 0 4px; }
.meta { margin: 2px 0; color: #555; }
svg text { font: 11px system-ui, sans-serif; fill: #333; }
svg .panel-title { font-weight: 600; }
svg .axis-label { font-size: 12px; text-anchor: middle; }
svg .tick.y { text-anchor: end; }
svg .tick.x { text-anchor: middle; }
svg .frame { fill: none; stroke: #999; }
svg .grid { stroke: #eee; }
svg .marker line { stroke-width: 1.5; }
svg .marker.action line { stroke: #2ca02c; }
svg .marker.action text { fill: #1b7a1b; font-weight: 600; }
svg .marker.oom-kill line { stroke: #d62728; stroke-dasharray: 4 3; }
svg .marker.oom-kill text { fill: #d62728; font-weight: 600; }
pre.report { background: #f6f6f6; padding: 8px; white-space: pre-wrap; }
`;

/** A complete page of one or more replay sections. */
export function renderPage(title: string, sections: readonly string[]): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${sections.join("\n")}
</body>
</html>
`;
}

/** The page `replay --html` writes. */
export function renderReplayHtml(
  result: ReplayResult,
  header: TraceHeader,
  config: Config,
  title: string,
): string {
  return renderPage(title, [renderReplaySection(result, header, config, title)]);
}
