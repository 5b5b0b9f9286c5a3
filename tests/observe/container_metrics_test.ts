import assert from "node:assert/strict";
import { DEFAULTS } from "../../src/config.ts";
import type { ContainerHeadroom } from "../../src/decide/headroom.ts";
import type { NamedContainer } from "../../src/decide/decision.ts";
import { AgentMetrics } from "../../src/observe/agent_metrics.ts";
import { observation } from "./helpers.ts";
import { promtoolStep } from "./promtool.ts";
import { PROMTOOL, tool } from "../tools.ts";

const promtool = tool(PROMTOOL);
const MiB = 1 << 20;
const CONFIG = { ...DEFAULTS, dryRun: true };

function headroom(extra: Partial<ContainerHeadroom>): ContainerHeadroom {
  return {
    podUid: "u1",
    containerId: "c1",
    swapBytes: 40 * MiB,
    swapLimitBytes: 128 * MiB,
    limitSource: "memory.swap.max",
    swapFullPercent: 31.25,
    levelSource: "memory.swap.current",
    levelBytes: 40 * MiB,
    levelLimitBytes: 128 * MiB,
    growthBytesPerSecond: null,
    plateauBytes: null,
    secondsLeft: null,
    observedSeconds: null,
    credible: false,
    atMemoryMax: true,
    growing: false,
    ...extra,
  };
}

function named(pod: string, container: string, h: ContainerHeadroom): NamedContainer {
  return { namespace: "shop", pod, container, headroom: h };
}

/** The lines of `text` for the families whose names start with `prefix`. */
function lines(text: string, prefix: string): string[] {
  return text.split("\n").filter((line) => line.startsWith(prefix));
}

Deno.test("per-container swap series: growing, levelling off and flat, with their projections", async (t) => {
  const metrics = new AgentMetrics(CONFIG, "0.1.0");
  metrics.tick(
    {
      observation: observation(10),
      swapIoPages: { in: 1200, out: 3400 },
      swapContainers: [
        named("db-0", "mariadb", headroom({ growthBytesPerSecond: 2 * MiB, secondsLeft: 44 })),
        named(
          "cache-0",
          "redis",
          headroom({
            podUid: "u2",
            growthBytesPerSecond: MiB,
            plateauBytes: 200 * MiB,
            secondsLeft: 170.5,
          }),
        ),
        named("web-1", "app", headroom({ podUid: "u3", swapBytes: 3 * MiB })),
      ],
    },
    1,
    0,
  );
  const text = metrics.registry.render();
  assert.deepEqual(lines(text, "soomkiller_container_swap_time_to_limit_seconds{"), [
    'soomkiller_container_swap_time_to_limit_seconds{namespace="shop",pod="db-0",container="mariadb"} 44',
    'soomkiller_container_swap_time_to_limit_seconds{namespace="shop",pod="cache-0",container="redis"} 170.5',
  ], "absent for the flat container");
  assert.deepEqual(lines(text, "soomkiller_container_swap_plateau_bytes{"), [
    `soomkiller_container_swap_plateau_bytes{namespace="shop",pod="cache-0",container="redis"} ${
      200 * MiB
    }`,
  ]);
  assert.deepEqual(
    lines(text, "soomkiller_container_swap_projection{").filter((l) => l.endsWith(" 1")),
    [
      'soomkiller_container_swap_projection{namespace="shop",pod="db-0",container="mariadb",case="growing"} 1',
      'soomkiller_container_swap_projection{namespace="shop",pod="cache-0",container="redis",case="levelling_off"} 1',
      'soomkiller_container_swap_projection{namespace="shop",pod="web-1",container="app",case="flat"} 1',
    ],
  );
  assert.equal(lines(text, "soomkiller_container_swap_limit_bytes{").length, 3);
  assert.deepEqual(lines(text, "soomkiller_node_swap_io_pages_total{"), [
    'soomkiller_node_swap_io_pages_total{direction="in"} 1200',
    'soomkiller_node_swap_io_pages_total{direction="out"} 3400',
  ]);
  await promtoolStep(t, promtool, text);

  // The next scan: the flat container's swap went back to 0 (no longer listed by the
  // agent), db-0 is gone. Their series go with them.
  metrics.tick(
    {
      observation: observation(10),
      swapContainers: [named("cache-0", "redis", headroom({ podUid: "u2", swapBytes: 60 * MiB }))],
    },
    1,
    1000,
  );
  const after = metrics.registry.render();
  assert.deepEqual(lines(after, "soomkiller_container_swap_bytes{"), [
    `soomkiller_container_swap_bytes{namespace="shop",pod="cache-0",container="redis"} ${60 * MiB}`,
  ]);
  assert.deepEqual(lines(after, "soomkiller_container_swap_time_to_limit_seconds{"), []);
  assert.deepEqual(lines(after, "soomkiller_container_swap_plateau_bytes{"), []);

  // No scan for 5 minutes: every container series goes, as the pod series do.
  metrics.tick({ observation: observation(0) }, 1, 1000 + 5 * 60_000 + 1);
  assert.deepEqual(lines(metrics.registry.render(), "soomkiller_container_"), []);
});

Deno.test("the node's swap I/O counters mirror /proc/vmstat and take a reset", () => {
  const metrics = new AgentMetrics(CONFIG, "0.1.0");
  metrics.tick({ observation: observation(1), swapIoPages: { in: 10, out: 20 } }, 1, 0);
  metrics.tick({ observation: observation(1), swapIoPages: { in: 5, out: 25 } }, 1, 1000);
  assert.equal(metrics.swapIoPages.get({ direction: "in" }), 5);
  assert.equal(metrics.swapIoPages.get({ direction: "out" }), 25);
});

Deno.test("soomkiller_evict_fallbacks_total has a sample in delete mode too (0), and early warnings are counted", async (t) => {
  const metrics = new AgentMetrics({ ...CONFIG, terminationMode: "delete" }, "0.1.0");
  const text = metrics.registry.render();
  assert.deepEqual(lines(text, "soomkiller_evict_fallbacks_total"), [
    "soomkiller_evict_fallbacks_total 0",
  ]);
  assert.deepEqual(lines(text, "soomkiller_early_warnings_total"), [
    'soomkiller_early_warnings_total{result="success"} 0',
    'soomkiller_early_warnings_total{result="failed"} 0',
  ]);
  const h = headroom({ growthBytesPerSecond: MiB, secondsLeft: 120 });
  metrics.tick(
    {
      observation: observation(0),
      earlyWarnings: [{
        namespace: "shop",
        pod: "db-0",
        container: "mariadb",
        headroom: h,
        event: "sent",
      }],
    },
    1,
    0,
  );
  assert.equal(metrics.earlyWarnings.get({ result: "success" }), 1);
  await promtoolStep(t, promtool, metrics.registry.render());
});

Deno.test("every family's name follows Prometheus conventions: a unit or _total/_ratio suffix", () => {
  const metrics = new AgentMetrics(CONFIG, "0.1.0");
  const families = metrics.registry.render().split("\n")
    .filter((line) => line.startsWith("# TYPE "))
    .map((line) => line.split(" ") as [string, string, string, string]);
  const unitless = new Set([
    "soomkiller_build_info",
    "soomkiller_dry_run",
    "soomkiller_candidates",
  ]);
  for (const [, , name, type] of families) {
    if (unitless.has(name) || name === "soomkiller_container_swap_projection") continue;
    if (type === "counter") assert.match(name, /_total$/, name);
    else assert.match(name, /_(bytes|seconds|ratio|per_second)$/, name);
  }
});

Deno.test("a pod named through its containers gets its pod series too", () => {
  const metrics = new AgentMetrics(CONFIG, "0.1.0");
  const h = headroom({ podUid: "u1" });
  metrics.tick(
    {
      observation: observation(0),
      pods: [{
        uid: "u1",
        cgroupPath: "/cg/podu1",
        qosClass: "burstable",
        swapCurrentBytes: 40 * MiB,
        memoryCurrentBytes: 0,
        memoryMaxBytes: null,
        fullAvg10Percent: 12,
        someAvg10Percent: 12,
        oomKillCount: 0,
        containers: [],
      }],
      swapContainers: [named("db-0", "mariadb", h)],
    },
    1,
    0,
  );
  assert.equal(metrics.podSwap.get({ namespace: "shop", pod: "db-0" }), 40 * MiB);
  assert.equal(metrics.podFullAvg10.get({ namespace: "shop", pod: "db-0" }), 0.12);
});
