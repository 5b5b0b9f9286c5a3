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
  readonly some: PressureLine;
  /** Null on kernels/files without a `full` line. */
  readonly full: PressureLine | null;
}

/** Parses PSI text; throws ParseError on a missing `some` line or bad values. */
export function parsePressure(text: string): Pressure {
  void text;
  throw new ParseError("memory.pressure", "not implemented");
}
