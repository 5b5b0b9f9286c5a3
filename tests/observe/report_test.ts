import assert from "node:assert/strict";
import { summaryMessage } from "../../src/observe/observability.ts";
import { median, ReportAccumulator } from "../../src/observe/report.ts";
import { actedTick, candidate, observation, podMeta, podStats } from "./helpers.ts";

Deno.test("median() takes the middle value, or the mean of the middle two", () => {
  assert.equal(median([]), null);
  assert.equal(median([7]), 7);
  assert.equal(median([1, 2, 10]), 2);
  assert.equal(median([1, 2, 4, 10]), 3);
});

Deno.test("ReportAccumulator sums up one interval: rate min/median/max, candidates, actions, ticks", () => {
  const report = new ReportAccumulator(60_000, 0);
  const db = candidate(podStats("u1", 1, 60), podMeta("u1", "shop", "db-0"));
  const web = candidate(podStats("u2", 1, 55), podMeta("u2", "shop", "web-1"));
  const rates = [null, 40, 2600, 3000, 2800, 10];
  let nowMs = 0;
  for (const rate of rates) {
    nowMs += 1000;
    assert.equal(report.add({ observation: observation(rate) }, nowMs), null);
  }
  assert.equal(report.add({ observation: null }, nowMs += 1000), null);
  assert.equal(
    report.add(
      actedTick(observation(2900, 10_000, 0, "sustained"), [db, web], { kind: "dry-run" }),
      nowMs += 1000,
    ),
    null,
  );
  assert.equal(
    report.add(
      actedTick(observation(2700, 10_000, 0, "sustained"), [db], {
        kind: "skipped",
        why: "its cgroup is gone",
      }),
      nowMs += 1000,
    ),
    null,
  );
  const summary = report.add({ observation: observation(20) }, 60_000);
  assert.deepEqual(summary, {
    intervalSeconds: 60,
    ticks: 10,
    failedSamples: 1,
    rateMinPagesPerSecond: 10,
    rateMedianPagesPerSecond: 2650, // 10 20 40 2600 | 2700 2800 2900 3000
    rateMaxPagesPerSecond: 3000,
    scans: 2,
    candidatesMax: 2,
    actions: { "dry-run": 1, skipped: 1 },
  });
});

Deno.test("ReportAccumulator starts afresh after each summary", () => {
  const report = new ReportAccumulator(10_000, 0);
  report.add({ observation: observation(5000) }, 5_000);
  assert.ok(report.add({ observation: observation(100) }, 10_000));
  assert.equal(report.add({ observation: observation(1) }, 15_000), null);
  const next = report.add({ observation: observation(3) }, 20_500);
  assert.deepEqual(next, {
    intervalSeconds: 10.5,
    ticks: 2,
    failedSamples: 0,
    rateMinPagesPerSecond: 1,
    rateMedianPagesPerSecond: 2,
    rateMaxPagesPerSecond: 3,
    scans: 0,
    candidatesMax: 0,
    actions: {},
  });
});

Deno.test("ReportAccumulator reports null rates when no rate was measured", () => {
  const report = new ReportAccumulator(1000, 0);
  const summary = report.add({ observation: null }, 1000)!;
  assert.equal(summary.rateMinPagesPerSecond, null);
  assert.equal(summary.rateMedianPagesPerSecond, null);
  assert.equal(summary.rateMaxPagesPerSecond, null);
  assert.equal(summary.failedSamples, 1);
});

Deno.test("the summary line is words only: plurals right, the actions spelt out, no JSON (issue 21)", () => {
  const base = {
    intervalSeconds: 60,
    ticks: 60,
    failedSamples: 0,
    rateMinPagesPerSecond: 0,
    rateMedianPagesPerSecond: 12.4,
    rateMaxPagesPerSecond: 40,
    scans: 1,
    candidatesMax: 1,
    actions: {},
  };
  assert.equal(
    summaryMessage(base),
    "Last 60 s: swap I/O 0/12/40 pages/s (min/median/max), 60 ticks, 1 pod scan, up to 1 " +
      "candidate, no action",
  );
  assert.equal(
    summaryMessage({
      ...base,
      ticks: 1,
      failedSamples: 1,
      rateMinPagesPerSecond: null,
      rateMedianPagesPerSecond: null,
      rateMaxPagesPerSecond: null,
      scans: 0,
      candidatesMax: 2,
      actions: { deleted: 1, "dry-run": 2 },
    }),
    "Last 60 s: no swap I/O rate measured, 1 tick, 1 unreadable sample, 0 pod scans, up to 2 " +
      "candidates, actions: 1 deleted, 2 dry-run",
  );
});
