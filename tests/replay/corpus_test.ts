// The labelled corpus through the real Agent, in milliseconds: every trace in
// tests/fixtures/traces/ (real kernels in qemu, agent off) with what the kernel did to its
// pressure pod, replayed under four policies side by side. The defaults must convert every
// kernel kill, in time, on the right pod, and never act on a pod that lived.
import assert from "node:assert/strict";
import { HEADROOM_EVIDENCE_SECONDS } from "../../src/decide/headroom_settings.ts";
import {
  type CorpusCase,
  fillStartMs,
  firstTickAtMs,
  formatCorpus,
  formatSideBySide,
  judge,
  kernelKillAtMs,
  loadCorpus,
  type PolicyRow,
  sideBySide,
} from "./policies.ts";

const cases = await loadCorpus();
let table: { rows: PolicyRow[]; text: string } | null = null;
async function policyTable() {
  if (table === null) {
    const rows = await sideBySide(cases);
    table = { rows, text: formatSideBySide(cases, rows) };
  }
  return table;
}

Deno.test("corpus: every label agrees with its trace", () => {
  assert.ok(cases.length >= 10, "the corpus has its traces");
  for (const c of cases) {
    const killMs = kernelKillAtMs(c.parsed, c.pressureUid);
    const last = c.parsed.lines.findLast((l) => l.kind === "tick")!;
    if (c.truth.kernel === "oom-kill") {
      assert.ok(killMs !== null, `${c.name}: the trace records the kernel's kill`);
      assert.equal(Math.round(killMs / 100) / 10, c.truth.atSeconds, c.name);
    } else {
      assert.equal(killMs, null, `${c.name}: no kernel kill in the trace`);
      assert.equal(Math.round(last.tMs / 100) / 10, c.truth.untilSeconds, c.name);
      if (c.truth.end === "run") assert.ok(last.tMs >= 180_000, `${c.name}: a run of ≥ 3 min`);
    }
  }
});

Deno.test("corpus: the defaults have 0 false kills, 0 wrong victims and 0 misses", async () => {
  const { rows, text } = await policyTable();
  console.log(`\n${formatCorpus(cases)}\n\n${text}`);
  const defaults = rows.find((r) => r.policy === "agent defaults")!;
  assert.equal(defaults.falseKills, 0, text);
  assert.equal(defaults.wrongVictims, 0, text);
  assert.equal(defaults.misses, 0, text);
  assert.equal(defaults.converted, cases.filter((c) => c.truth.kernel === "oom-kill").length);
});

/**
 * The lead each kernel kill leaves: the pod's grace period, wherever the trace leaves that
 * much time after the evidence window; where the fill is faster than evidence + grace, the
 * physical bound: the action comes once the evidence is in. The fill starts when the pod's
 * swap leaves the bottom 5 % of its limit; the estimator's evidence then takes at most
 * HEADROOM_EVIDENCE_SECONDS (growth span + one tolerated pause).
 */
function requiredLead(c: CorpusCase): { seconds: number; why: string } {
  const killMs = kernelKillAtMs(c.parsed, c.pressureUid)!;
  const seenMs = fillStartMs(c.parsed, c.pressureUid, killMs);
  const evidenceMs = firstTickAtMs(
    c.parsed,
    (tick) => tick.tMs >= seenMs + HEADROOM_EVIDENCE_SECONDS * 1000,
  )!;
  const afterEvidence = (killMs - evidenceMs) / 1000;
  if (afterEvidence >= c.grace) return { seconds: c.grace, why: `its grace period (${c.grace} s)` };
  return {
    seconds: afterEvidence,
    why: `the physical bound: the fill starts at ${seenMs / 1000} s, ` +
      `${HEADROOM_EVIDENCE_SECONDS} s of evidence in by ${evidenceMs / 1000} s, kill at ` +
      `${killMs / 1000} s: ${afterEvidence.toFixed(1)} s < grace ${c.grace} s`,
  };
}

Deno.test("corpus: the defaults act with the pod's grace period to spare, or as soon as the evidence allows", async () => {
  const { rows } = await policyTable();
  const defaults = rows.find((r) => r.policy === "agent defaults")!;
  cases.forEach((c, i) => {
    if (c.truth.kernel !== "oom-kill") return;
    const cell = defaults.cells[i]!;
    const needed = requiredLead(c);
    assert.equal(cell.verdict, "converted", c.name);
    assert.ok(
      // The table rounds leads to 0.1 s.
      cell.leadSeconds !== null && cell.leadSeconds + 0.05 >= needed.seconds,
      `${c.name}: lead ${cell.leadSeconds} s, needs ${needed.seconds.toFixed(1)} s: ${needed.why}`,
    );
  });
});

Deno.test("corpus: the defaults' headroom and node-swap-free triggers never act on a pod that lived", async () => {
  const { rows, text } = await policyTable();
  const row = rows.find((r) => r.policy === "agent defaults")!;
  cases.forEach((c, i) => {
    if (c.truth.kernel !== "lived") return;
    const cell = row.cells[i]!;
    assert.notEqual(cell.trigger, "headroom", `${c.name}\n${text}`);
    assert.notEqual(cell.trigger, "node-swap-free", `${c.name}\n${text}`);
  });
});

Deno.test("judge() tells conversions, misses, false kills, wrong victims and thrash stops apart", () => {
  const small = cases.find((c) => c.truth.kernel === "oom-kill")!;
  const lived = cases.find((c) => c.truth.kernel === "lived")!;
  const killMs = kernelKillAtMs(small.parsed, small.pressureUid)!;
  const act = (tMs: number, victimUid: string, trigger = "headroom") => ({
    tMs,
    victimUid,
    trigger,
  });
  assert.equal(judge(small, act(killMs - 40_000, small.pressureUid)).verdict, "converted");
  assert.equal(judge(small, act(killMs - 40_000, small.pressureUid)).leadSeconds, 40);
  assert.equal(judge(small, null).verdict, "miss");
  assert.equal(judge(small, act(killMs + 1000, small.pressureUid)).verdict, "miss");
  assert.equal(judge(small, act(killMs - 40_000, "someone-else")).verdict, "wrong victim");
  assert.equal(judge(lived, act(1000, lived.pressureUid)).verdict, "false kill");
  assert.equal(judge(lived, act(1000, lived.pressureUid, "swap-io")).verdict, "stopped thrashing");
  assert.equal(judge(lived, act(1000, "someone-else", "swap-io")).verdict, "wrong victim");
  assert.equal(judge(lived, null).verdict, "spared");
});
