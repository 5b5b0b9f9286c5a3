// The decisions on real servers (and two synthetic shapes), in milliseconds: traces recorded with `kube-soomkiller
// record` inside the VM suite's guest (Debian 6.12, agent off), PostgreSQL 15 under pgbench
// and Redis 7 filled by redis-benchmark, each with a swap limit too small (the kernel
// OOM-killed it) and an ample one (it levelled off and lived). See tests/fixtures/traces/.
import assert from "node:assert/strict";
import { getLogger } from "../../src/observe/log.ts";
import { type Config, DEFAULTS } from "../../src/config.ts";
import { replay } from "../../src/replay/replay.ts";
import {
  formatSideBySide,
  judge,
  kernelKillAtMs,
  realServerCases,
  sideBySide,
} from "./policies.ts";

const silent = getLogger(["replay-test-silent"]);
const config = (overrides: Partial<Config> = {}): Config => ({
  ...DEFAULTS,
  nodeName: "vm-node",
  ...overrides,
});

const cases = realServerCases;

/**
 * How long before the recorded kernel kill the defaults must act, s. PostgreSQL: its whole
 * grace period (30 s). Redis fills from its first swapped page to the kernel's kill in
 * 32 s, so no estimator that needs 7 s of growth can give it 30 s: it must act with 20 s
 * to spare (its clean shutdown, RDB save included, took 10.6 s in the VM).
 */
const MIN_LEAD_S: Record<string, number> = {
  "6.12-pg-small-swap": 30,
  "6.12-redis-small-swap": 20,
  // The stepped leak goes from its first swapped page to the kill in 13 s; its clean
  // shutdown takes 2 s.
  "6.12-leak-steps": 5,
};

Deno.test("real servers, default flags: every too-small case is acted on well before the kernel's kill", async () => {
  for (const c of (await cases()).filter((c) => c.truth === "kernel-kill")) {
    const killMs = kernelKillAtMs(c.trace, c.pressureUid);
    assert.ok(killMs !== null, `${c.name}: the trace recorded the kernel's kill`);
    const result = await replay(c.trace, config(), silent);
    const first = result.actions[0];
    assert.ok(first, `${c.name}: acted`);
    assert.equal(first.victimUid, c.pressureUid, c.name);
    assert.equal(first.trigger, "headroom", c.name);
    const leadSeconds = (killMs - first.tMs) / 1000;
    const needed = MIN_LEAD_S[c.name];
    assert.ok(needed !== undefined, `${c.name}: no expected lead`);
    assert.ok(
      leadSeconds >= needed,
      `${c.name}: acted ${leadSeconds.toFixed(1)} s before the kill`,
    );
  }
});

Deno.test("real servers, default flags: no ample case is ever acted on, by any trigger", async () => {
  for (const c of (await cases()).filter((c) => c.truth === "survived")) {
    const result = await replay(c.trace, config(), silent);
    assert.deepEqual(result.actions, [], `${c.name}: ${JSON.stringify(result.actions[0])}`);
    assert.equal(result.recordedOomKills.length, 0, `${c.name}: the server lived`);
  }
});

Deno.test("real servers side by side: the defaults convert every kernel kill and kill nothing that lived", async () => {
  const all = await cases();
  const rows = await sideBySide(all);
  const table = formatSideBySide(all, rows);
  const defaults = rows.find((r) => r.policy === "agent defaults")!;
  assert.equal(defaults.converted, 3, table);
  assert.equal(defaults.falseKills + defaults.wrongVictims + defaults.misses, 0, table);
  // The naive rule deletes every pod that ever touches swap, the ones that lived included.
  const naive = rows.find((r) => r.policy === "any pod over 1 % swap")!;
  assert.equal(naive.falseKills, 3, table);
  // The first version's straight line takes the 5 s ramp for a leak.
  const linear = rows.find((r) => r.policy === "linear headroom")!;
  assert.equal(linear.falseKills, 1, table);
  // The seed's rule never qualifies a many-threaded server (full avg10 stays low).
  const seed = rows.find((r) => r.policy === "seed v1 rule")!;
  assert.equal(seed.converted, 0, table);
});

Deno.test("judge() tells conversions, misses, false kills and wrong victims apart", async () => {
  const [small] = await cases();
  const killMs = kernelKillAtMs(small!.trace, small!.pressureUid)!;
  const before = { tMs: killMs - 40_000, victimUid: small!.pressureUid };
  assert.equal(judge(small!.trace, small!.pressureUid, "kernel-kill", before).verdict, "converted");
  assert.equal(judge(small!.trace, small!.pressureUid, "kernel-kill", null).verdict, "miss");
  const late = { tMs: killMs + 1000, victimUid: small!.pressureUid };
  assert.equal(judge(small!.trace, small!.pressureUid, "kernel-kill", late).verdict, "miss");
  const other = { tMs: killMs - 40_000, victimUid: "someone-else" };
  assert.equal(
    judge(small!.trace, small!.pressureUid, "kernel-kill", other).verdict,
    "wrong victim",
  );
  assert.equal(judge(small!.trace, small!.pressureUid, "survived", before).verdict, "false kill");
  assert.equal(judge(small!.trace, small!.pressureUid, "survived", null).verdict, "spared");
});
