import assert from "node:assert/strict";
import { parseVmstat, readVmstat } from "../../src/sense/vmstat.ts";
import { ParseError } from "../../src/sense/parse_error.ts";
import { fixturePath, type Kernel, readFixture, type Snapshot } from "./helpers.ts";
import { denoHostFs } from "../../src/sense/host_fs.ts";

const EXPECTED: [Kernel, Snapshot, number, number, number][] = [
  ["6.1.0-56-amd64", "idle", 0, 0, 0],
  ["6.1.0-56-amd64", "pressure", 50210, 85166, 0],
  ["6.1.0-56-amd64", "oom", 97322, 136379, 2],
  ["6.12.95+deb12-amd64", "idle", 0, 0, 0],
  ["6.12.95+deb12-amd64", "pressure", 77141, 112093, 0],
  ["6.12.95+deb12-amd64", "oom", 136226, 175268, 2],
  ["7.3.4+deb13-amd64", "idle", 0, 0, 0],
  ["7.3.4+deb13-amd64", "pressure", 72136, 107167, 0],
  ["7.3.4+deb13-amd64", "oom", 146458, 185521, 2],
];

Deno.test("parseVmstat() reads pswpin, pswpout and oom_kill from every captured kernel", async () => {
  for (const [kernel, snapshot, swapInPages, swapOutPages, oomKills] of EXPECTED) {
    const text = await readFixture(kernel, snapshot, "proc/vmstat");
    assert.deepEqual(
      parseVmstat(text),
      { swapInPages, swapOutPages, oomKills },
      `${kernel} ${snapshot}`,
    );
  }
});

Deno.test("readVmstat() reads <procRoot>/vmstat", async () => {
  const counters = await readVmstat(
    denoHostFs,
    fixturePath("6.1.0-56-amd64", "pressure", "proc"),
  );
  assert.deepEqual(counters, { swapInPages: 50210, swapOutPages: 85166, oomKills: 0 });
});

Deno.test("parseVmstat() finds keys by name, not nrswpin or a prefix match", () => {
  const text = "nrswpin 7\npswpin_zero 8\nnrswpout 9\npswpin 1\npswpout 2\n";
  assert.deepEqual(parseVmstat(text), { swapInPages: 1, swapOutPages: 2, oomKills: null });
});

Deno.test("parseVmstat() reads keys on the first and last line without a newline", () => {
  assert.deepEqual(parseVmstat("pswpin 3\npswpout 4"), {
    swapInPages: 3,
    swapOutPages: 4,
    oomKills: null,
  });
});

Deno.test("parseVmstat() accepts counters above 2^53 with precision loss", () => {
  const counters = parseVmstat("pswpin 18446744073709551615\npswpout 9007199254740993\n");
  assert.equal(counters.swapInPages, 18446744073709551615);
  assert.ok(counters.swapOutPages > Number.MAX_SAFE_INTEGER);
});

Deno.test("parseVmstat() throws ParseError for malformed input", () => {
  const cases: [string, string, string][] = [
    ["empty", "", `Cannot parse "vmstat": missing "pswpin"`],
    ["garbage", "\u0000\u0001 garbage", `Cannot parse "vmstat": missing "pswpin"`],
    ["missing pswpout", "pswpin 1\n", `Cannot parse "vmstat": missing "pswpout"`],
    [
      "negative",
      "pswpin -1\npswpout 0\n",
      `Cannot parse "vmstat": "pswpin" is "-1", not a non-negative integer`,
    ],
    [
      "no value",
      "pswpin \npswpout 0\n",
      `Cannot parse "vmstat": "pswpin" is "", not a non-negative integer`,
    ],
    [
      "exponent",
      "pswpin 1e3\npswpout 0\n",
      `Cannot parse "vmstat": "pswpin" is "1e3", not a non-negative integer`,
    ],
    [
      "hex",
      "pswpin 0\npswpout 0x10\n",
      `Cannot parse "vmstat": "pswpout" is "0x10", not a non-negative integer`,
    ],
    [
      "fraction",
      "pswpin 1.5\npswpout 0\n",
      `Cannot parse "vmstat": "pswpin" is "1.5", not a non-negative integer`,
    ],
  ];
  for (const [name, text, message] of cases) {
    assert.throws(() => parseVmstat(text), (error: unknown) => {
      assert.ok(error instanceof ParseError, name);
      assert.equal(error.message, message, name);
      assert.equal(error.fileKind, "vmstat", name);
      return true;
    });
  }
});
