import assert from "node:assert/strict";
import { parsePressure, type Pressure } from "../../src/sense/pressure.ts";
import { ParseError } from "../../src/sense/parse_error.ts";
import { type Kernel, readFixture, type Snapshot } from "./helpers.ts";

/** `[avg10, avg60, avg300, total]` of the some and full lines. */
type Figures = readonly [number, number, number, number];

/** Every PSI file of every fixture: `at` is kernel, snapshot and file. */
const EXPECTED: { at: [Kernel, Snapshot, string]; some: Figures; full: Figures }[] = [
  {
    at: ["6.1.0-56-amd64", "idle", "proc/pressure/memory"],
    some: [0, 0, 0, 0],
    full: [0, 0, 0, 0],
  },
  {
    at: ["6.1.0-56-amd64", "idle", "cgroup/pod/memory.pressure"],
    some: [0, 0, 0, 0],
    full: [0, 0, 0, 0],
  },
  {
    at: ["6.1.0-56-amd64", "idle", "cgroup/container/memory.pressure"],
    some: [0, 0, 0, 0],
    full: [0, 0, 0, 0],
  },
  {
    at: ["6.1.0-56-amd64", "pressure", "proc/pressure/memory"],
    some: [37.3, 9.72, 2.16, 7018678],
    full: [37.22, 9.69, 2.15, 6980064],
  },
  {
    at: ["6.1.0-56-amd64", "pressure", "cgroup/pod/memory.pressure"],
    some: [40.52, 10.27, 2.27, 7848547],
    full: [40.52, 10.27, 2.27, 7848547],
  },
  {
    at: ["6.1.0-56-amd64", "pressure", "cgroup/container/memory.pressure"],
    some: [40.52, 10.27, 2.27, 7910233],
    full: [40.52, 10.27, 2.27, 7910233],
  },
  {
    at: ["6.1.0-56-amd64", "oom", "proc/pressure/memory"],
    some: [50.1, 17.21, 4.07, 12476024],
    full: [50.07, 17.19, 4.06, 12401352],
  },
  {
    at: ["6.1.0-56-amd64", "oom", "cgroup/pod/memory.pressure"],
    some: [0, 0, 0, 419922],
    full: [0, 0, 0, 419922],
  },
  {
    at: ["6.1.0-56-amd64", "oom", "cgroup/container/memory.pressure"],
    some: [3.62, 0.65, 0.13, 419867],
    full: [3.62, 0.65, 0.13, 419867],
  },
  {
    at: ["6.12.95+deb12-amd64", "idle", "proc/pressure/memory"],
    some: [0, 0, 0, 0],
    full: [0, 0, 0, 0],
  },
  {
    at: ["6.12.95+deb12-amd64", "idle", "cgroup/pod/memory.pressure"],
    some: [0, 0, 0, 0],
    full: [0, 0, 0, 0],
  },
  {
    at: ["6.12.95+deb12-amd64", "idle", "cgroup/container/memory.pressure"],
    some: [0, 0, 0, 0],
    full: [0, 0, 0, 0],
  },
  {
    at: ["6.12.95+deb12-amd64", "pressure", "proc/pressure/memory"],
    some: [30.45, 7.72, 1.71, 5248918],
    full: [30.15, 7.66, 1.7, 5210153],
  },
  {
    at: ["6.12.95+deb12-amd64", "pressure", "cgroup/pod/memory.pressure"],
    some: [31.23, 7.61, 1.68, 5717168],
    full: [31.23, 7.61, 1.68, 5717168],
  },
  {
    at: ["6.12.95+deb12-amd64", "pressure", "cgroup/container/memory.pressure"],
    some: [31.23, 7.61, 1.68, 5785296],
    full: [31.23, 7.61, 1.68, 5785296],
  },
  {
    at: ["6.12.95+deb12-amd64", "oom", "proc/pressure/memory"],
    some: [33.64, 12.36, 2.95, 9047973],
    full: [33.16, 12.21, 2.91, 8975540],
  },
  {
    at: ["6.12.95+deb12-amd64", "oom", "cgroup/pod/memory.pressure"],
    some: [0, 0, 0, 215962],
    full: [0, 0, 0, 215962],
  },
  {
    at: ["6.12.95+deb12-amd64", "oom", "cgroup/container/memory.pressure"],
    some: [0, 0, 0, 215962],
    full: [0, 0, 0, 215962],
  },
  {
    at: ["7.3.4+deb13-amd64", "idle", "proc/pressure/memory"],
    some: [0, 0, 0, 0],
    full: [0, 0, 0, 0],
  },
  {
    at: ["7.3.4+deb13-amd64", "idle", "cgroup/pod/memory.pressure"],
    some: [0, 0, 0, 0],
    full: [0, 0, 0, 0],
  },
  {
    at: ["7.3.4+deb13-amd64", "idle", "cgroup/container/memory.pressure"],
    some: [0, 0, 0, 0],
    full: [0, 0, 0, 0],
  },
  {
    at: ["7.3.4+deb13-amd64", "pressure", "proc/pressure/memory"],
    some: [30.63, 7.76, 1.72, 5625482],
    full: [30.37, 7.7, 1.71, 5589125],
  },
  {
    at: ["7.3.4+deb13-amd64", "pressure", "cgroup/pod/memory.pressure"],
    some: [33.08, 8.25, 1.82, 6253011],
    full: [33.08, 8.25, 1.82, 6253011],
  },
  {
    at: ["7.3.4+deb13-amd64", "pressure", "cgroup/container/memory.pressure"],
    some: [33.08, 8.25, 1.82, 6306193],
    full: [33.08, 8.25, 1.82, 6306193],
  },
  {
    at: ["7.3.4+deb13-amd64", "oom", "proc/pressure/memory"],
    some: [35.33, 12.66, 3.01, 9291711],
    full: [35.23, 12.6, 3, 9236403],
  },
  {
    at: ["7.3.4+deb13-amd64", "oom", "cgroup/pod/memory.pressure"],
    some: [0, 0, 0, 301315],
    full: [0, 0, 0, 301315],
  },
  {
    at: ["7.3.4+deb13-amd64", "oom", "cgroup/container/memory.pressure"],
    some: [2.53, 0.45, 0.09, 301315],
    full: [2.53, 0.45, 0.09, 301315],
  },
];

function pressure(some: Figures, full: Figures | null): Pressure {
  const line = ([avg10, avg60, avg300, total]: Figures) => ({
    avg10Percent: avg10,
    avg60Percent: avg60,
    avg300Percent: avg300,
    totalMicroseconds: total,
  });
  return { some: line(some), full: full === null ? null : line(full) };
}

Deno.test("parsePressure() reads node and cgroup PSI files of every captured kernel", async () => {
  for (const { at: [kernel, snapshot, file], some, full } of EXPECTED) {
    const text = await readFixture(kernel, snapshot, file);
    assert.deepEqual(parsePressure(text), pressure(some, full), `${kernel} ${snapshot} ${file}`);
  }
});

Deno.test("parsePressure() returns null full on a file without a full line", () => {
  const parsed = parsePressure("some avg10=1.50 avg60=0.50 avg300=0.10 total=12345\n");
  assert.deepEqual(parsed, pressure([1.5, 0.5, 0.1, 12345], null));
});

Deno.test("parsePressure() reads lines in any order, without a final newline", () => {
  const parsed = parsePressure(
    "full avg10=2.00 avg60=1.00 avg300=0.50 total=9\nsome avg10=3.00 avg60=2.00 avg300=1.00 total=10",
  );
  assert.deepEqual(parsed, pressure([3, 2, 1, 10], [2, 1, 0.5, 9]));
});

Deno.test("parsePressure() ignores fields and lines it does not know", () => {
  const parsed = parsePressure(
    "some avg10=1.00 avg60=1.00 avg300=1.00 total=1 avg1=9.99\nirq avg10=5.00\n",
  );
  assert.deepEqual(parsed, pressure([1, 1, 1, 1], null));
});

Deno.test("parsePressure() accepts 100.00 and totals above 2^53", () => {
  const parsed = parsePressure(
    "some avg10=100.00 avg60=100.00 avg300=100.00 total=18446744073709551615\n",
  );
  assert.equal(parsed.some.avg10Percent, 100);
  assert.equal(parsed.some.totalMicroseconds, 18446744073709551615);
});

Deno.test("parsePressure() throws ParseError with the value quoted for malformed input", () => {
  const ok = "avg60=0.00 avg300=0.00 total=0";
  const cases: [string, string, string][] = [
    ["empty", "", `Cannot parse "memory.pressure": missing "some" line`],
    ["garbage", "lorem ipsum\n", `Cannot parse "memory.pressure": missing "some" line`],
    [
      "only full",
      `full avg10=0.00 ${ok}\n`,
      `Cannot parse "memory.pressure": missing "some" line`,
    ],
    [
      "word for a number",
      `some avg10=abc ${ok}\n`,
      `Cannot parse "memory.pressure": "some avg10" is "abc", not a non-negative number`,
    ],
    [
      "negative",
      `some avg10=-1.00 ${ok}\n`,
      `Cannot parse "memory.pressure": "some avg10" is "-1.00", not a non-negative number`,
    ],
    [
      "NaN",
      `some avg10=NaN ${ok}\n`,
      `Cannot parse "memory.pressure": "some avg10" is "NaN", not a non-negative number`,
    ],
    [
      "Infinity",
      `some avg10=0.00 ${ok}\nfull avg10=Infinity ${ok}\n`,
      `Cannot parse "memory.pressure": "full avg10" is "Infinity", not a non-negative number`,
    ],
    [
      "two dots",
      `some avg10=1.2.3 ${ok}\n`,
      `Cannot parse "memory.pressure": "some avg10" is "1.2.3", not a non-negative number`,
    ],
    [
      "fractional total",
      "some avg10=0.00 avg60=0.00 avg300=0.00 total=1.5\n",
      `Cannot parse "memory.pressure": "some total" is "1.5", not a non-negative integer`,
    ],
    [
      "missing total",
      "some avg10=0.00 avg60=0.00 avg300=0.00\n",
      `Cannot parse "memory.pressure": missing "total" in "some" line`,
    ],
    [
      "missing avg10 in full",
      `some avg10=0.00 ${ok}\nfull ${ok}\n`,
      `Cannot parse "memory.pressure": missing "avg10" in "full" line`,
    ],
    [
      "field without =",
      `some avg10 ${ok}\n`,
      `Cannot parse "memory.pressure": "some" line has a bad field "avg10"`,
    ],
  ];
  for (const [name, text, message] of cases) {
    assert.throws(() => parsePressure(text), (error: unknown) => {
      assert.ok(error instanceof ParseError, name);
      assert.equal(error.message, message, name);
      return true;
    });
  }
});

Deno.test("parsePressure() names the file kind it is given in errors", () => {
  assert.throws(
    () => parsePressure("", "pressure/memory"),
    { name: "ParseError", message: `Cannot parse "pressure/memory": missing "some" line` },
  );
});
