import { lineValue, parseCounter, parseDecimal } from "./flat_keyed.ts";
import { ParseError } from "./parse_error.ts";

/** One line of a PSI file (`some` or `full`). */
export interface PressureLine {
  /** Share of wall time stalled, 10 s average, percent (0–100). */
  readonly avg10Percent: number;
  /** 60 s average, percent. */
  readonly avg60Percent: number;
  /** 300 s average, percent. */
  readonly avg300Percent: number;
  /** Cumulative stall time, microseconds. */
  readonly totalMicroseconds: number;
}

/** A parsed `memory.pressure` or `/proc/pressure/memory`. */
export interface Pressure {
  /** Time at least one task stalled on memory. */
  readonly some: PressureLine;
  /** Null on kernels/files without a `full` line. */
  readonly full: PressureLine | null;
}

/**
 * Parses the fields of one PSI line after its `some`/`full` word:
 * `avg10=0.00 avg60=0.00 avg300=0.00 total=0`. Fields are found by name.
 */
function parseLine(fileKind: string, kind: string, fields: string): PressureLine {
  let avg10: number | undefined;
  let avg60: number | undefined;
  let avg300: number | undefined;
  let total: number | undefined;
  for (const field of fields.split(" ")) {
    if (field.length === 0) continue;
    const eq = field.indexOf("=");
    if (eq <= 0) throw new ParseError(fileKind, `"${kind}" line has a bad field "${field}"`);
    const name = field.slice(0, eq);
    const raw = field.slice(eq + 1);
    if (name === "avg10") avg10 = parseDecimal(fileKind, `${kind} avg10`, raw);
    else if (name === "avg60") avg60 = parseDecimal(fileKind, `${kind} avg60`, raw);
    else if (name === "avg300") avg300 = parseDecimal(fileKind, `${kind} avg300`, raw);
    else if (name === "total") total = parseCounter(fileKind, `${kind} total`, raw);
    // Unknown fields are ignored: a later kernel may add one.
  }
  const missing = (name: string) => new ParseError(fileKind, `missing "${name}" in "${kind}" line`);
  if (avg10 === undefined) throw missing("avg10");
  if (avg60 === undefined) throw missing("avg60");
  if (avg300 === undefined) throw missing("avg300");
  if (total === undefined) throw missing("total");
  return {
    avg10Percent: avg10,
    avg60Percent: avg60,
    avg300Percent: avg300,
    totalMicroseconds: total,
  };
}

/**
 * Parses PSI text; throws ParseError on a missing `some` line or bad values. A missing
 * `full` line gives `full: null`. `fileKind` names the file in error messages
 * (`"pressure/memory"` for the node-wide file).
 */
export function parsePressure(text: string, fileKind = "memory.pressure"): Pressure {
  const some = lineValue(text, "some ");
  if (some === undefined) throw new ParseError(fileKind, `missing "some" line`);
  const full = lineValue(text, "full ");
  return {
    some: parseLine(fileKind, "some", some),
    full: full === undefined ? null : parseLine(fileKind, "full", full),
  };
}
