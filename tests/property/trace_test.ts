import assert from "node:assert/strict";
import fc from "fast-check";
import type { PodMeta } from "../../src/decide/pod_meta.ts";
import {
  formatTraceLine,
  parseTrace,
  TRACE_VERSION,
  type TraceHeader,
  type TracePods,
  type TraceTick,
} from "../../src/replay/trace.ts";
import type { PodStats } from "../../src/sense/pod_stats.ts";
import { hex, RUNS } from "./arbitraries.ts";

/**
 * parseTrace's own errors only: a plain Error that names the trace ("Cannot read …"); and
 * what it accepts has the shape replay reads (numbers where it computes).
 */
function traceErrorsOnly(text: string): void {
  let trace;
  try {
    trace = parseTrace(text, "trace.jsonl");
  } catch (error) {
    if (!(error instanceof Error) || error.name !== "Error") throw error;
    assert.match(error.message, /^Cannot read trace\.jsonl/);
    return;
  }
  for (const line of trace.lines) {
    if (line.kind === "pods") {
      assert.ok(line.pods.every((pod) => typeof pod.uid === "string"));
      continue;
    }
    assert.equal(typeof line.meminfo.swapFreeBytes, "number");
    assert.ok(line.pods.every((pod) => typeof pod.swapCurrentBytes === "number"));
  }
}

const line = fc.oneof(
  fc.string({ unit: "binary", maxLength: 60 }),
  fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
  fc.record({
    kind: fc.constantFrom("header", "tick", "pods", "other", 5, null),
    version: fc.oneof(fc.constant(TRACE_VERSION), fc.jsonValue({ maxDepth: 1 })),
    pollIntervalMs: fc.oneof(fc.integer(), fc.jsonValue({ maxDepth: 1 })),
    tMs: fc.oneof(fc.nat(), fc.jsonValue({ maxDepth: 1 })),
    swapInPages: fc.oneof(fc.nat(), fc.jsonValue({ maxDepth: 1 })),
    swapOutPages: fc.oneof(fc.nat(), fc.jsonValue({ maxDepth: 1 })),
    meminfo: fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.record({
        memTotalBytes: fc.nat(),
        memAvailableBytes: fc.nat(),
        swapTotalBytes: fc.nat(),
        swapFreeBytes: fc.oneof(fc.nat(), fc.jsonValue({ maxDepth: 1 })),
      }),
    ),
    pods: fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.array(fc.dictionary(
        fc.constantFrom("uid", "cgroupPath", "name", "namespace", "swapCurrentBytes"),
        fc.jsonValue({ maxDepth: 1 }),
      )),
    ),
  }, { requiredKeys: ["kind"] }).map((value) => JSON.stringify(value)),
);

Deno.test("parseTrace() throws nothing but its own errors, whatever the lines", () => {
  fc.assert(
    fc.property(fc.array(line, { maxLength: 8 }), (lines) => traceErrorsOnly(lines.join("\n"))),
    RUNS,
  );
});

const nat = fc.maxSafeNat();
const percent = fc.integer({ min: 0, max: 10000 }).map((n) => n / 100);
const uid = fc.uuid();

const podStats: fc.Arbitrary<PodStats> = fc.record({
  uid,
  cgroupPath: fc.string({ minLength: 1, maxLength: 40 }),
  qosClass: fc.constantFrom("guaranteed", "burstable", "besteffort"),
  swapCurrentBytes: nat,
  memoryCurrentBytes: nat,
  memoryMaxBytes: fc.option(nat),
  fullAvg10Percent: percent,
  someAvg10Percent: percent,
  oomKillCount: nat,
  containers: fc.array(
    fc.record({
      id: hex(1, 64),
      swapCurrentBytes: nat,
      swapMaxBytes: fc.option(nat),
      memoryCurrentBytes: nat,
      memoryMaxBytes: fc.option(nat),
    }),
    { maxLength: 3 },
  ),
});

const tick: fc.Arbitrary<TraceTick> = fc.record({
  kind: fc.constant("tick" as const),
  tMs: nat,
  swapInPages: nat,
  swapOutPages: nat,
  meminfo: fc.record({
    memTotalBytes: nat,
    memAvailableBytes: nat,
    swapTotalBytes: nat,
    swapFreeBytes: nat,
  }),
  pods: fc.array(podStats, { maxLength: 3 }),
});

const podMeta: fc.Arbitrary<PodMeta> = fc.record({
  uid,
  namespace: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
  name: fc.stringMatching(/^[a-z][a-z0-9.-]{0,40}$/),
  nodeName: fc.constant("node-a"),
  terminating: fc.boolean(),
  mirrorOfUid: fc.option(hex(32, 32)),
  priority: fc.option(fc.integer()),
  terminationGracePeriodSeconds: fc.option(fc.nat()),
  annotations: fc.dictionary(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 })),
});

const pods: fc.Arbitrary<TracePods> = fc.record({
  kind: fc.constant("pods" as const),
  tMs: nat,
  pods: fc.array(podMeta, { maxLength: 3 }),
});

const header: fc.Arbitrary<TraceHeader> = fc.record({
  kind: fc.constant("header" as const),
  version: fc.constant(TRACE_VERSION),
  pollIntervalMs: fc.integer({ min: 10, max: 60_000 }),
  nodeName: fc.string({ minLength: 1, maxLength: 30 }),
  startedAt: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  note: fc.string({ maxLength: 40 }),
});

Deno.test("parseTrace() reads back every line formatTraceLine() writes", () => {
  const trace = fc.tuple(
    header,
    tick,
    fc.array(fc.oneof(tick, pods), { maxLength: 6 }),
  );
  fc.assert(
    fc.property(trace, ([h, first, rest]) => {
      const text = [h, first, ...rest].map(formatTraceLine).join("\n") + "\n";
      // As plain JSON data (fast-check may make null-prototype records).
      const expected = JSON.parse(JSON.stringify({ header: h, lines: [first, ...rest] }));
      assert.deepEqual(parseTrace(text), expected);
    }),
    { numRuns: 200 },
  );
});
