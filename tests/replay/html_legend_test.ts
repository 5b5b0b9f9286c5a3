// Issue 21: the replay page's legend, fit and markers, as headless Chromium draws them at
// the widths people use (1100 and 1400 px) and 1000 px of height: line-style samples in
// distinct colours, no legend text cut off, the x axis and the summary above the fold, the
// action marker in a replay's words ("would delete"), and an action that left the pod less
// than its grace period before the kernel's kill shown as such.
import assert from "node:assert/strict";
import { type Config, DEFAULTS } from "../../src/config.ts";
import { getLogger } from "../../src/observe/log.ts";
import { renderReplayHtml } from "../../src/replay/html.ts";
import { replay } from "../../src/replay/replay.ts";
import { parseTrace } from "../../src/replay/trace.ts";
import { CHROMIUM, tool } from "../tools.ts";
import { probeInChromium } from "./chromium_probe.ts";

const chromium = tool(CHROMIUM);
const config: Config = { ...DEFAULTS, nodeName: "vm-node" };
const TRACES = ["6.12-leak.jsonl", "6.12-pg-small-swap.jsonl", "6.12-thrash.jsonl"];

async function page(name: string): Promise<string> {
  const path = new URL(`../fixtures/traces/${name}`, import.meta.url);
  const trace = parseTrace(await Deno.readTextFile(path), name);
  const result = await replay(trace, config, getLogger(["html-legend-test-silent"]));
  return renderReplayHtml(result, trace.header, config, name);
}

/** Runs in the page: where things landed, in viewport pixels. */
const MEASURE = `
const rect = (el) => { const r = el.getBoundingClientRect(); return { left: r.left, right: r.right, top: r.top, bottom: r.bottom }; };
const svg = document.querySelector("svg.replay-figure");
const out = {
  innerWidth, innerHeight,
  svg: rect(svg),
  legends: [...svg.querySelectorAll("text.legend")].map((t) => ({ text: t.lastChild.textContent, title: t.querySelector("title")?.textContent ?? "", ...rect(t) })),
  samples: [...svg.querySelectorAll("g.legend-entry")].map((g) => {
    const line = g.querySelector("line.legend-sample");
    return { text: g.querySelector("text").lastChild.textContent, stroke: getComputedStyle(line).stroke, dash: line.getAttribute("stroke-dasharray") ?? "", width: rect(line).right - rect(line).left };
  }),
  xAxis: rect(svg.querySelector("text.axis-label.x")),
  report: rect(document.querySelector("pre.report")),
  summary: document.querySelector("pre.report").textContent.split("\\n").pop(),
  markers: [...svg.querySelectorAll("g.marker text")].map((t) => ({ text: t.textContent, ...rect(t) })),
  graceShort: [...svg.querySelectorAll("g.grace-short text")].map((t) => ({ text: t.textContent, ...rect(t) })),
};
`;

interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
}
interface Probe {
  innerWidth: number;
  innerHeight: number;
  svg: Box;
  legends: (Box & { text: string; title: string })[];
  samples: { text: string; stroke: string; dash: string; width: number }[];
  xAxis: Box;
  report: Box;
  summary: string;
  markers: (Box & { text: string })[];
  graceShort: (Box & { text: string })[];
}

async function probe(html: string, width: number, dir: string): Promise<Probe> {
  return await probeInChromium(html, MEASURE, {
    dir,
    file: `page-${width}.html`,
    width,
    height: 1000,
    hideScrollbars: true,
  }) as Probe;
}

Deno.test(
  "Chromium at 1100 and 1400 px: the legend has line samples in distinct colours and is never cut off; at 1400×1000 the x axis and the summary are visible",
  { ignore: chromium.skip, sanitizeResources: false },
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "soomkiller-legend-" });
    try {
      for (const name of TRACES) {
        const html = await page(name);
        for (const width of [1100, 1400]) {
          const p = await probe(html, width, dir);
          const at = `${name} at ${width} px`;
          for (const legend of p.legends) {
            assert.ok(
              legend.right <= p.svg.right + 0.5,
              `${at}: "${legend.text}" inside the figure`,
            );
            assert.ok(legend.right <= p.innerWidth, `${at}: "${legend.text}" on screen`);
            assert.ok(!legend.text.endsWith("…"), `${at}: "${legend.title}" is not cut`);
          }
          // Every legend entry shows its line: a sample of the stroke, 20 px or more.
          assert.ok(p.samples.length >= 9, at);
          for (const sample of p.samples) assert.ok(sample.width >= 20, sample.text);
          // Swap, its limit and the plateau estimate: three colours, three line styles.
          const swapKinds = [
            "swap (memory.swap.current)",
            "limit (memory.swap.max)",
            "plateau estimate",
          ]
            .map((text) => p.samples.find((s) => s.text === text)!);
          assert.ok(swapKinds.every((s) => s !== undefined), at);
          assert.equal(new Set(swapKinds.map((s) => s.stroke)).size, 3, `${at}: distinct colours`);
          assert.equal(new Set(swapKinds.map((s) => s.dash)).size, 3, `${at}: distinct styles`);
          for (const marker of p.markers) {
            assert.ok(marker.left >= p.svg.left && marker.right <= p.svg.right, marker.text);
            assert.doesNotMatch(marker.text, /\+[\d.]+ s delete /, "a replay would delete");
          }
          if (width === 1400) {
            // Above the fold of a 1000 px viewport (headless Chromium's own is smaller than
            // its window: the layout does not depend on the height, so measure against 1000).
            assert.ok(p.xAxis.bottom <= 1000, `${at}: x axis at ${p.xAxis.bottom}`);
            assert.match(p.summary, /^summary: /);
            assert.ok(p.report.bottom <= 1000, `${at}: summary at ${p.report.bottom}`);
          }
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "Chromium: the leak trace's action says 'would delete', and shows it left 6.0 s of the pod's 15 s grace period before the kernel's kill; the PostgreSQL one (35 s of 30 s) shows no shortfall",
  { ignore: chromium.skip, sanitizeResources: false },
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "soomkiller-legend-" });
    try {
      const leak = await probe(await page("6.12-leak.jsonl"), 1400, dir);
      assert.deepEqual(leak.markers.map((m) => m.text), [
        "+20.4 s would delete vm/leaker (headroom)",
        "+26.4 s kernel OOM kill vm/leaker",
      ]);
      assert.deepEqual(leak.graceShort.map((g) => g.text), [
        "only 6.0 s of its 15 s grace period before the kernel's kill",
      ]);
      const text = leak.graceShort[0]!;
      assert.ok(text.left >= leak.svg.left && text.right <= leak.svg.right);
      const pg = await probe(await page("6.12-pg-small-swap.jsonl"), 1400, dir);
      assert.equal(pg.markers.filter((m) => m.text.includes("would delete")).length, 1);
      assert.deepEqual(pg.graceShort, []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
