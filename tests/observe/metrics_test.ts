import assert from "node:assert/strict";
import { escapeLabelValue, formatValue, Registry } from "../../src/observe/metrics.ts";
import { promtoolCheckMetrics } from "./promtool.ts";
import { PROMTOOL, tool } from "../tools.ts";

const promtool = tool(PROMTOOL);

Deno.test("Registry.render() writes HELP, TYPE and samples in the 0.0.4 text format", () => {
  const registry = new Registry();
  const requests = registry.counter("app_requests_total", "Requests served", ["verb", "code"]);
  const temperature = registry.gauge("app_temperature_celsius", "Current temperature");
  requests.inc({ verb: "GET", code: "200" });
  requests.inc({ verb: "GET", code: "200" }, 2);
  requests.inc({ verb: "POST", code: "<error>" });
  temperature.set(-3.5);
  assert.equal(
    registry.render(),
    [
      "# HELP app_requests_total Requests served",
      "# TYPE app_requests_total counter",
      'app_requests_total{verb="GET",code="200"} 3',
      'app_requests_total{verb="POST",code="<error>"} 1',
      "# HELP app_temperature_celsius Current temperature",
      "# TYPE app_temperature_celsius gauge",
      "app_temperature_celsius -3.5",
      "",
    ].join("\n"),
  );
});

Deno.test("escapeLabelValue() escapes backslash, double quote and line feed", () => {
  assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  assert.equal(escapeLabelValue("plain-value_1"), "plain-value_1");
  const registry = new Registry();
  registry.gauge("g", "Help with \\ and\nnewline", ["l"]).set(1, { l: 'x"y' });
  const text = registry.render();
  assert.match(text, /^# HELP g Help with \\\\ and\\nnewline$/m);
  assert.match(text, /^g\{l="x\\"y"\} 1$/m);
});

Deno.test("formatValue() writes infinities and NaN as Prometheus does", () => {
  assert.equal(formatValue(Infinity), "+Inf");
  assert.equal(formatValue(-Infinity), "-Inf");
  assert.equal(formatValue(NaN), "NaN");
  assert.equal(formatValue(0.25), "0.25");
  assert.equal(formatValue(188743680), "188743680");
});

Deno.test("Histogram counts observations in cumulative buckets with sum and count", () => {
  const registry = new Registry();
  const latency = registry.histogram("op_duration_seconds", "Op time", [0.1, 0.5, 1]);
  for (const value of [0.05, 0.1, 0.3, 0.7, 2]) latency.observe(value);
  assert.deepEqual(latency.get(), { cumulative: [2, 3, 4, 5], sum: 3.15, count: 5 });
  const lines = registry.render().split("\n");
  assert.deepEqual(lines.slice(2), [
    'op_duration_seconds_bucket{le="0.1"} 2',
    'op_duration_seconds_bucket{le="0.5"} 3',
    'op_duration_seconds_bucket{le="1"} 4',
    'op_duration_seconds_bucket{le="+Inf"} 5',
    "op_duration_seconds_sum 3.15",
    "op_duration_seconds_count 5",
    "",
  ]);
});

Deno.test("Histogram puts `le` after the declared labels", () => {
  const registry = new Registry();
  registry.histogram("h_seconds", "H", [1], ["verb"]).observe(0.5, { verb: "GET" });
  assert.match(registry.render(), /^h_seconds_bucket\{verb="GET",le="1"\} 1$/m);
  assert.match(registry.render(), /^h_seconds_count\{verb="GET"\} 1$/m);
});

Deno.test("Gauge series can be removed one by one or all at once", () => {
  const registry = new Registry();
  const swap = registry.gauge("pod_swap_bytes", "Swap", ["namespace", "pod"]);
  swap.set(1, { namespace: "a", pod: "x" });
  swap.set(2, { namespace: "a", pod: "y" });
  swap.remove({ namespace: "a", pod: "x" });
  assert.equal(swap.size, 1);
  assert.equal(swap.get({ namespace: "a", pod: "y" }), 2);
  swap.clear();
  assert.equal(swap.size, 0);
  assert.equal(registry.render(), "# HELP pod_swap_bytes Swap\n# TYPE pod_swap_bytes gauge\n");
});

Deno.test("Registry refuses bad names, missing labels, duplicate names and falling counters", () => {
  const registry = new Registry();
  assert.throws(() => registry.gauge("bad-name", "x"), /Invalid metric name "bad-name"/);
  assert.throws(() => registry.gauge("g", "x", ["__reserved"]), /Invalid label name/);
  assert.throws(() => registry.histogram("h", "x", [1], ["le"]), /cannot use label "le"/);
  assert.throws(() => registry.histogram("h2", "x", [2, 1]), /ascending/);
  const counter = registry.counter("c_total", "x", ["a"]);
  assert.throws(() => counter.inc({}), /Missing label "a" for metric "c_total"/);
  assert.throws(() => counter.inc({ a: "1" }, -1), /cannot go down/);
  assert.throws(() => registry.counter("c_total", "again"), /already registered/);
});

Deno.test("Registry output with every kind of series passes promtool check metrics", {
  ignore: promtool.skip,
}, async () => {
  const registry = new Registry();
  registry.counter("demo_events_total", "Events", ["result"]).inc({ result: 'we"ird\\' });
  registry.gauge("demo_size_bytes", "Size").set(1.5e21);
  registry.histogram("demo_duration_seconds", "Duration", [0.001, 1]).observe(0.5);
  registry.gauge("demo_unset_bytes", "Never set", ["pod"]);
  const problems = await promtoolCheckMetrics(registry.render());
  assert.equal(problems, "", problems);
});
