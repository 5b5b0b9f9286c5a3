/**
 * A Logger that keeps every record in memory, for tests that check what the agent says:
 * the level, the message template, its properties and the text with them filled in as
 * LogTape fills them in (`Deno.inspect`: strings quoted).
 */
import type { Logger } from "../../src/observe/log.ts";

/** One log call. */
export interface LogLine {
  readonly level: "trace" | "debug" | "info" | "warning" | "error" | "fatal";
  /** The message template, e.g. `Cannot read swap counters: {error}`. */
  readonly template: string;
  readonly properties: Readonly<Record<string, unknown>>;
  /** The template with each `{key}` replaced by its property. */
  readonly text: string;
}

export class RecordingLog {
  readonly lines: LogLine[] = [];
  /** The Logger to hand the code under test. */
  readonly logger: Logger;

  constructor() {
    const record = (level: LogLine["level"]) =>
    (
      template: unknown,
      properties: Record<string, unknown> = {},
    ) => {
      const text = String(template).replace(
        /\{([^}]+)\}/g,
        (_, key: string) => Deno.inspect(properties[key]),
      );
      this.lines.push({ level, template: String(template), properties, text });
    };
    const logger = {
      trace: record("trace"),
      debug: record("debug"),
      info: record("info"),
      warn: record("warning"),
      warning: record("warning"),
      error: record("error"),
      fatal: record("fatal"),
      getChild: () => logger,
      with: () => logger,
    };
    this.logger = logger as unknown as Logger;
  }

  /** Lines at `level` or above ("warning" gives warnings, errors and fatals). */
  atLeast(level: LogLine["level"]): LogLine[] {
    const order = ["trace", "debug", "info", "warning", "error", "fatal"];
    return this.lines.filter((line) => order.indexOf(line.level) >= order.indexOf(level));
  }

  /** Lines whose filled-in text matches. */
  matching(pattern: RegExp): LogLine[] {
    return this.lines.filter((line) => pattern.test(line.text));
  }

  /** Lines whose text or any string among their properties (at any depth) matches. */
  mentioning(pattern: RegExp): LogLine[] {
    const strings = (value: unknown): string[] =>
      typeof value === "string"
        ? [value]
        : value !== null && typeof value === "object"
        ? Object.values(value).flatMap(strings)
        : [];
    return this.lines.filter((line) =>
      pattern.test(line.text) || strings(line.properties).some((text) => pattern.test(text))
    );
  }
}
