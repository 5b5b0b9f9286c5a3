import assert from "node:assert/strict";
import {
  agentLogger,
  getLogger,
  jsonLinesFormatter,
  type LogRecord,
  MAX_VALUE_CHARS,
  setupLogging,
  textFormatter,
} from "../../src/observe/log.ts";

/** Records of what `fn` logs under level `level`. */
async function capture(
  fn: () => void,
  level: "debug" | "info" | "warning" | "error" = "debug",
): Promise<LogRecord[]> {
  const records: LogRecord[] = [];
  await setupLogging("json", level, (record) => records.push(record));
  fn();
  return records;
}

Deno.test("agentLogger() writes records with category, level, template and properties", async () => {
  const [record, ...rest] = await capture(() =>
    agentLogger("agent").warn("Cannot read {path}: {error}", { path: "/x", error: "gone" })
  );
  assert.equal(rest.length, 0);
  assert.deepEqual(record!.category, ["soomkiller", "agent"]);
  assert.equal(record!.level, "warning");
  assert.equal(record!.rawMessage, "Cannot read {path}: {error}");
  assert.deepEqual(record!.message, ["Cannot read ", "/x", ": ", "gone", ""]);
  assert.deepEqual(record!.properties, { path: "/x", error: "gone" });
});

Deno.test("setupLogging() level: records below it are dropped", async () => {
  const log = agentLogger("agent");
  const records = await capture(() => {
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
  }, "warning");
  assert.deepEqual(records.map((r) => r.level), ["warning", "error"]);
});

Deno.test("getLogger() outside the agent's category is silent (replay's quiet logger)", async () => {
  const records = await capture(() => getLogger(["replay-quiet"]).error("never shown"));
  assert.equal(records.length, 0);
});

Deno.test("getChild() and with() extend the category and the properties", async () => {
  const [record] = await capture(() =>
    agentLogger().getChild("api").with({ node: "n1" }).info("x {node}", { extra: 1 })
  );
  assert.deepEqual(record!.category, ["soomkiller", "api"]);
  assert.deepEqual(record!.properties, { node: "n1", extra: 1 });
  assert.deepEqual(record!.message, ["x ", "n1", ""]);
});

Deno.test("templates: {{ and }} are literal braces, a missing key is undefined", async () => {
  const [record] = await capture(() => agentLogger().info("{{a}} {missing} {b}", { b: 2 }));
  assert.deepEqual(record!.message, ["{a} ", undefined, " ", 2, ""]);
});

/** Any control character (C0, DEL, C1) or line separator. */
// deno-lint-ignore no-control-regex -- what must never reach a log line
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;

const record = (
  rawMessage: string,
  properties: Record<string, unknown>,
  message: unknown[],
): LogRecord => ({
  category: ["soomkiller", "agent"],
  level: "info",
  timestamp: Date.UTC(2026, 0, 2, 15, 4, 5),
  rawMessage,
  properties,
  message,
});

async function formatted(
  template: string,
  properties: Record<string, unknown>,
): Promise<LogRecord> {
  const [r] = await capture(() => agentLogger("agent").info(template, properties));
  return r!;
}

Deno.test("jsonLinesFormatter() writes LogTape's JSON lines shape", () => {
  const line = jsonLinesFormatter(
    record("hello {who}", { who: "you", n: 1 }, ["hello ", "you", ""]),
  );
  assert.ok(line.endsWith("\n"));
  assert.equal(line.split("\n").length, 2);
  assert.deepEqual(JSON.parse(line), {
    "@timestamp": "2026-01-02T15:04:05.000Z",
    level: "INFO",
    message: "hello you",
    logger: "soomkiller.agent",
    properties: { who: "you", n: 1 },
  });
  const warn = JSON.parse(jsonLinesFormatter({ ...record("w", {}, ["w"]), level: "warning" }));
  assert.equal(warn.level, "WARN");
});

Deno.test("log messages do not quote values inside sentences and URLs (issue 13)", async () => {
  const start = await formatted("kube-soomkiller {version} watching node {nodeName}: x", {
    version: "0.1.0",
    nodeName: "node-a",
  });
  const serving = await formatted("Serving /metrics, /healthz and /readyz on http://{address}", {
    address: "0.0.0.0:9402",
  });
  for (const format of [jsonLinesFormatter, (r: LogRecord) => textFormatter(r)]) {
    const startLine = format(start);
    const servingLine = format(serving);
    const text = (line: string) => line.startsWith("{") ? JSON.parse(line).message : line;
    assert.match(text(startLine), /kube-soomkiller 0\.1\.0 watching node node-a: x/);
    assert.match(text(servingLine), /on http:\/\/0\.0\.0\.0:9402/);
  }
  // Objects in a sentence are JSON; numbers and booleans as they are.
  const mixed = await formatted("{a} {b} {c} {d}", { a: 1.5, b: true, c: { x: 1 }, d: null });
  assert.equal(JSON.parse(jsonLinesFormatter(mixed)).message, '1.5 true {"x":1} null');
});

Deno.test("textFormatter() escapes control characters: a value cannot forge a log line (issue 12)", async () => {
  const forged = "web-0\n15:04:05.000 WARN  delete prod/FORGED → deleted";
  const r = await formatted("Cannot read pod cgroup {cgroupPath}: {message}", {
    cgroupPath: forged,
    message: "bad\r\x1b[31mred\x07\u0085\u2028",
    [`key\nFORGED`]: "v\tw",
    candidates: [{ pod: "a\nb", fullAvg10: 1 }],
  });
  const line = textFormatter(r);
  // One line for the record, one indented line per candidate, nothing else.
  const lines = line.slice(0, -1).split("\n");
  assert.equal(lines.length, 2, line);
  assert.match(lines[1]!, /^ {6}pod=a\\nb fullAvg10=1$/);
  assert.ok(lines[0]!.includes("web-0\\n15:04:05.000 WARN  delete prod/FORGED"));
  assert.ok(lines[0]!.includes("bad\\r\\x1b[31mred\\x07\\x85\\u2028"));
  assert.ok(lines[0]!.includes("key\\nFORGED=v\\tw"));
  for (const text of lines) {
    assert.doesNotMatch(text, CONTROL);
  }
});

Deno.test("jsonLinesFormatter() keeps every value on one line, C1 and separators escaped", async () => {
  const r = await formatted("pod {pod}", { pod: "a\nb\u0085\u2028", nested: { x: "\x1b" } });
  const line = jsonLinesFormatter(r);
  assert.equal(line.indexOf("\n"), line.length - 1);
  assert.doesNotMatch(line.slice(0, -1), CONTROL);
  const parsed = JSON.parse(line);
  assert.equal(parsed.message, "pod a\nb\u0085\u2028");
  assert.equal(parsed.properties.nested.x, "\x1b");
});

Deno.test("long values are cut with a marker: a 20 MB value is not a 20 MB line (issue 12)", async () => {
  const huge = "x".repeat(20 * 1024 * 1024);
  const r = await formatted("Cannot parse memory.stat line: {line}", {
    line: huge,
    error: new Error(huge),
    deep: [{ text: huge }],
  });
  for (const format of [jsonLinesFormatter, textFormatter]) {
    const line = format(r);
    assert.ok(line.length < 8 * MAX_VALUE_CHARS, `${line.length} chars`);
    assert.ok(line.includes(`…[cut: ${huge.length} chars]`));
  }
  const json = JSON.parse(jsonLinesFormatter(r));
  assert.equal(json.properties.line, `${"x".repeat(MAX_VALUE_CHARS)}…[cut: ${huge.length} chars]`);
  assert.equal(json.properties.error.name, "Error");
  assert.equal(
    json.properties.deep[0].text.length,
    MAX_VALUE_CHARS + `…[cut: ${huge.length} chars]`.length,
  );
  // A value at the limit is left whole.
  const exact = await formatted("{v}", { v: "y".repeat(MAX_VALUE_CHARS) });
  assert.equal(JSON.parse(jsonLinesFormatter(exact)).message, "y".repeat(MAX_VALUE_CHARS));
});

Deno.test("textFormatter() keeps its shape: time, level, message, extras, candidate table", () => {
  const line = textFormatter(
    record("Tick {n}", { n: 3, rate: 12.345, gone: null, candidates: [{ pod: "a", psi: 50 }] }, [
      "Tick ",
      3,
      "",
    ]),
  );
  assert.equal(line, "15:04:05.000 INFO  Tick 3  rate=12.3 gone=-\n      pod=a psi=50\n");
});
