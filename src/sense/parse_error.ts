/** The one error type every parser in sense/ throws for malformed input. */
export class ParseError extends Error {
  /** Which file kind was being parsed, e.g. "memory.pressure". */
  readonly fileKind: string;

  /**
   * `detail` may quote the file (a malformed line): it is escaped (no control character
   * reaches a log line) and cut to {@linkcode MAX_DETAIL_CHARS} with a marker, so a 20 MB
   * garbage line becomes a short excerpt.
   */
  constructor(fileKind: string, detail: string) {
    super(`Cannot parse "${fileKind}": ${excerpt(detail)}`);
    this.name = "ParseError";
    this.fileKind = fileKind;
  }
}

/** Longest parse-error detail kept, characters (before escaping). */
export const MAX_DETAIL_CHARS = 200;

/** `text` with control characters escaped (`\n`, `\u001b`, …), cut with a marker. */
export function excerpt(text: string, max: number = MAX_DETAIL_CHARS): string {
  const cut = text.length > max ? text.slice(0, max) : text;
  const escaped = cut.replace(
    // deno-lint-ignore no-control-regex
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
    (c) => {
      const named: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };
      return named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
    },
  );
  return text.length > max ? `${escaped}… (${text.length - max} more characters cut)` : escaped;
}
