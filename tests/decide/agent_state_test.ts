import assert from "node:assert/strict";
import type { Outcome } from "../../src/decide/outcome.ts";
import { DEFAULTS } from "../../src/config.ts";
import {
  type AgentState,
  decideNode,
  INITIAL_AGENT_STATE,
  settle,
} from "../../src/decide/agent_state.ts";
import { actedOnUids } from "../../src/decide/kill_once.ts";
import type { Candidate } from "../../src/decide/select.ts";
import { podMeta, podStats } from "../fakes/pod_records.ts";

const CONFIG = { ...DEFAULTS, cooldownPeriodMs: 30_000, terminationMode: "evict" as const };
const VICTIM: Candidate = { stats: podStats("u1", 1 << 20, 80), pod: podMeta("u1", "web-0") };

/** What settle() made of one round on VICTIM at t = 5 s. */
function after(outcome: Outcome, fellBack = false, state: AgentState = INITIAL_AGENT_STATE) {
  const next = settle(state, { round: { victim: VICTIM, outcome, fellBack } }, 5_000, CONFIG);
  return {
    cooldownUntilMs: next.pressure.cooldown.untilMs,
    actedOn: [...actedOnUids(next.killOnce)],
    action: next.killOnce.acted.get("u1")?.action ?? null,
    unconfirmed: next.unconfirmed.get("u1")?.action ?? null,
    blockedSinceMs: next.evictFallback.blockedSinceMs,
  };
}

Deno.test("settle(): what each outcome leaves behind (cooldown, kill-once, doubt, fallback clock)", () => {
  const table: [string, Outcome, boolean, ReturnType<typeof after>][] = [
    ["evicted", { kind: "evicted", code: 201 }, false, {
      cooldownUntilMs: 35_000,
      actedOn: ["u1"],
      action: "evict",
      unconfirmed: null,
      blockedSinceMs: null,
    }],
    ["fallback delete", { kind: "deleted", code: 200, fallback: true }, true, {
      cooldownUntilMs: 35_000,
      actedOn: ["u1"],
      action: "delete",
      unconfirmed: null,
      blockedSinceMs: null,
    }],
    ["unknown in evict mode", { kind: "unknown", code: 503, message: "x" }, false, {
      cooldownUntilMs: 35_000,
      actedOn: ["u1"],
      action: "evict",
      unconfirmed: "evict",
      blockedSinceMs: null,
    }],
    ["unknown after the fallback", { kind: "unknown", code: null, message: "x" }, true, {
      cooldownUntilMs: 35_000,
      actedOn: ["u1"],
      action: "delete",
      unconfirmed: "delete",
      blockedSinceMs: null,
    }],
    ["dry-run", { kind: "dry-run" }, false, {
      cooldownUntilMs: 35_000,
      actedOn: [],
      action: null,
      unconfirmed: null,
      blockedSinceMs: null,
    }],
    ["blocked", { kind: "blocked", code: 429, message: "pdb" }, false, {
      cooldownUntilMs: null,
      actedOn: [],
      action: null,
      unconfirmed: null,
      blockedSinceMs: 5_000,
    }],
    ["failed", { kind: "failed", code: 403, message: "rbac" }, false, {
      cooldownUntilMs: null,
      actedOn: [],
      action: null,
      unconfirmed: null,
      blockedSinceMs: null,
    }],
  ];
  for (const [name, outcome, fellBack, expected] of table) {
    assert.deepEqual(after(outcome, fellBack), expected, name);
  }
});

Deno.test("settle(): a known outcome clears the doubt; the fallback clock runs until pressure ends", () => {
  const unknown = settle(
    INITIAL_AGENT_STATE,
    {
      round: {
        victim: VICTIM,
        outcome: { kind: "unknown", code: 503, message: "x" },
        fellBack: false,
      },
    },
    1_000,
    CONFIG,
  );
  assert.equal(unknown.unconfirmed.size, 1);
  const known = settle(
    unknown,
    { round: { victim: VICTIM, outcome: { kind: "evicted", code: 201 }, fellBack: false } },
    2_000,
    CONFIG,
  );
  assert.equal(known.unconfirmed.size, 0);

  const blocked = { kind: "blocked", code: 429, message: "pdb" } as const;
  const first = settle(
    INITIAL_AGENT_STATE,
    { round: { victim: VICTIM, outcome: blocked, fellBack: false } },
    1_000,
    CONFIG,
  );
  const still = settle(first, { round: null, pressure: true }, 2_000, CONFIG);
  assert.equal(still.evictFallback.blockedSinceMs, 1_000, "inconclusive: the clock keeps running");
  const calm = settle(still, { round: null, pressure: false }, 3_000, CONFIG);
  assert.equal(calm.evictFallback.blockedSinceMs, null, "no pressure: the clock stops");
});

Deno.test("decideNode(): scans while evictions are blocked, not on a calm node", () => {
  const node = { swapIoPages: 0, oomKills: 0, meminfo: undefined, atMs: 0 };
  const first = decideNode(INITIAL_AGENT_STATE, node, CONFIG);
  assert.equal(first.scanReason, "first");
  const scanned = { ...first.state, scanGate: { ...first.state.scanGate, lastScanMs: 0 } };
  assert.equal(decideNode(scanned, { ...node, atMs: 1_000 }, CONFIG).scanReason, null);
  const blocked = { ...scanned, evictFallback: { blockedSinceMs: 0 } };
  assert.equal(
    decideNode(blocked, { ...node, atMs: 1_000 }, CONFIG).scanReason,
    "evictions blocked",
  );
});
