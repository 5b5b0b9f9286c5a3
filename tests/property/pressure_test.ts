import assert from "node:assert/strict";
import fc from "fast-check";
import { ParseError } from "../../src/sense/parse_error.ts";
import { parsePressure, type PressureLine } from "../../src/sense/pressure.ts";
import { hostileText, RUNS, throwsOnly } from "./arbitraries.ts";

/** A PSI line's figures as the kernel has them: averages in hundredths, total in µs. */
const pressureLine: fc.Arbitrary<PressureLine> = fc.record({
  avg10Percent: fc.integer({ min: 0, max: 10000 }).map((n) => n / 100),
  avg60Percent: fc.integer({ min: 0, max: 10000 }).map((n) => n / 100),
  avg300Percent: fc.integer({ min: 0, max: 10000 }).map((n) => n / 100),
  totalMicroseconds: fc.maxSafeNat(),
});

/** `psi_show()`: `some avg10=%lu.%02lu avg60=%lu.%02lu avg300=%lu.%02lu total=%llu`. */
function format(kind: string, p: PressureLine): string {
  return `${kind} avg10=${p.avg10Percent.toFixed(2)} avg60=${p.avg60Percent.toFixed(2)} ` +
    `avg300=${p.avg300Percent.toFixed(2)} total=${p.totalMicroseconds}\n`;
}

Deno.test("parsePressure() throws nothing but ParseError, whatever the text", () => {
  fc.assert(
    fc.property(hostileText, (text) => throwsOnly(() => parsePressure(text), ParseError)),
    RUNS,
  );
});

Deno.test("parsePressure() gives back the kernel's figures, with or without a full line", () => {
  fc.assert(
    fc.property(pressureLine, fc.option(pressureLine), (some, full) => {
      const text = format("some", some) + (full === null ? "" : format("full", full));
      // fast-check may make null-prototype records: compare plain copies.
      assert.deepEqual(parsePressure(text), { some: { ...some }, full: full && { ...full } });
    }),
    RUNS,
  );
});
