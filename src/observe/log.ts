/**
 * Logging through LogTape: JSON lines (default, for log pipelines) or text (for people).
 * Every decision is one record whose properties carry the evidence.
 */
import {
  configure,
  getLogger,
  jsonLinesFormatter,
  type Logger,
  type LogRecord,
  type Sink,
} from "@logtape/logtape";
import type { LogLevel } from "../config.ts";

export type { Logger };

/** The root category; children are "agent", "api", "sense". */
export const LOG_CATEGORY = "soomkiller";

/** Configures LogTape once per process. `sink` replaces stdout (tests, the demo). */
export async function setupLogging(
  format: "json" | "text",
  level: LogLevel,
  sink?: Sink,
): Promise<void> {
  const formatter = format === "json" ? jsonLinesFormatter : textFormatter;
  await configure({
    reset: true,
    sinks: { out: sink ?? stdoutSink(formatter) },
    loggers: [
      { category: [LOG_CATEGORY], lowestLevel: level, sinks: ["out"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["out"] },
    ],
  });
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

/** A logger under the agent's root category. */
export function agentLogger(...subcategory: string[]): Logger {
  return getLogger([LOG_CATEGORY, ...subcategory]);
}

const LEVEL_LABEL: Record<string, string> = {
  trace: "TRACE",
  debug: "DEBUG",
  info: "INFO ",
  warning: "WARN ",
  error: "ERROR",
  fatal: "FATAL",
};

/**
 * `15:04:05.000 INFO  message key=value …`; a `candidates` table goes on indented lines
 * so a person can read who was considered and why.
 */
export function textFormatter(record: LogRecord): string {
  const time = new Date(record.timestamp).toISOString().slice(11, 23);
  let message = "";
  for (let i = 0; i < record.message.length; i++) {
    const part = record.message[i];
    message += i % 2 === 0 ? String(part) : formatValue(part);
  }
  const shown = new Set(
    record.rawMessage && typeof record.rawMessage === "string"
      ? [...record.rawMessage.matchAll(/\{([^}]+)\}/g)].map((m) => m[1])
      : [],
  );
  const extras: string[] = [];
  let table = "";
  for (const [key, value] of Object.entries(record.properties)) {
    if (shown.has(key)) continue;
    if (key === "candidates" && Array.isArray(value)) {
      table = value.map((row) => `\n      ${formatRow(row)}`).join("");
    } else extras.push(`${key}=${formatValue(value)}`);
  }
  const tail = extras.length > 0 ? `  ${extras.join(" ")}` : "";
  return `${time} ${LEVEL_LABEL[record.level] ?? record.level} ${message}${tail}${table}\n`;
}

function formatValue(value: unknown): string {
  if (value === null || value === undefined) return "-";
  if (typeof value === "string") return value;
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(1);
  return JSON.stringify(value);
}

function formatRow(row: unknown): string {
  if (row === null || typeof row !== "object") return formatValue(row);
  return Object.entries(row).map(([key, value]) => `${key}=${formatValue(value)}`).join(" ");
}
