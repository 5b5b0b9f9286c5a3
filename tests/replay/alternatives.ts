// What each choice in the headroom estimator buys on the labelled corpus: the defaults next
// to the same estimator with one choice undone, and the earlier versions. Prints one table:
//   deno run -A tests/replay/alternatives.ts
import { DEFAULTS } from "../../src/config.ts";
import {
  HEADROOM_ESTIMATOR,
  headroomEstimator,
  type HeadroomSettings,
} from "../../src/decide/headroom_settings.ts";
import { getLogger } from "../../src/observe/log.ts";
import { replay } from "../../src/replay/replay.ts";
import { formatSideBySide, loadCorpus, type Policy, sideBySide } from "./policies.ts";

const silent = getLogger(["alternatives-silent"]);

function estimatorPolicy(name: string, change: Partial<HeadroomSettings>): Policy {
  const estimator = { ...headroomEstimator(1000), ...change };
  return {
    name,
    description: name,
    firstAction: async (trace) => {
      const config = { ...DEFAULTS, nodeName: trace.header.nodeName };
      const first = (await replay(trace, config, silent, estimator)).actions[0];
      return first ? { tMs: first.tMs, victimUid: first.victimUid, trigger: first.trigger } : null;
    },
  };
}

/** The defaults, each choice undone alone, and the earlier estimators. */
export const ALTERNATIVES: readonly Policy[] = [
  estimatorPolicy("defaults (footprint, robust fits)", {}),
  estimatorPolicy("swap instead of footprint", { level: "swap" }),
  estimatorPolicy("least-squares fits", { fit: "least-squares" }),
  estimatorPolicy("no extrapolation limit", { maxExtrapolationRatio: Infinity }),
  estimatorPolicy("earlier default (swap, least squares, no limit)", {
    level: "swap",
    fit: "least-squares",
    maxExtrapolationRatio: Infinity,
  }),
  estimatorPolicy("no plateau: straight line on the footprint", {
    model: "linear",
    level: HEADROOM_ESTIMATOR.level,
    fit: "robust",
  }),
];

if (import.meta.main) {
  const cases = await loadCorpus();
  console.log(formatSideBySide(cases, await sideBySide(cases, ALTERNATIVES)));
}
