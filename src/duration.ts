/** Go-style durations (`500ms`, `10s`, `1m30s`, `1.5h`), in milliseconds. */

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  "μs": 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

/** Parses a Go duration; null when it is not one. `0` alone is allowed, as in Go. */
export function parseDuration(text: string): number | null {
  if (text === "0") return 0;
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let totalMs = 0;
  let index = 0;
  while (index < text.length) {
    part.lastIndex = index;
    const match = part.exec(text);
    if (!match) return null;
    totalMs += Number(match[1]) * UNIT_MS[match[2]!]!;
    index = part.lastIndex;
  }
  return index === 0 ? null : totalMs;
}

/** Formats milliseconds the way Go prints a duration: `1m30s`, `500ms`, `0s`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms < 1_000) return `${trim(ms)}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = (ms % 60_000) / 1_000;
  let out = "";
  if (hours > 0) out += `${hours}h`;
  if (hours > 0 || minutes > 0) out += `${minutes}m`;
  return `${out}${trim(seconds)}s`;
}

function trim(value: number): string {
  return String(Number(value.toFixed(3)));
}
