import assert from "node:assert/strict";
import { formatDuration, parseDuration } from "../src/duration.ts";

Deno.test("parseDuration() reads the durations Go writes", () => {
  const table: [string, number][] = [
    ["500ms", 500],
    ["10s", 10_000],
    ["1m30s", 90_000],
    ["1.5s", 1_500],
    ["1h", 3_600_000],
    ["2h45m", 9_900_000],
    ["0", 0],
    ["0s", 0],
    ["250us", 0.25],
  ];
  for (const [text, ms] of table) assert.equal(parseDuration(text), ms, text);
});

Deno.test("parseDuration() rejects what Go rejects", () => {
  for (const text of ["", "10", "s", "10 s", "-1s", "1x", "1s2", "abc", "1m 30s"]) {
    assert.equal(parseDuration(text), null, JSON.stringify(text));
  }
});

Deno.test("formatDuration() round-trips through parseDuration()", () => {
  for (const ms of [0, 1, 500, 1_000, 10_000, 90_000, 3_600_000, 3_661_500]) {
    assert.equal(parseDuration(formatDuration(ms)), ms, String(ms));
  }
  assert.equal(formatDuration(90_000), "1m30s");
  assert.equal(formatDuration(500), "500ms");
});
