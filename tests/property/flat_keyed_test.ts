import assert from "node:assert/strict";
import fc from "fast-check";
import { parseBytesOrMax, parseFlatKeyed } from "../../src/sense/flat_keyed.ts";
import { parseMemoryStat, swapIoFromMemoryStat } from "../../src/sense/memory_stat.ts";
import { ParseError } from "../../src/sense/parse_error.ts";
import { hostileText, keyName, RUNS, throwsOnly } from "./arbitraries.ts";

Deno.test("parseFlatKeyed() and parseMemoryStat() throw nothing but ParseError", () => {
  fc.assert(
    fc.property(hostileText, (text) => {
      throwsOnly(() => parseFlatKeyed("memory.events", text), ParseError);
      throwsOnly(() => parseMemoryStat(text), ParseError);
    }),
    RUNS,
  );
});

Deno.test("parseFlatKeyed() and parseMemoryStat() give back every key and value written", () => {
  fc.assert(
    fc.property(fc.dictionary(keyName, fc.maxSafeNat(), { maxKeys: 80 }), (values) => {
      const text = Object.entries(values).map(([key, value]) => `${key} ${value}\n`).join("");
      const expected = new Map(Object.entries(values));
      assert.deepEqual(parseFlatKeyed("memory.stat", text), expected);
      const stat = parseMemoryStat(text);
      assert.deepEqual(stat, expected);
      const io = swapIoFromMemoryStat(stat);
      if ("pswpin" in values && "pswpout" in values) {
        assert.deepEqual(io, { swapInPages: values.pswpin, swapOutPages: values.pswpout });
      } else assert.equal(io, null);
    }),
    RUNS,
  );
});

Deno.test("parseBytesOrMax() throws nothing but ParseError, whatever the text", () => {
  fc.assert(
    fc.property(
      hostileText,
      (text) => throwsOnly(() => parseBytesOrMax("memory.max", text), ParseError),
    ),
    RUNS,
  );
});

Deno.test("parseBytesOrMax() gives back the bytes or `max` the kernel wrote", () => {
  fc.assert(
    fc.property(fc.option(fc.maxSafeNat()), (value) => {
      const text = value === null ? "max\n" : `${value}\n`;
      assert.equal(parseBytesOrMax("memory.swap.max", text), value);
    }),
    RUNS,
  );
});
