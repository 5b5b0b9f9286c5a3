import assert from "node:assert/strict";
import fc from "fast-check";
import { ParseError } from "../../src/sense/parse_error.ts";
import { parseVmstat } from "../../src/sense/vmstat.ts";
import { hostileText, keyName, RUNS, shuffled, throwsOnly } from "./arbitraries.ts";

Deno.test("parseVmstat() throws nothing but ParseError, whatever the text", () => {
  fc.assert(
    fc.property(hostileText, (text) => throwsOnly(() => parseVmstat(text), ParseError)),
    RUNS,
  );
});

Deno.test("parseVmstat() gives back the counters the kernel wrote, among any other keys", () => {
  const others = fc.dictionary(
    keyName.filter((k) => k !== "pswpin" && k !== "pswpout" && k !== "oom_kill"),
    fc.maxSafeNat(),
    { maxKeys: 30 },
  );
  const oomKill = fc.option(fc.maxSafeNat(), { nil: null });
  const file = fc.record({ pswpin: fc.maxSafeNat(), pswpout: fc.maxSafeNat(), oomKill, others })
    .chain(({ pswpin, pswpout, oomKill, others }) => {
      const lines = [`pswpin ${pswpin}`, `pswpout ${pswpout}`];
      if (oomKill !== null) lines.push(`oom_kill ${oomKill}`);
      for (const [key, value] of Object.entries(others)) lines.push(`${key} ${value}`);
      return shuffled(lines).map((order) => ({
        pswpin,
        pswpout,
        oomKill,
        text: order.join("\n") + "\n",
      }));
    });
  fc.assert(
    fc.property(file, ({ pswpin, pswpout, oomKill, text }) => {
      assert.deepEqual(parseVmstat(text), {
        swapInPages: pswpin,
        swapOutPages: pswpout,
        oomKills: oomKill,
      });
    }),
    RUNS,
  );
});
