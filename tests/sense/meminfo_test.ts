import assert from "node:assert/strict";
import { parseMeminfo, readMeminfo } from "../../src/sense/meminfo.ts";
import { ParseError } from "../../src/sense/parse_error.ts";
import { denoHostFs } from "../../src/sense/host_fs.ts";
import { fixturePath, type Kernel, readFixture, type Snapshot } from "./helpers.ts";

/** kernel, snapshot, MemTotal, MemAvailable, SwapTotal, SwapFree (all kB as in the file). */
const EXPECTED: [Kernel, Snapshot, number, number, number, number][] = [
  ["6.1.0-56-amd64", "idle", 468156, 434992, 524284, 524284],
  ["6.1.0-56-amd64", "pressure", 468156, 349016, 524284, 384252],
  ["6.1.0-56-amd64", "oom", 468156, 434440, 524284, 523772],
  ["6.12.95+deb12-amd64", "idle", 475180, 434316, 524284, 524284],
  ["6.12.95+deb12-amd64", "pressure", 475180, 357828, 524284, 383996],
  ["6.12.95+deb12-amd64", "oom", 475180, 422812, 524284, 523960],
  ["7.3.4+deb13-amd64", "idle", 468648, 419716, 524284, 524284],
  ["7.3.4+deb13-amd64", "pressure", 468648, 342220, 524284, 384112],
  ["7.3.4+deb13-amd64", "oom", 468648, 409168, 524284, 524284],
];

Deno.test("parseMeminfo() reads every captured kernel's figures in bytes", async () => {
  for (const [kernel, snapshot, memTotal, memAvailable, swapTotal, swapFree] of EXPECTED) {
    const text = await readFixture(kernel, snapshot, "proc/meminfo");
    assert.deepEqual(parseMeminfo(text), {
      memTotalBytes: memTotal * 1024,
      memAvailableBytes: memAvailable * 1024,
      swapTotalBytes: swapTotal * 1024,
      swapFreeBytes: swapFree * 1024,
    }, `${kernel} ${snapshot}`);
  }
});

Deno.test("readMeminfo() reads <procRoot>/meminfo", async () => {
  const meminfo = await readMeminfo(denoHostFs, fixturePath("6.12.95+deb12-amd64", "idle", "proc"));
  assert.equal(meminfo.swapTotalBytes, 524284 * 1024);
});

Deno.test("parseMeminfo() reads a node without swap as SwapTotal 0", () => {
  const text = "MemTotal: 100 kB\nMemAvailable: 50 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n";
  assert.deepEqual(parseMeminfo(text), {
    memTotalBytes: 102400,
    memAvailableBytes: 51200,
    swapTotalBytes: 0,
    swapFreeBytes: 0,
  });
});

Deno.test("parseMeminfo() does not take SwapCached or MemFree for the fields it wants", () => {
  const text =
    "MemFree: 1 kB\nSwapCached: 2 kB\nMemTotal: 3 kB\nMemAvailable: 4 kB\nSwapTotal: 5 kB\nSwapFree: 6 kB";
  assert.deepEqual(parseMeminfo(text), {
    memTotalBytes: 3072,
    memAvailableBytes: 4096,
    swapTotalBytes: 5120,
    swapFreeBytes: 6144,
  });
});

Deno.test("parseMeminfo() throws ParseError for malformed input", () => {
  const full = "MemTotal: 1 kB\nMemAvailable: 1 kB\nSwapTotal: 1 kB\nSwapFree: 1 kB\n";
  const cases: [string, string, string][] = [
    ["empty", "", `Cannot parse "meminfo": missing "MemTotal"`],
    ["garbage", "garbage\n", `Cannot parse "meminfo": missing "MemTotal"`],
    [
      "missing SwapTotal",
      full.replace("SwapTotal: 1 kB\n", ""),
      `Cannot parse "meminfo": missing "SwapTotal"`,
    ],
    [
      "negative",
      full.replace("SwapFree: 1", "SwapFree: -1"),
      `Cannot parse "meminfo": "SwapFree" is "-1", not a non-negative integer`,
    ],
    [
      "word",
      full.replace("MemTotal: 1 kB", "MemTotal: lots"),
      `Cannot parse "meminfo": "MemTotal" is "lots", not a non-negative integer`,
    ],
  ];
  for (const [name, text, message] of cases) {
    assert.throws(() => parseMeminfo(text), (error: unknown) => {
      assert.ok(error instanceof ParseError, name);
      assert.equal(error.message, message, name);
      return true;
    });
  }
});
