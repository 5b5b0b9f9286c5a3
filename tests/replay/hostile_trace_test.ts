/**
 * `replay` and `replay --html` on any trace (issue 20, item 4): a 15-minute recording of a
 * busy node renders, every header field is checked with an error naming the line, and names
 * from the trace reach the terminal escaped, as the logger writes them.
 */
import assert from "node:assert/strict";
import { type Config, DEFAULTS } from "../../src/config.ts";
import { getLogger } from "../../src/observe/log.ts";
import { renderReplayHtml } from "../../src/replay/html.ts";
import { formatReplay, replay } from "../../src/replay/replay.ts";
import { parseTrace, TRACE_VERSION } from "../../src/replay/trace.ts";

const silent = getLogger(["replay-hostile-test-silent"]);
const MiB = 1 << 20;
const GiB = 1 << 30;

/** A header line with `fields` over the usual ones. */
function headerLine(fields: Record<string, unknown> = {}): string {
  return JSON.stringify({
    kind: "header",
    version: TRACE_VERSION,
    pollIntervalMs: 1000,
    nodeName: "busy-node",
    startedAt: "2026-12-01T00:00:00.000Z",
    ...fields,
  });
}

/**
 * A busy node: `pods` pods of one container each over `ticks` one-second ticks, every
 * container's swap growing toward its limit at its own pace, a pods line naming them all.
 */
function busyTrace(pods: number, ticks: number, name = (i: number) => `app-${i}`): string {
  const uid = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
  const lines = [headerLine()];
  lines.push(JSON.stringify({
    kind: "pods",
    tMs: 0,
    pods: Array.from({ length: pods }, (_, i) => ({
      uid: uid(i),
      namespace: "load",
      name: name(i),
      nodeName: "busy-node",
      terminating: false,
      mirrorOfUid: null,
      priority: null,
      terminationGracePeriodSeconds: 30,
      annotations: {},
    })),
  }));
  let pages = 0;
  for (let t = 0; t < ticks; t++) {
    pages += 3_000;
    lines.push(JSON.stringify({
      kind: "tick",
      tMs: t * 1000,
      swapInPages: pages,
      swapOutPages: pages,
      oomKills: 0,
      meminfo: {
        memTotalBytes: 64 * GiB,
        memAvailableBytes: GiB,
        swapTotalBytes: 64 * GiB,
        swapFreeBytes: 32 * GiB,
      },
      pods: Array.from({ length: pods }, (_, i) => {
        const swap = Math.round(Math.min(255, (t * (1 + (i % 7))) / 10) * MiB);
        return {
          uid: uid(i),
          cgroupPath: `/kubepods.slice/pod${uid(i)}`,
          qosClass: "burstable",
          swapCurrentBytes: swap,
          memoryCurrentBytes: 256 * MiB,
          memoryMaxBytes: 256 * MiB,
          fullAvg10Percent: (i * 13 + t) % 100,
          someAvg10Percent: (i * 17 + t) % 100,
          oomKillCount: 0,
          containers: [{
            id: `c${String(i).padStart(63, "0")}`,
            swapCurrentBytes: swap,
            swapMaxBytes: 256 * MiB,
            memoryCurrentBytes: 256 * MiB,
            memoryMaxBytes: 256 * MiB,
          }],
        };
      }),
    }));
  }
  return lines.join("\n") + "\n";
}

const config: Config = { ...DEFAULTS, nodeName: "busy-node" };

Deno.test("replay --html renders a 15-minute trace of 100 containers (900 ticks): no stack overflow, a bounded page", async () => {
  const trace = parseTrace(busyTrace(100, 900), "busy.jsonl");
  const result = await replay(trace, config, silent);
  const html = renderReplayHtml(result, trace.header, config, "busy");
  assert.match(html, /^<!doctype html>/);
  // Downsampled per pixel column: no polyline holds more than two points per column of the
  // 720-pixel plot, however many ticks the trace has.
  for (const match of html.matchAll(/points="([^"]*)"/g)) {
    assert.ok(match[1]!.split(" ").length <= 2 * 720 + 2, "points per polyline");
  }
  assert.ok(html.length < 16 * MiB, `page of ${html.length} bytes`);
});

Deno.test("a trace's header is checked field by field, with an error naming the line", () => {
  const tick = JSON.stringify({
    kind: "tick",
    tMs: 0,
    swapInPages: 0,
    swapOutPages: 0,
    meminfo: { memTotalBytes: 1, memAvailableBytes: 1, swapTotalBytes: 1, swapFreeBytes: 1 },
    pods: [],
  });
  const table: [Record<string, unknown>, RegExp][] = [
    [
      { nodeName: 42 },
      /line 1: "nodeName" must be a node name \(1 to 253 characters, no control character\), not 42$/,
    ],
    [{ nodeName: "" }, /line 1: "nodeName" must be a node name/],
    [{ nodeName: "a\x1b[2J" }, /line 1: "nodeName" must be a node name/],
    [{ startedAt: "yesterday" }, /line 1: "startedAt" must be an ISO 8601 time, not "yesterday"$/],
    [{ startedAt: "2026-13-45T99:00:00Z" }, /line 1: "startedAt" must be an ISO 8601 time/],
    [{ startedAt: 5 }, /line 1: "startedAt" must be an ISO 8601 time, not 5$/],
    [
      { pollIntervalMs: [5] },
      /line 1: "pollIntervalMs" must be a number of ms from 10 to 60000, not \[5\]$/,
    ],
    [{ pollIntervalMs: "1000" }, /line 1: "pollIntervalMs" must be a number of ms/],
    [{ pollIntervalMs: 0 }, /line 1: "pollIntervalMs" must be a number of ms/],
    [{ pollIntervalMs: 1e12 }, /line 1: "pollIntervalMs" must be a number of ms/],
    [{ version: "1" }, /line 1: version "1", expected 1$/],
    [{ note: { x: 1 } }, /line 1: "note" must be text, not \{"x":1\}$/],
  ];
  for (const [fields, pattern] of table) {
    assert.throws(
      () => parseTrace(`${headerLine(fields)}\n${tick}\n`, "t.jsonl"),
      (error: unknown) => {
        assert.ok(error instanceof Error && error.name === "Error", JSON.stringify(fields));
        assert.match(error.message, /^Cannot read t\.jsonl /);
        assert.match(error.message, pattern);
        return true;
      },
      JSON.stringify(fields),
    );
  }
  // A second header line is not a tick either.
  assert.throws(
    () => parseTrace(`${headerLine()}\n${tick}\n${headerLine()}\n`, "t.jsonl"),
    /^Error: Cannot read t\.jsonl line 3: a second header/,
  );
});

Deno.test("what replay reads of a tick's containers and a pods line is checked too, naming the line and the field", () => {
  const trace = busyTrace(1, 2).split("\n");
  const table: [(line: Record<string, unknown>) => void, number, RegExp][] = [
    [
      (l) => ((l.pods as { containers: unknown[] }[])[0]!.containers = [5]),
      3,
      /"pods\[0\]\.containers\[0\]" has no "id"/,
    ],
    [
      (
        l,
      ) => ((l.pods as { containers: Record<string, unknown>[] }[])[0]!.containers[0]!
        .swapMaxBytes = "x"),
      3,
      /"pods\[0\]\.containers\[0\]\.swapMaxBytes" is neither a number nor null/,
    ],
    [
      (l) => ((l.pods as Record<string, unknown>[])[0]!.terminating = "yes"),
      2,
      /"pods\[0\]\.terminating" is not a boolean/,
    ],
    [
      (l) => ((l.pods as Record<string, unknown>[])[0]!.annotations = { a: 1 }),
      2,
      /"pods\[0\]\.annotations" is not a mapping of strings/,
    ],
    [
      (l) => ((l.pods as Record<string, unknown>[])[0]!.terminationGracePeriodSeconds = "30"),
      2,
      /"pods\[0\]\.terminationGracePeriodSeconds" is not a number or null/,
    ],
  ];
  for (const [spoil, lineNumber, pattern] of table) {
    const lines = [...trace];
    const line = JSON.parse(lines[lineNumber - 1]!);
    spoil(line);
    lines[lineNumber - 1] = JSON.stringify(line);
    assert.throws(
      () => parseTrace(lines.join("\n"), "t.jsonl"),
      (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.match(error.message, new RegExp(`^Cannot read t\\.jsonl line ${lineNumber}: `));
        assert.match(error.message, pattern);
        return true;
      },
    );
  }
});

Deno.test("replay's text output escapes control and escape sequences in names from the trace", async () => {
  const evil = (i: number) => i === 0 ? "a\x1b]0;pwned\x07\x1b[2J\r\nsummary: fake" : `app-${i}`;
  const trace = parseTrace(
    busyTrace(2, 60, evil).replace(/"name":"a[^"]*"/, (m) => m),
    "evil.jsonl",
  );
  // The name as JSON carried it (escape sequences included), then the replay's report.
  const named = trace.lines.find((l) => l.kind === "pods");
  assert.ok(named?.kind === "pods" && named.pods[0]!.name.includes("\x1b"));
  const result = await replay(trace, { ...config, psiThresholdPercent: 1 }, silent);
  assert.ok(result.actions.length > 0, "the replay acted");
  const text = formatReplay(result);
  // deno-lint-ignore no-control-regex -- the point: no control character reaches the terminal
  assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  assert.equal(text.split("\n").filter((l) => l.startsWith("summary:")).length, 1);
});
