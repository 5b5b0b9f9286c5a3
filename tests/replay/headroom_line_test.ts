// The headroom decision line says what the estimator followed: the footprint where the trace
// recorded memory.stat, swap where it did not, with the level the kernel kills at and how
// long the growth was seen.
import assert from "node:assert/strict";
import { DEFAULTS } from "../../src/config.ts";
import { replay } from "../../src/replay/replay.ts";
import { parseTrace } from "../../src/replay/trace.ts";
import { RecordingLog } from "../fakes/recording_log.ts";

async function headroomLine(name: string) {
  const path = new URL(`../fixtures/traces/${name}`, import.meta.url);
  const log = new RecordingLog();
  await replay(parseTrace(await Deno.readTextFile(path), name), {
    ...DEFAULTS,
    nodeName: "vm-node",
  }, log.logger);
  const line = log.lines.find((l) =>
    l.properties.trigger === "headroom" && "outcome" in l.properties
  );
  assert.ok(line, `${name}: a headroom decision line`);
  return line.properties;
}

Deno.test("the headroom line of a trace with memory.stat: the footprint, above swap, under its limit", async () => {
  const p = await headroomLine("6.12-pg-disk-small.jsonl");
  assert.equal(p.levelSource, "footprint");
  assert.ok(Number(p.levelBytes) > Number(p.swapBytes), JSON.stringify(p));
  assert.ok(Number(p.levelLimitBytes) > Number(p.levelBytes), JSON.stringify(p));
  assert.ok(Number(p.observedSeconds) >= 7, JSON.stringify(p));
});

Deno.test("the headroom line of a trace without memory.stat: swap against the swap limit", async () => {
  const p = await headroomLine("6.12-leak.jsonl");
  assert.equal(p.levelSource, "memory.swap.current");
  assert.equal(p.levelBytes, p.swapBytes);
  assert.equal(p.levelLimitBytes, p.swapLimitBytes);
});
