/** Time for the agent: a monotonic clock for every window and cooldown, the wall clock only for logs. */
export interface Clock {
  /** Monotonic milliseconds (never jumps with the wall clock). */
  monotonicMs(): number;
  /** Wall-clock time, for timestamps shown to people. */
  wallTime(): Date;
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  monotonicMs: () => performance.now(),
  wallTime: () => new Date(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = setTimeout(done, ms);
      signal?.addEventListener("abort", done, { once: true });
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      }
    }),
};
