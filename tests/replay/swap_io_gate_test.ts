// The swap-io trigger's PSI gate on a real 7.3 kernel trace (per-pod pswpin/pswpout):
// attribution ranks the candidates; only --swap-io-attribution-qualifies lets a pod's own
// swap I/O waive --psi-threshold.
import assert from "node:assert/strict";
import { getLogger } from "../../src/observe/log.ts";
import { type Config, DEFAULTS } from "../../src/config.ts";
import { replay } from "../../src/replay/replay.ts";
import { parseTrace } from "../../src/replay/trace.ts";

const silent = getLogger(["replay-test-silent"]);
const config = (overrides: Partial<Config> = {}): Config => ({
  ...DEFAULTS,
  nodeName: "vm-node",
  headroomTrigger: false,
  ...overrides,
});

async function thrash73() {
  const path = new URL("../fixtures/traces/7.3-thrash.jsonl", import.meta.url);
  return parseTrace(await Deno.readTextFile(path), "7.3-thrash.jsonl");
}

/** full avg10 the evidence quotes, percent. */
function fullAvg10Of(evidence: string): number {
  const match = /full avg10 ([\d.]+)%/.exec(evidence);
  assert.ok(match, evidence);
  return Number(match[1]);
}

Deno.test("swap-io by default: a pod qualifies only at full avg10 ≥ --psi-threshold, however much it swaps", async () => {
  const trace = await thrash73();
  const result = await replay(trace, config(), silent);
  const first = result.actions[0];
  assert.ok(first, "the thrasher passes 50 % full avg10 in this trace");
  assert.equal(first.trigger, "swap-io");
  assert.ok(
    fullAvg10Of(first.evidence) >= DEFAULTS.psiThresholdPercent,
    `acted at ${first.evidence}`,
  );
  // Above the pod's peak full avg10 nobody qualifies: its own swap I/O waives nothing.
  const gated = await replay(trace, config({ psiThresholdPercent: 99 }), silent);
  assert.deepEqual(gated.actions, []);
});

Deno.test("--swap-io-attribution-qualifies: the pod's own swap I/O qualifies it below the PSI gate, earlier", async () => {
  const trace = await thrash73();
  const gated = await replay(trace, config(), silent);
  const waived = await replay(trace, config({ swapIoAttributionQualifies: true }), silent);
  const early = waived.actions[0];
  assert.ok(early);
  assert.equal(early.victim, "vm/thrasher");
  assert.ok(fullAvg10Of(early.evidence) < DEFAULTS.psiThresholdPercent, early.evidence);
  assert.ok(early.tMs < gated.actions[0]!.tMs);
  const stillWaived = await replay(
    trace,
    config({ swapIoAttributionQualifies: true, psiThresholdPercent: 99 }),
    silent,
  );
  assert.equal(stillWaived.actions[0]?.victim, "vm/thrasher");
});
