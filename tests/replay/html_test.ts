import assert from "node:assert/strict";
import { getLogger } from "../../src/observe/log.ts";
import { type Config, DEFAULTS } from "../../src/config.ts";
import {
  escapeHtml,
  estimatorPoints,
  renderPage,
  renderReplayHtml,
  renderReplaySection,
} from "../../src/replay/html.ts";
import { parseSubcommand, runReplay } from "../../src/replay/commands.ts";
import { replay, type ReplayResult, type ReplaySample } from "../../src/replay/replay.ts";
import { parseTrace, type Trace } from "../../src/replay/trace.ts";
import { CHROMIUM, tool } from "../tools.ts";
import { probeInChromium } from "./chromium_probe.ts";

const chromium = tool(CHROMIUM);
const silent = getLogger(["replay-html-test-silent"]);
const config: Config = { ...DEFAULTS, nodeName: "vm-node" };
const TRACES = ["6.12-leak.jsonl", "6.12-thrash.jsonl", "7.3-thrash.jsonl"];
const tracePath = (name: string) => new URL(`../fixtures/traces/${name}`, import.meta.url);

async function replayed(name: string): Promise<{ trace: Trace; result: ReplayResult }> {
  const trace = parseTrace(await Deno.readTextFile(tracePath(name)), name);
  return { trace, result: await replay(trace, config, silent) };
}

const Y_LABELS = [
  "swap (MiB)",
  "time left (s)",
  "swap I/O (pages/s)",
  "PSI full avg10 (%)",
  "SwapFree (MiB)",
];

Deno.test("renderReplayHtml() writes one self-contained page: no script, no link, nothing fetched", async () => {
  const { trace, result } = await replayed("6.12-leak.jsonl");
  const html = renderReplayHtml(result, trace.header, config, "leak");
  assert.match(html, /^<!doctype html>/);
  assert.doesNotMatch(html, /<script|<link|<img|<iframe|\bsrc=|\bhref=|url\(/i);
  // The one URL is the SVG namespace, an identifier that is never fetched.
  assert.deepEqual(html.match(/https?:\/\/[^"\s<]+/g), ["http://www.w3.org/2000/svg"]);
  for (const label of Y_LABELS) assert.ok(html.includes(`>${escapeHtml(label)}</text>`), label);
});

Deno.test("estimatorPoints() is the one adapter from the headroom estimate to the page", async () => {
  // The estimator's real output on the leak trace, whatever fields it grows.
  const { result } = await replayed("6.12-leak.jsonl");
  const sample = result.samples.find((s) => s.headroom?.some((c) => c.secondsLeft !== null))!;
  assert.ok(sample, "the leak trace has a headroom estimate");
  const points = estimatorPoints(sample);
  assert.equal(points.length, sample.headroom!.length);
  sample.headroom!.forEach((c, i) => {
    assert.deepEqual(points[i], {
      key: `${c.podUid}/${c.containerId}`,
      podUid: c.podUid,
      tMs: sample.tMs,
      swapBytes: c.swapBytes,
      limitBytes: c.swapLimitBytes,
      secondsLeft: c.secondsLeft,
      plateauBytes: c.plateauBytes,
    });
  });
  const noScan: ReplaySample = { ...sample, headroom: undefined };
  assert.deepEqual(estimatorPoints(noScan), []);
});

Deno.test("replay --html FILE is parsed, and runReplay() writes the page", async () => {
  const env = { get: () => undefined };
  const parsed = parseSubcommand("replay", ["t.jsonl", "--html", "out.html"], env);
  assert.equal(parsed.kind === "replay" && parsed.htmlPath, "out.html");
  const eq = parseSubcommand("replay", ["t.jsonl", "--html=o.html", "--psi-threshold=20"], env);
  assert.ok(
    eq.kind === "replay" && eq.htmlPath === "o.html" && eq.config.psiThresholdPercent === 20,
  );
  const plain = parseSubcommand("replay", ["t.jsonl"], env);
  assert.equal(plain.kind === "replay" && plain.htmlPath, null);
  assert.deepEqual(parseSubcommand("replay", ["t.jsonl", "--html"], env), {
    kind: "error",
    message: "Flag --html needs a value: the page to write",
  });

  const dir = await Deno.makeTempDir({ prefix: "soomkiller-html-" });
  const log = console.log;
  const error = console.error;
  try {
    console.log = () => {};
    console.error = () => {};
    const code = await runReplay({
      config,
      tracePath: tracePath("6.12-leak.jsonl").pathname,
      pollIntervalGiven: false,
      htmlPath: `${dir}/replay.html`,
    });
    assert.equal(code, 0);
    const html = await Deno.readTextFile(`${dir}/replay.html`);
    assert.match(html, /class="marker action"/);
  } finally {
    console.log = log;
    console.error = error;
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * Runs in the page, in Chromium: where each marker and axis label landed, so the test can
 * check what is on screen, not only what the file says.
 */
const MEASURE = `
const out = [...document.querySelectorAll("section.replay")].map((section) => {
  const svg = section.querySelector("svg").getBoundingClientRect();
  const box = (el) => { const r = el.getBoundingClientRect(); return { left: r.left - svg.left, right: r.right - svg.left, top: r.top - svg.top, width: r.width, height: r.height }; };
  return {
    svgWidth: svg.width,
    markers: [...section.querySelectorAll("g.marker")].map((g) => ({
      kind: g.classList.contains("action") ? "action" : "oom-kill",
      tMs: Number(g.dataset.tMs),
      line: box(g.querySelector("line")),
      label: { ...box(g.querySelector("text")), text: g.querySelector("text").textContent },
    })),
    axisLabels: [...section.querySelectorAll("text.axis-label")].map((t) => ({ text: t.textContent, ...box(t) })),
  };
});
`;

interface Probe {
  svgWidth: number;
  markers: {
    kind: string;
    tMs: number;
    line: { left: number; width: number };
    label: { left: number; right: number; text: string; width: number };
  }[];
  axisLabels: { text: string; width: number; height: number }[];
}

Deno.test(
  "Chromium renders each shipped trace's page with one marker per action and per kernel OOM kill, on the time axis, and unit-labelled axes",
  {
    ignore: chromium.skip,
    sanitizeResources: false,
  },
  async () => {
    const runs = await Promise.all(TRACES.map(replayed));
    const sections = runs.map(({ trace, result }, i) =>
      renderReplaySection(result, trace.header, config, TRACES[i]!)
    );
    const dir = await Deno.makeTempDir({ prefix: "soomkiller-html-" });
    try {
      const probes = await probeInChromium(renderPage("three traces", sections), MEASURE, {
        dir,
        file: "page.html",
        width: 1100,
        height: 1000,
      }) as Probe[];
      assert.equal(probes.length, TRACES.length);

      probes.forEach((probe, i) => {
        const { result } = runs[i]!;
        const name = TRACES[i]!;
        const actions = probe.markers.filter((m) => m.kind === "action");
        const kills = probe.markers.filter((m) => m.kind === "oom-kill");
        assert.equal(actions.length, result.actions.length, `${name}: one marker per action`);
        assert.equal(kills.length, result.recordedOomKills.length, `${name}: one per OOM kill`);
        actions.forEach((marker, j) => {
          const action = result.actions[j]!;
          assert.equal(marker.tMs, action.tMs);
          assert.ok(marker.label.text.includes(action.victim), marker.label.text);
          assert.ok(marker.label.text.includes(action.trigger), marker.label.text);
        });
        for (const marker of probe.markers) {
          // On the time axis: x grows with time, inside the plot, label fully on the page.
          const expected = 80 + (marker.tMs / result.durationMs) * (1000 - 80 - 200);
          assert.ok(Math.abs(marker.line.left - expected) < 2, `${name} +${marker.tMs} ms at x`);
          assert.ok(marker.label.width > 20, "the label is drawn");
          assert.ok(
            marker.label.left >= 0 && marker.label.right <= probe.svgWidth,
            "label on page",
          );
        }
        const labels = probe.axisLabels.map((l) => l.text);
        assert.deepEqual(labels, [...Y_LABELS, "time since the start of the trace (s)"]);
        for (const label of probe.axisLabels) {
          assert.match(label.text, /\([^)]+\)$/, "every axis has its unit");
          // The y labels are turned 90°: their extent is their height.
          assert.ok(Math.max(label.width, label.height) > 40, `${label.text} is drawn`);
        }
      });
      assert.ok(runs.filter((r) => r.result.actions.length > 0).length >= 2, "traces with actions");
      // The leak trace: the headroom action, then the kernel's kill 9 s later.
      assert.deepEqual(probes[0]!.markers.map((m) => m.kind), ["action", "oom-kill"]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
