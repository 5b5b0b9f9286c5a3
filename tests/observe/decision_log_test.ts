import assert from "node:assert/strict";
import { LogGate, REPEAT_LOG_INTERVAL_MS } from "../../src/observe/log_gate.ts";

Deno.test("LogGate: a key once per interval on the time it is given; reopen lets it through", () => {
  const gate = new LogGate();
  assert.equal(gate.allows("swap counters", 0), true);
  assert.equal(gate.allows("swap counters", REPEAT_LOG_INTERVAL_MS - 1), false);
  assert.equal(gate.allows("meminfo", 1), true, "keys are independent");
  assert.equal(gate.allows("swap counters", REPEAT_LOG_INTERVAL_MS), true);
  gate.reopen("swap counters");
  assert.equal(gate.allows("swap counters", REPEAT_LOG_INTERVAL_MS + 1), true);
  const quiet = new LogGate(3_000);
  assert.equal(quiet.allows("no candidate", 10_000), true);
  assert.equal(quiet.allows("no candidate", 12_999), false);
  assert.equal(quiet.allows("no candidate", 13_000), true);
});

Deno.test("LogGate: its memory is bounded (a thousand keys, then it starts afresh)", () => {
  const gate = new LogGate();
  for (let i = 0; i < 1_000; i++) assert.equal(gate.allows(`pod ${i}`, 0), true);
  assert.equal(gate.allows("pod 0", 1), false);
  assert.equal(gate.allows("pod 1000", 1), true, "the 1001st key clears the rest");
  assert.equal(gate.allows("pod 0", 2), true);
});
