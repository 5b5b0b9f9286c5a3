// The trade of tests/replay/warmup_sweep.ts, pinned: on synthetic warm-ups in steps into a
// limit 1.2× their plateau (they all live), each of the estimator's choices spares some the
// earlier estimator deleted. Deterministic (a fixed seed); 300 cases, about 3 s.
import assert from "node:assert/strict";
import { headroomEstimator, type HeadroomSettings } from "../../src/decide/headroom_settings.ts";
import { sweep } from "./warmup_sweep.ts";

const CASES = 300;
const deleted = (change: Partial<HeadroomSettings>) =>
  sweep(CASES, { ...headroomEstimator(1000), ...change });

Deno.test("warm-ups into 1.2× their plateau: the extrapolation limit and the robust fits each spare some", () => {
  const defaults = deleted({});
  const noLimit = deleted({ maxExtrapolationRatio: Infinity });
  const earlier = deleted({ fit: "least-squares", maxExtrapolationRatio: Infinity });
  const counts = `defaults ${defaults}, no limit ${noLimit}, earlier ${earlier} of ${CASES}`;
  assert.ok(defaults < noLimit, counts);
  assert.ok(noLimit < earlier, counts);
  assert.ok(defaults <= earlier / 2, counts);
});
