// The agent's settings shared by the agent-level tests (tests/agent*_test.ts).
import { type Config, DEFAULTS } from "../../src/config.ts";

/** The node the agent-level tests run on. */
export const TEST_NODE = "node-a";

/** 1 s polls, a 3 s window (sustained on the 4th tick), 10 s cooldown, armed, swap-io only. */
export const AGENT_TEST_CONFIG: Config = {
  ...DEFAULTS,
  nodeName: TEST_NODE,
  pollIntervalMs: 1_000,
  sustainedDurationMs: 3_000,
  cooldownPeriodMs: 10_000,
  dryRun: false,
  headroomTrigger: false,
  nodeSwapFreePercent: 0,
};
