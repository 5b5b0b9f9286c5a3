/**
 * A Clock a test drives by hand: `advance(ms)` moves the monotonic and the wall clock
 * together and wakes the sleepers whose time has come; `jumpWall(ms)` moves only the wall
 * clock, as NTP or an operator setting the time does.
 */
import type { Clock } from "../../src/clock.ts";

interface Sleeper {
  readonly untilMs: number;
  readonly wake: () => void;
}

export class FakeClock implements Clock {
  #nowMs: number;
  #wallStartMs: number;
  #sleepers: Sleeper[] = [];

  /** `wallStart`: the wall time at monotonic 0. */
  constructor(startMs = 0, wallStart = new Date("2026-01-02T15:04:05.123Z")) {
    this.#nowMs = startMs;
    this.#wallStartMs = wallStart.getTime();
  }

  monotonicMs(): number {
    return this.#nowMs;
  }

  wallTime(): Date {
    return new Date(this.#wallStartMs + this.#nowMs);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const sleeper: Sleeper = {
        untilMs: this.#nowMs + ms,
        wake: () => {
          signal?.removeEventListener("abort", sleeper.wake);
          this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
          resolve();
        },
      };
      signal?.addEventListener("abort", sleeper.wake, { once: true });
      this.#sleepers.push(sleeper);
    });
  }

  /** Moves time forward and wakes every sleeper due by then. */
  advance(ms: number): void {
    this.#nowMs += ms;
    for (const sleeper of [...this.#sleepers]) {
      if (sleeper.untilMs <= this.#nowMs) sleeper.wake();
    }
  }

  /** Moves the wall clock alone (either way); the monotonic clock and sleepers are untouched. */
  jumpWall(ms: number): void {
    this.#wallStartMs += ms;
  }

  /** Sleepers not yet woken. */
  get pendingSleeps(): number {
    return this.#sleepers.length;
  }
}
