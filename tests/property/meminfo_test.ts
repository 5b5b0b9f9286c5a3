import assert from "node:assert/strict";
import fc from "fast-check";
import { parseMeminfo } from "../../src/sense/meminfo.ts";
import { ParseError } from "../../src/sense/parse_error.ts";
import { hostileText, RUNS, shuffled, throwsOnly } from "./arbitraries.ts";

/** One line as the kernel prints it: `%-16s%8lu kB` (the name with its colon padded). */
function line(name: string, kib: number): string {
  return `${name}:`.padEnd(16) + String(kib).padStart(8) + " kB";
}

Deno.test("parseMeminfo() throws nothing but ParseError, whatever the text", () => {
  fc.assert(
    fc.property(hostileText, (text) => throwsOnly(() => parseMeminfo(text), ParseError)),
    RUNS,
  );
});

Deno.test("parseMeminfo() gives back the kernel's kB figures in bytes, among any other lines", () => {
  // kB × 1024 stays an exact integer below 2^53.
  const kib = fc.integer({ min: 0, max: 2 ** 43 });
  const others = ["MemFree", "Cached", "SwapCached", "Active(anon)", "HugePages_Total", "Zswap"];
  const file = fc.record({
    memTotal: kib,
    memAvailable: kib,
    swapTotal: kib,
    swapFree: kib,
    other: fc.array(kib, { minLength: others.length, maxLength: others.length }),
  }).chain((f) => {
    const lines = [
      line("MemTotal", f.memTotal),
      line("MemAvailable", f.memAvailable),
      line("SwapTotal", f.swapTotal),
      line("SwapFree", f.swapFree),
      ...others.map((name, i) => line(name, f.other[i]!)),
    ];
    return shuffled(lines).map((order) => ({ f, text: order.join("\n") + "\n" }));
  });
  fc.assert(
    fc.property(file, ({ f, text }) => {
      assert.deepEqual(parseMeminfo(text), {
        memTotalBytes: f.memTotal * 1024,
        memAvailableBytes: f.memAvailable * 1024,
        swapTotalBytes: f.swapTotal * 1024,
        swapFreeBytes: f.swapFree * 1024,
      });
    }),
    RUNS,
  );
});
