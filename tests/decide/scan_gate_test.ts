import assert from "node:assert/strict";
import {
  INITIAL_SCAN_GATE,
  SCAN_MAX_INTERVAL_MS,
  SCAN_SWAP_DELTA_BYTES,
  scanned,
  scanReason,
} from "../../src/decide/scan_gate.ts";

Deno.test("scanReason() walks the pods only when something calls for it", () => {
  const calm = scanned(0, 100 << 20, false);
  const table: [string, ReturnType<typeof scanReason>][] = [
    ["first", scanReason(INITIAL_SCAN_GATE, 0, 0, false)],
    ["calm node, same swap", scanReason(calm, 5_000, 100 << 20, false)],
    ["small swap change", scanReason(calm, 5_000, (100 << 20) + SCAN_SWAP_DELTA_BYTES - 1, false)],
    ["swap grew", scanReason(calm, 5_000, (100 << 20) + SCAN_SWAP_DELTA_BYTES, false)],
    ["swap shrank", scanReason(calm, 5_000, (100 << 20) - SCAN_SWAP_DELTA_BYTES, false)],
    ["node trigger", scanReason(calm, 5_000, 100 << 20, true)],
    ["tracking", scanReason(scanned(0, 0, true), 1_000, 0, false)],
    ["periodic", scanReason(calm, SCAN_MAX_INTERVAL_MS, 100 << 20, false)],
    ["evictions blocked", scanReason(calm, 5_000, 100 << 20, false, true)],
    [
      "no swap at all, long after",
      scanReason(scanned(0, 0, false), 10 * SCAN_MAX_INTERVAL_MS, 0, false),
    ],
  ];
  assert.deepEqual(table, [
    ["first", "first"],
    ["calm node, same swap", null],
    ["small swap change", null],
    ["swap grew", "swap in use changed"],
    ["swap shrank", "swap in use changed"],
    ["node trigger", "node trigger"],
    ["tracking", "tracking growth"],
    ["periodic", "periodic"],
    ["evictions blocked", "evictions blocked"],
    ["no swap at all, long after", null],
  ]);
});
