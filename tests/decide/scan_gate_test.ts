import assert from "node:assert/strict";
import {
  INITIAL_SCAN_GATE,
  SCAN_MAX_INTERVAL_MS,
  SCAN_SWAP_DELTA_BYTES,
  type ScanInputs,
  scanned,
  scanReason,
} from "../../src/decide/scan_gate.ts";

const SWAP = 100 << 20;
const inputs = (partial: Partial<ScanInputs> = {}): ScanInputs => ({
  swapUsedBytes: SWAP,
  oomKills: 3,
  nodeTriggerSustained: false,
  evictionsBlocked: false,
  ...partial,
});

Deno.test("scanReason() walks the pods only when something calls for it", () => {
  const calm = scanned(0, inputs(), false);
  const table: [string, ReturnType<typeof scanReason>][] = [
    ["first", scanReason(INITIAL_SCAN_GATE, 0, inputs())],
    ["calm node, same swap", scanReason(calm, 5_000, inputs())],
    [
      "small swap change",
      scanReason(calm, 5_000, inputs({ swapUsedBytes: SWAP + SCAN_SWAP_DELTA_BYTES - 1 })),
    ],
    ["swap grew", scanReason(calm, 5_000, inputs({ swapUsedBytes: SWAP + SCAN_SWAP_DELTA_BYTES }))],
    [
      "swap shrank",
      scanReason(calm, 5_000, inputs({ swapUsedBytes: SWAP - SCAN_SWAP_DELTA_BYTES })),
    ],
    ["node trigger", scanReason(calm, 5_000, inputs({ nodeTriggerSustained: true }))],
    ["tracking", scanReason(scanned(0, inputs(), true), 1_000, inputs())],
    ["kernel OOM kill", scanReason(calm, 1_000, inputs({ oomKills: 4 }))],
    ["an hour calm, oom_kill known", scanReason(calm, 60 * SCAN_MAX_INTERVAL_MS, inputs())],
    ["evictions blocked", scanReason(calm, 5_000, inputs({ evictionsBlocked: true }))],
  ];
  assert.deepEqual(table, [
    ["first", "first"],
    ["calm node, same swap", null],
    ["small swap change", null],
    ["swap grew", "swap in use changed"],
    ["swap shrank", "swap in use changed"],
    ["node trigger", "node trigger"],
    ["tracking", "tracking growth"],
    ["kernel OOM kill", "kernel OOM kill"],
    ["an hour calm, oom_kill known", null],
    ["evictions blocked", "evictions blocked"],
  ]);
});

Deno.test("scanReason() on kernels without vmstat oom_kill scans every 60 s while swap is in use", () => {
  const old = inputs({ oomKills: null });
  const calm = scanned(0, old, false);
  assert.equal(scanReason(calm, SCAN_MAX_INTERVAL_MS - 1, old), null);
  assert.equal(scanReason(calm, SCAN_MAX_INTERVAL_MS, old), "periodic");
  const noSwap = inputs({ oomKills: null, swapUsedBytes: 0 });
  assert.equal(scanReason(scanned(0, noSwap, false), 10 * SCAN_MAX_INTERVAL_MS, noSwap), null);
});
