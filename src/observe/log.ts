/**
 * The agent's logger: JSON lines (default, for log pipelines) or text (for people). Every
 * decision is one record whose properties carry the evidence.
 *
 * In-house and small on purpose: the agent runs on nodes short of memory, and LogTape
 * (which this replaces, with the same calls: `log.info("… {key} …", { key })`, categories,
 * a sink per process) cost ~7 MiB of RSS, most of it Deno's Node compatibility layer that
 * any npm package pulls in.
 *
 * What a log line can never be made to do by a value in it (a pod name, a cgroup
 * directory name, a file's contents): start a new line or send terminal control codes
 * (text lines escape control characters; JSON escapes them anyway), or grow without bound
 * (a string value longer than {@linkcode MAX_VALUE_CHARS} is cut, with a marker that says
 * how long it was).
 */
import type { LogLevel } from "../config.ts";

/** Every level a logger has; `warning` is `warn`. */
export type Level = "trace" | "debug" | "info" | "warning" | "error" | "fatal";

/** One log call, as sinks and formatters get it. */
export interface LogRecord {
  /** e.g. `["soomkiller", "agent"]`. */
  readonly category: readonly string[];
  readonly level: Level;
  /** `Date.now()` at the call, ms. */
  readonly timestamp: number;
  /** The template split at its `{key}`s: text, value, text, …, text. */
  readonly message: readonly unknown[];
  /** The template as written, e.g. `Cannot read swap counters: {error}`. */
  readonly rawMessage: string;
  readonly properties: Readonly<Record<string, unknown>>;
}

/** Where records go. */
export type Sink = (record: LogRecord) => void;

/** What the agent logs through. */
export interface Logger {
  readonly category: readonly string[];
  trace(message: string, properties?: Record<string, unknown>): void;
  debug(message: string, properties?: Record<string, unknown>): void;
  info(message: string, properties?: Record<string, unknown>): void;
  warn(message: string, properties?: Record<string, unknown>): void;
  warning(message: string, properties?: Record<string, unknown>): void;
  error(message: string, properties?: Record<string, unknown>): void;
  fatal(message: string, properties?: Record<string, unknown>): void;
  /** A logger one category deeper. */
  getChild(subcategory: string): Logger;
  /** A logger that adds `properties` to every record. */
  with(properties: Record<string, unknown>): Logger;
}

/** The root category; children are "agent", "api", "sense". */
export const LOG_CATEGORY = "soomkiller";

/** Longest string value a record shows, in UTF-16 code units; longer ones are cut. */
export const MAX_VALUE_CHARS = 4096;

const RANK: Record<Level, number> = {
  trace: 0,
  debug: 1,
  info: 2,
  warning: 3,
  error: 4,
  fatal: 5,
};

/** The process's configuration: null until {@linkcode setupLogging}, then the sink. */
let current: { readonly sink: Sink; readonly lowest: number } | null = null;

/**
 * Configures logging once per process (again: replaces). `sink` replaces stdout (tests,
 * the demo). Only loggers under {@linkcode LOG_CATEGORY} write; others are silent.
 */
export function setupLogging(
  format: "json" | "text",
  level: LogLevel,
  sink?: Sink,
): Promise<void> {
  const formatter = format === "json" ? jsonLinesFormatter : textFormatter;
  current = { sink: sink ?? stdoutSink(formatter), lowest: RANK[level] };
  return Promise.resolve();
}

/**
 * Every level to stdout with a synchronous write: nothing is lost when the process exits
 * right after logging, and error lines keep their order with the rest.
 */
function stdoutSink(formatter: (record: LogRecord) => string): Sink {
  const encoder = new TextEncoder();
  return (record) => {
    const bytes = encoder.encode(formatter(record));
    let written = 0;
    while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
  };
}

/** A logger of `category` (a name or a path of names). */
export function getLogger(category: string | readonly string[]): Logger {
  return makeLogger(typeof category === "string" ? [category] : [...category], {});
}

/** A logger under the agent's root category. */
export function agentLogger(...subcategory: string[]): Logger {
  return getLogger([LOG_CATEGORY, ...subcategory]);
}

function makeLogger(category: readonly string[], context: Record<string, unknown>): Logger {
  const ours = category[0] === LOG_CATEGORY;
  const emit = (level: Level) => (message: string, properties: Record<string, unknown> = {}) => {
    const config = current;
    if (!ours || config === null || RANK[level] < config.lowest) return;
    const all = { ...context, ...properties };
    const template = String(message);
    config.sink({
      category,
      level,
      timestamp: Date.now(),
      message: splitTemplate(template, all),
      rawMessage: template,
      properties: all,
    });
  };
  return {
    category,
    trace: emit("trace"),
    debug: emit("debug"),
    info: emit("info"),
    warn: emit("warning"),
    warning: emit("warning"),
    error: emit("error"),
    fatal: emit("fatal"),
    getChild: (subcategory) => makeLogger([...category, subcategory], context),
    with: (properties) => makeLogger(category, { ...context, ...properties }),
  };
}

/** `a {x} b` → `["a ", properties.x, " b"]`; `{{` and `}}` are literal braces. */
function splitTemplate(template: string, properties: Record<string, unknown>): unknown[] {
  const parts: unknown[] = [];
  let text = "";
  for (let i = 0; i < template.length; i++) {
    const char = template[i]!;
    if ((char === "{" || char === "}") && template[i + 1] === char) {
      text += char;
      i++;
    } else if (char === "{") {
      const close = template.indexOf("}", i + 1);
      if (close === -1) {
        text += template.slice(i);
        break;
      }
      const key = template.slice(i + 1, close).trim();
      parts.push(text, Object.hasOwn(properties, key) ? properties[key] : undefined);
      text = "";
      i = close;
    } else text += char;
  }
  parts.push(text);
  return parts;
}

/** Keys named in the template (shown in the message, not again after it). */
function templateKeys(template: string): Set<string> {
  return new Set([...template.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]!.trim()));
}

/** `s` cut to {@linkcode MAX_VALUE_CHARS} with a marker saying how long it was. */
export function cutValue(s: string): string {
  if (s.length <= MAX_VALUE_CHARS) return s;
  return `${s.slice(0, MAX_VALUE_CHARS)}…[cut: ${s.length} chars]`;
}

/** `value` with every string in it (at any depth) cut; Errors as plain objects. */
function cutDeep(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return cutValue(value);
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) {
    const plain: Record<string, unknown> = { ...value };
    return cutDeep({ ...plain, name: value.name, message: value.message }, depth);
  }
  if (value === null || typeof value !== "object" || depth > 16) return value;
  if (Array.isArray(value)) return value.map((item) => cutDeep(item, depth + 1));
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[cutValue(key)] = cutDeep(item, depth + 1);
  return out;
}

/**
 * `{"@timestamp":…,"level":"INFO","message":…,"logger":"soomkiller.agent","properties":{…}}`,
 * one line. Values in the message are shown as they are (`node node-a`, not
 * `node "node-a"`); the properties keep their types.
 */
export function jsonLinesFormatter(record: LogRecord): string {
  let message = "";
  for (let i = 0; i < record.message.length; i++) {
    const part = record.message[i];
    message += i % 2 === 0 ? String(part) : jsonMessageValue(part);
  }
  const line = JSON.stringify({
    "@timestamp": new Date(record.timestamp).toISOString(),
    level: record.level === "warning" ? "WARN" : record.level.toUpperCase(),
    message,
    logger: record.category.join("."),
    properties: cutDeep(record.properties),
  });
  // JSON.stringify escapes C0 controls; escape DEL, C1 and the JS line separators too.
  return line.replace(/[\u007f-\u009f\u2028\u2029]/g, unicodeEscape) + "\n";
}

function jsonMessageValue(value: unknown): string {
  if (typeof value === "string") return cutValue(value);
  if (value === undefined) return "undefined";
  if (typeof value === "number" || typeof value === "boolean" || value === null) {
    return String(value);
  }
  return cutValue(JSON.stringify(cutDeep(value)) ?? String(value));
}

const LEVEL_LABEL: Record<Level, string> = {
  trace: "TRACE",
  debug: "DEBUG",
  info: "INFO ",
  warning: "WARN ",
  error: "ERROR",
  fatal: "FATAL",
};

/**
 * `15:04:05.000 INFO  message key=value …`; a `candidates` table goes on indented lines
 * so a person can read who was considered and why. Values never break the line: control
 * characters are escaped (`\n`, `\x1b`), long strings cut.
 */
export function textFormatter(record: LogRecord): string {
  const time = new Date(record.timestamp).toISOString().slice(11, 23);
  let message = "";
  for (let i = 0; i < record.message.length; i++) {
    const part = record.message[i];
    message += i % 2 === 0 ? String(part) : formatValue(part);
  }
  const shown = templateKeys(record.rawMessage);
  const extras: string[] = [];
  let table = "";
  for (const [key, value] of Object.entries(record.properties)) {
    if (shown.has(key)) continue;
    if (key === "candidates" && Array.isArray(value)) {
      table = value.map((row) => `\n      ${formatRow(row)}`).join("");
    } else extras.push(`${escapeText(cutValue(key))}=${formatValue(value)}`);
  }
  const tail = extras.length > 0 ? `  ${extras.join(" ")}` : "";
  return `${time} ${LEVEL_LABEL[record.level] ?? record.level} ${message}${tail}${table}\n`;
}

function formatValue(value: unknown): string {
  if (value === null || value === undefined) return "-";
  if (typeof value === "string") return escapeText(cutValue(value));
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(1);
  if (typeof value === "boolean" || typeof value === "bigint") return String(value);
  // JSON escapes C0 controls already; the rest (DEL, C1, separators) here.
  return escapeText(cutValue(JSON.stringify(cutDeep(value)) ?? String(value)));
}

function formatRow(row: unknown): string {
  if (row === null || typeof row !== "object") return formatValue(row);
  return Object.entries(row).map(([key, value]) => `${escapeText(key)}=${formatValue(value)}`)
    .join(" ");
}

// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

const TEXT_ESCAPES: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** Control characters (C0, DEL, C1) and line separators as visible escapes. */
export function escapeText(s: string): string {
  return s.replace(CONTROL_CHARS, (char) => TEXT_ESCAPES[char] ?? hexEscape(char));
}

function hexEscape(char: string): string {
  const code = char.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : unicodeEscape(char);
}

function unicodeEscape(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
}
