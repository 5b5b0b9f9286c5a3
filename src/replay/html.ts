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
import { formatReplay, type ReplayResult } from "./replay.ts";
import { escapeHtml, type Line, type Panel, panels, podLabel } from "./html_panels.ts";

export { escapeHtml, type EstimatorPoint, estimatorPoints } from "./html_panels.ts";

const WIDTH = 1000;
const LEFT = 80;
const RIGHT = 200;
// Five panels, the time axis and the page's header fit 1000 px of height (issue 21).
const PANEL_HEIGHT = 118;
const PANEL_GAP = 40;
const MARKER_BAND = 64;
const PLOT_WIDTH = WIDTH - LEFT - RIGHT;
/** The legend, in the right margin: where its samples start, its row height, its text. */
const LEGEND_X = LEFT + PLOT_WIDTH + 10;
const LEGEND_ROW = 13;
const LEGEND_SAMPLE = 24;
/** Legend text longer than this is cut (the whole text is its tooltip). */
const LEGEND_CHARS = 27;

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

/** The `stroke-dasharray` attribute of a line, or "" when solid. */
function dashOf(line: Line): string {
  const dash = line.dash ?? (line.dashed ? "6 4" : null);
  return dash === null ? "" : ` stroke-dasharray="${dash}"`;
}

function polyline(points: string[], line: Line): string {
  if (points.length === 0) return "";
  return `<polyline class="series ${line.kind ?? "data"}" fill="none" stroke="${line.color}" ` +
    `stroke-width="2"${dashOf(line)} points="${points.join(" ")}"/>`;
}

/**
 * The legend of a panel in the right margin: per line a sample of its stroke (colour and
 * dashes) and its text, under a heading per container where the lines group; rows that
 * do not fit before the next panel are counted in a last row.
 */
function legend(panel: Panel, top: number): string[] {
  const rows: ({ heading: string; color: string } | { line: Line })[] = [];
  let group: string | undefined;
  for (const line of panel.lines) {
    if (line.legendGroup !== undefined && line.legendGroup !== group) {
      group = line.legendGroup;
      rows.push({ heading: group, color: line.color });
    }
    rows.push({ line });
  }
  const fits = Math.floor((PANEL_HEIGHT + PANEL_GAP - 24) / LEGEND_ROW);
  const shown = rows.length <= fits ? rows : rows.slice(0, fits - 1);
  const out: string[] = [];
  shown.forEach((row, i) => {
    const y = top + 10 + i * LEGEND_ROW;
    if ("heading" in row) {
      out.push(legendText(row.heading, LEGEND_X, y, "legend heading", row.color));
      return;
    }
    const { line } = row;
    out.push(
      `<g class="legend-entry"><line class="legend-sample" x1="${LEGEND_X}" x2="${
        LEGEND_X + LEGEND_SAMPLE
      }" y1="${y - 4}" y2="${y - 4}" stroke="${line.color}" stroke-width="2"${dashOf(line)}/>` +
        legendText(line.legend ?? line.label, LEGEND_X + LEGEND_SAMPLE + 5, y, "legend") +
        "</g>",
    );
  });
  if (shown.length < rows.length) {
    const y = top + 10 + shown.length * LEGEND_ROW;
    out.push(legendText(`… ${rows.length - shown.length} more`, LEGEND_X, y, "legend"));
  }
  return out;
}

/** One legend text, cut to {@linkcode LEGEND_CHARS} with the whole as its tooltip. */
function legendText(text: string, x: number, y: number, kind: string, color?: string): string {
  const cut = text.length > LEGEND_CHARS ? `${text.slice(0, LEGEND_CHARS - 1)}…` : text;
  // A style, not the fill attribute: the page's CSS for svg text would win over it.
  const style = color === undefined ? "" : ` style="fill: ${color}"`;
  return `<text class="${kind}" x="${x}" y="${y}"${style}><title>${escapeHtml(text)}</title>${
    escapeHtml(cut)
  }</text>`;
}

/**
 * A run of points (pixels, x increasing) with at most two per pixel column, the lowest and
 * the highest of the column in their order: the line looks the same, and a page's size is
 * bounded by the plot's width, not by the trace's length.
 */
function perPixelColumn(
  run: readonly (readonly [number, number])[],
): (readonly [number, number])[] {
  if (run.length <= PLOT_WIDTH) return [...run];
  const out: (readonly [number, number])[] = [];
  let column = NaN;
  let low: readonly [number, number] | null = null;
  let high: readonly [number, number] | null = null;
  let lowAt = 0;
  let highAt = 0;
  const flush = () => {
    if (low === null || high === null) return;
    if (low === high) out.push(low);
    else if (lowAt < highAt) out.push(low, high);
    else out.push(high, low);
  };
  run.forEach((point, i) => {
    const c = Math.floor(point[0]);
    if (c !== column) {
      flush();
      column = c;
      low = high = point;
      lowAt = highAt = i;
    } else {
      if (point[1] < low![1]) [low, lowAt] = [point, i];
      if (point[1] > high![1]) [high, highAt] = [point, i];
    }
  });
  flush();
  return out;
}

function drawPanel(panel: Panel, top: number, durationMs: number): string {
  const values = panel.lines.flatMap((l) =>
    l.points.map((p) => p[1]).filter((v): v is number => v !== null)
  );
  // A loop, not Math.max(...values): a long trace has more values than the call stack holds.
  const yMax = panel.yMax ?? values.reduce((max, v) => (v > max ? v : max), 1) * 1.08;
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
  for (const line of panel.lines) {
    // Break the line where a value is missing (a pod that had no swap that tick).
    const runs: (readonly [number, number])[][] = [[]];
    for (const [t, v] of line.points) {
      if (v === null) runs.push([]);
      else runs[runs.length - 1]!.push([x(t), y(v)]);
    }
    for (const run of runs) {
      const shown = perPixelColumn(run).map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`);
      out.push(polyline(shown, line));
    }
  }
  out.push(...legend(panel, top));
  if (panel.extra) out.push(panel.extra(x, y));
  out.push("</g>");
  return out.join("\n");
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
    // The report beside the figure where the window is wide enough, under it otherwise.
    `<div class="replay-body">`,
    replayFigure(result, config),
    `<pre class="report">${escapeHtml(formatReplay(result))}</pre>`,
    `</div>`,
    `</section>`,
  ].join("\n");
}

/** The SVG: the panels stacked on one time axis, with a marker per action and OOM kill. */
function replayFigure(result: ReplayResult, config: Config): string {
  const all = panels(result, config);
  const height = MARKER_BAND + all.length * (PANEL_HEIGHT + PANEL_GAP) + 6;
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
  svg.push(...graceShortfalls(result, plotBottom, x));
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
      // A replay sends nothing: every action is one the agent would have taken.
      label: `would ${a.action} ${a.victim} (${a.trigger})`,
      title: `+${(a.tMs / 1000).toFixed(1)} s: would ${a.action} ${a.victim}: ${a.evidence}`,
    })),
    ...result.recordedOomKills.map((k) => ({
      tMs: k.tMs,
      kind: "oom-kill",
      label: `kernel OOM kill ${podLabel(result, k.podUid)}`,
      title: `+${(k.tMs / 1000).toFixed(1)} s: kernel OOM kill recorded in ${
        podLabel(result, k.podUid)
      } (oom_kill +${k.newKills})`,
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

/**
 * An action that left its pod less than its grace period before the kernel's kill: the
 * grace period it needed, shaded from the action, and what it got, in words. The pod's
 * shutdown was cut short by the SIGKILL (issue 21: the README's own showcase, 6 s of 15 s).
 */
function graceShortfalls(
  result: ReplayResult,
  plotBottom: number,
  x: (tMs: number) => number,
): string[] {
  const out: string[] = [];
  for (const action of result.actions) {
    const kill = result.recordedOomKills.find((k) =>
      k.podUid === action.victimUid && k.tMs >= action.tMs
    );
    if (kill === undefined) continue;
    const graceSeconds = result.podGraceSeconds.get(action.victimUid) ?? DEFAULT_GRACE_SECONDS;
    const leadSeconds = (kill.tMs - action.tMs) / 1000;
    if (leadSeconds >= graceSeconds) continue;
    const from = x(action.tMs);
    const to = x(Math.min(action.tMs + graceSeconds * 1000, result.durationMs));
    const text = `only ${leadSeconds.toFixed(1)} s of its ${graceSeconds} s grace period ` +
      "before the kernel's kill";
    const right = from > LEFT + PLOT_WIDTH * 0.5;
    // In the time-left panel (the second), near its top: time left against grace.
    const textY = MARKER_BAND + PANEL_HEIGHT + PANEL_GAP + 14;
    out.push(
      `<g class="grace-short" data-t-ms="${action.tMs}"><title>${escapeHtml(text)}</title>` +
        `<rect x="${from}" y="${MARKER_BAND}" width="${Math.max(0, to - from)}" height="${
          plotBottom - MARKER_BAND
        }"/>` +
        `<text x="${right ? from - 4 : from + 4}" y="${textY}" text-anchor="${
          right ? "end" : "start"
        }">${escapeHtml(text)}</text></g>`,
    );
  }
  return out;
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
svg .legend { font-size: 10.5px; }
svg .legend.heading { font-weight: 600; }
svg .grace-short rect { fill: #d62728; fill-opacity: 0.08; }
svg .grace-short text { fill: #b01c1c; font-weight: 600; }
.replay-body { display: flex; flex-wrap: wrap; align-items: flex-start; gap: 12px; }
.replay-body svg { flex: none; }
pre.report { flex: 1 1 300px; margin: 0; background: #f6f6f6; padding: 8px; white-space: pre-wrap; }
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
