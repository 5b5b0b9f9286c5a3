// Synthetic warm-ups that grow in steps toward a plateau P and live in a swap limit 1.2 × P,
// against the headroom estimator and its trigger (grace 30 s + the default 10 s margin):
// how many of them would be deleted. A warm-up's first seconds are as steep as a leak's,
// so some are; the count is what the estimator's choices trade against lead (see
// tests/replay/alternatives.ts for the corpus side). Deterministic (a fixed seed):
//   deno run -A tests/replay/warmup_sweep.ts [--cases 2000]
import {
  headroomAlarms,
  INITIAL_HEADROOM_STATE,
  updateHeadroom,
} from "../../src/decide/headroom.ts";
import { headroomEstimator, type HeadroomSettings } from "../../src/decide/headroom_settings.ts";
import type { PodStats } from "../../src/sense/pod_stats.ts";

const MiB = 1 << 20;

function pod(swapBytes: number, swapMaxBytes: number): PodStats {
  const memory = 128 * MiB;
  return {
    uid: "p",
    cgroupPath: "/p",
    qosClass: "burstable",
    swapCurrentBytes: swapBytes,
    memoryCurrentBytes: memory,
    memoryMaxBytes: memory,
    fullAvg10Percent: 5,
    someAvg10Percent: 5,
    oomKillCount: 0,
    containers: [{
      id: "c",
      swapCurrentBytes: swapBytes,
      swapMaxBytes,
      memoryCurrentBytes: memory,
      memoryMaxBytes: memory,
    }],
  };
}

/** A linear congruential generator: the same cases on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

/**
 * Warm-ups `P·(1 − e^(−t/τ))` with P 150–400 MiB and τ 20–100 s, reached in steps every
 * 1–4 s with ±1 MiB of churn and ±50 ms of poll jitter, 300 s each. Returns how many the
 * trigger would have deleted.
 */
export function sweep(cases: number, settings: HeadroomSettings = headroomEstimator(1000)) {
  const rnd = random(1);
  let deleted = 0;
  for (let i = 0; i < cases; i++) {
    const plateau = (150 + rnd() * 250) * MiB;
    const tau = 20 + rnd() * 80;
    const limit = 1.2 * plateau;
    let state = INITIAL_HEADROOM_STATE;
    let level = 0;
    let nextStepS = 0;
    for (let t = 0; t <= 300; t++) {
      if (t >= nextStepS) {
        level = plateau * (1 - Math.exp(-t / tau));
        nextStepS = t + 1 + Math.floor(rnd() * 4);
      }
      const swap = Math.max(0, level + (rnd() - 0.5) * 2 * MiB);
      const step = updateHeadroom(
        state,
        [pod(swap, limit)],
        1e12,
        t * 1000 + rnd() * 100,
        settings,
      );
      state = step.state;
      const alarms = headroomAlarms(step.containers, () => 30, {
        headroomMarginMs: 10_000,
        swapFullPercent: 95,
      });
      if (alarms.length > 0) {
        deleted++;
        break;
      }
    }
  }
  return deleted;
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--cases");
  const cases = i >= 0 ? Number(Deno.args[i + 1]) : 2000;
  const variants: [string, Partial<HeadroomSettings>][] = [
    ["defaults", {}],
    ["no extrapolation limit", { maxExtrapolationRatio: Infinity }],
    ["least-squares fits", { fit: "least-squares" }],
    ["the earlier default (least squares, no limit)", {
      fit: "least-squares",
      maxExtrapolationRatio: Infinity,
    }],
  ];
  for (const [name, change] of variants) {
    const deleted = sweep(cases, { ...headroomEstimator(1000), ...change });
    console.log(`${name}: ${deleted} of ${cases} warm-ups to 1.2× their plateau deleted`);
  }
}
