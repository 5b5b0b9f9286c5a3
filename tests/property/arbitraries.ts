/**
 * Shared fast-check arbitraries and checks of the property tests: hostile text that looks
 * a little like kernel files, and "throws nothing but" assertions.
 */
import fc from "fast-check";

/** Runs per property: enough to find edge cases, few enough to keep the suite fast. */
export const RUNS = { numRuns: 300 } as const;

/** Words and separators of procfs/cgroupfs files, to build near-valid garbage. */
const KERNEL_TOKENS = [
  "pswpin",
  "pswpout",
  "nrswpin",
  "some",
  "full",
  "avg10=",
  "avg60=",
  "avg300=",
  "total=",
  "MemTotal:",
  "MemAvailable:",
  "SwapTotal:",
  "SwapFree:",
  "kB",
  "max",
  "oom_kill",
  " ",
  "  ",
  "\n",
  "\t",
  "\r\n",
  "=",
  "-",
  ".",
  "\u0000",
  "NaN",
  "Infinity",
  "1e3",
  "0x10",
];

/** A number as text, from small to far past 2^53, negative, fractional or exponent. */
export const numberText: fc.Arbitrary<string> = fc.oneof(
  fc.nat().map(String),
  fc.bigInt({ min: 0n, max: 1n << 70n }).map(String),
  fc.integer({ min: -1000, max: -1 }).map(String),
  fc.double().map(String),
  fc.integer({ min: 0, max: 10000 }).map((n) => (n / 100).toFixed(2)),
);

/** Arbitrary text: random Unicode, or kernel words, numbers and separators strung together. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.array(fc.oneof(fc.constantFrom(...KERNEL_TOKENS), numberText), { maxLength: 60 })
    .map((parts) => parts.join("")),
  fc.array(fc.oneof(fc.constantFrom(...KERNEL_TOKENS), numberText), { maxLength: 60 })
    .map((parts) => parts.join(" ")),
);

/** A kernel-style key: lower case, digits and underscores. */
export const keyName: fc.Arbitrary<string> = fc.stringMatching(/^[a-z][a-z0-9_]{0,23}$/);

/** Calls `fn`; an error of `type` is fine, anything else fails the property. */
export function throwsOnly(
  fn: () => unknown,
  type: abstract new (...args: never[]) => Error,
): void {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof type)) throw error;
  }
}

/** As {@linkcode throwsOnly}, for async functions. */
export async function rejectsOnly(
  fn: () => Promise<unknown>,
  type: abstract new (...args: never[]) => Error,
): Promise<void> {
  try {
    await fn();
  } catch (error) {
    if (!(error instanceof type)) throw error;
  }
}

/** `lines` in a random order (a dependent arbitrary). */
export function shuffled<T>(items: readonly T[]): fc.Arbitrary<T[]> {
  return fc.shuffledSubarray([...items], { minLength: items.length, maxLength: items.length });
}

/** Lower-case hex text of `minLength`–`maxLength` digits. */
export function hex(minLength: number, maxLength: number): fc.Arbitrary<string> {
  return fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength, maxLength });
}
