import assert from "node:assert/strict";
import fc from "fast-check";
import { formatDuration, parseDuration } from "../../src/duration.ts";
import { RUNS } from "./arbitraries.ts";

Deno.test("parseDuration() never throws: null or a finite, non-negative number", () => {
  const text = fc.oneof(
    fc.string({ unit: "binary", maxLength: 40 }),
    fc.array(
      fc.oneof(
        fc.constantFrom("h", "m", "s", "ms", "us", "µs", "ns", ".", "-", "+", " ", "0"),
        fc.nat().map(String),
        fc.double().map(String),
      ),
      { maxLength: 12 },
    ).map((parts) => parts.join("")),
  );
  fc.assert(
    fc.property(text, (value) => {
      const ms = parseDuration(value);
      if (ms !== null) assert.ok(Number.isFinite(ms) && ms >= 0, `${value} → ${ms}`);
    }),
    RUNS,
  );
});

Deno.test("parseDuration() reads back what formatDuration() writes", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 30 * 24 * 3_600_000 }), (ms) => {
      assert.equal(parseDuration(formatDuration(ms)), ms);
    }),
    RUNS,
  );
});

Deno.test("parseDuration() adds up the parts of a Go duration in any combination", () => {
  const part = (unit: string, ms: number) =>
    fc.option(fc.integer({ min: 0, max: 1000 }).map((n) => ({ text: `${n}${unit}`, ms: n * ms })));
  fc.assert(
    fc.property(
      part("h", 3_600_000),
      part("m", 60_000),
      part("s", 1_000),
      part("ms", 1),
      (...parts) => {
        const present = parts.filter((p) => p !== null);
        fc.pre(present.length > 0);
        const text = present.map((p) => p.text).join("");
        assert.equal(parseDuration(text), present.reduce((sum, p) => sum + p.ms, 0), text);
      },
    ),
    RUNS,
  );
});
