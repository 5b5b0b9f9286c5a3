/**
 * Small pure helpers shared by the sense/ parsers: counters, `max`-or-bytes files and
 * flat-keyed files (`key value` per line: `memory.events`, `memory.stat`, `/proc/vmstat`).
 */
import { ParseError } from "./parse_error.ts";

/** True when `text` is a non-empty run of ASCII digits. */
function isDigits(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * Parses a non-negative integer counter such as `pswpin 50210` or `memory.current`.
 * Only ASCII digits are accepted (no sign, exponent, hex or blanks). Kernel counters are
 * u64: a value above `Number.MAX_SAFE_INTEGER` is still accepted and loses precision in the
 * low digits, which no decision here depends on.
 */
export function parseCounter(fileKind: string, key: string, raw: string): number {
  if (!isDigits(raw)) {
    throw new ParseError(fileKind, `"${key}" is "${raw}", not a non-negative integer`);
  }
  return Number(raw);
}

/**
 * Parses a non-negative decimal such as a PSI average (`37.30`): digits with at most one
 * dot. Rejects signs, exponents, `NaN` and `Infinity`.
 */
export function parseDecimal(fileKind: string, key: string, raw: string): number {
  const dot = raw.indexOf(".");
  const ok = dot === -1
    ? isDigits(raw)
    : isDigits(raw.slice(0, dot)) && isDigits(raw.slice(dot + 1));
  if (!ok) throw new ParseError(fileKind, `"${key}" is "${raw}", not a non-negative number`);
  return Number(raw);
}

/**
 * Parses a one-value file that holds bytes or `max` (`memory.max`, `memory.swap.max`,
 * `memory.current`): returns null for `max` (unlimited). Surrounding blanks are ignored.
 */
export function parseBytesOrMax(fileKind: string, text: string): number | null {
  const value = text.trim();
  if (value === "max") return null;
  if (value.length === 0) throw new ParseError(fileKind, "the file is empty");
  if (!isDigits(value)) {
    throw new ParseError(fileKind, `"${value}" is not a byte count or "max"`);
  }
  return Number(value);
}

/** Parses a one-value byte file (`memory.current`, `memory.swap.current`); `max` is an error. */
export function parseBytes(fileKind: string, text: string): number {
  const value = parseBytesOrMax(fileKind, text);
  if (value === null) throw new ParseError(fileKind, `"max" is not a byte count`);
  return value;
}

/**
 * The text after `prefix` on the line that starts with `prefix`, trimmed; undefined when no
 * line starts with it. Finds one key in a long file (`/proc/vmstat` has ~200 lines) without
 * splitting the whole text. Include the separator in `prefix` (`"pswpin "`, `"MemTotal:"`)
 * so that `pswpin` does not match `pswpin_zero`.
 */
export function lineValue(text: string, prefix: string): string | undefined {
  let start: number;
  if (text.startsWith(prefix)) {
    start = 0;
  } else {
    const at = text.indexOf("\n" + prefix);
    if (at === -1) return undefined;
    start = at + 1;
  }
  let end = text.indexOf("\n", start);
  if (end === -1) end = text.length;
  return text.slice(start + prefix.length, end).trim();
}

/** The counter on the `key value` line of a flat-keyed file; throws ParseError when missing. */
export function flatKeyedCounter(fileKind: string, text: string, key: string): number {
  const raw = lineValue(text, key + " ");
  if (raw === undefined) throw new ParseError(fileKind, `missing "${key}"`);
  return parseCounter(fileKind, key, raw);
}

/**
 * Parses a whole flat-keyed file (`memory.events`, `memory.stat`) into a map. Keys are
 * looked up by name: new kernels add keys anywhere. Blank lines are skipped; a line
 * without a value or with a non-integer value throws ParseError.
 */
export function parseFlatKeyed(fileKind: string, text: string): Map<string, number> {
  const values = new Map<string, number>();
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = text.length;
    if (end > start) {
      const line = text.slice(start, end);
      const space = line.indexOf(" ");
      if (space <= 0) throw new ParseError(fileKind, `line "${line}" is not "key value"`);
      const key = line.slice(0, space);
      values.set(key, parseCounter(fileKind, key, line.slice(space + 1).trim()));
    }
    start = end + 1;
  }
  return values;
}
