/**
 * The micro-benchmarks, each a subject next to its floor: the bare `Deno.readTextFile` of
 * the same files with no parsing or logic. Shared by the `Deno.bench` files
 * (`deno bench -A tests/bench/`) and by `micro.ts`, which samples medians for `run.ts`.
 */
import type { KubeApi } from "../../src/act/kube_client.ts";
import { Agent } from "../../src/agent.ts";
import { systemClock } from "../../src/clock.ts";
import { type Config, DEFAULTS } from "../../src/config.ts";
import type { PodMeta } from "../../src/decide/pod_meta.ts";
import { preselect, selectVictims } from "../../src/decide/select.ts";
import { agentLogger, setupLogging } from "../../src/observe/log.ts";
import { discoverPodCgroups } from "../../src/sense/cgroup_layout.ts";
import { denoHostFs, type HostFs } from "../../src/sense/host_fs.ts";
import { hostSensor } from "../../src/sense/node_sensor.ts";
import type { PodStats } from "../../src/sense/pod_stats.ts";
import { parsePressure } from "../../src/sense/pressure.ts";
import { parseVmstat, readVmstat } from "../../src/sense/vmstat.ts";
import type { BenchFn } from "./sampler.ts";
import { buildSyntheticNode, type SyntheticNodeOptions } from "./synthetic_node.ts";

/** One subject, optionally next to its floor. */
export interface BenchPair {
  /** Stable key in the report, e.g. `tick`. */
  readonly id: string;
  /** What is measured, for the table. */
  readonly label: string;
  /** The code under test. */
  readonly subject: BenchFn;
  /** What the floor is, for the table; null when there is none. */
  readonly floorLabel: string | null;
  /** The floor: the same I/O with no logic; null when there is none. */
  readonly floor: BenchFn | null;
  /** Target: subject ≤ targetRatio × floor; null when there is none. */
  readonly targetRatio: number | null;
  /** A second floor for reference (no target): the same files with `Deno.readTextFileSync`. */
  readonly syncFloor?: BenchFn;
  /** Also measure CPU time per call (all threads) of subject and floors. */
  readonly measureCpu?: boolean;
}

/** A suite after setup: its pairs, facts for the report and how to clean up. */
export interface SuiteInstance {
  readonly pairs: readonly BenchPair[];
  /** Facts worth reporting (files read, calls made …), read after sampling. */
  facts(): Record<string, number | string>;
  dispose(): Promise<void>;
  /** For `unload` handlers, which cannot wait. */
  disposeSync(): void;
}

const KERNEL_DIRS = ["6.1.0-56-amd64", "6.12.95+deb12-amd64", "7.3.4+deb13-amd64"] as const;

/** Absolute path of a fixture file of the "pressure" snapshot of `kernel`. */
function fixture(kernel: string, relative: string): string {
  const url = new URL(`../fixtures/kernels/${kernel}/pressure/${relative}`, import.meta.url);
  return decodeURIComponent(url.pathname);
}

/** Reads every path one after another, no parsing: the floor of a sequential reader. */
async function readEach(paths: readonly string[]): Promise<void> {
  for (const path of paths) await Deno.readTextFile(path);
}

/** The same with `Deno.readTextFileSync`: the floor of a synchronous reader. */
export function readEachSync(paths: readonly string[]): number {
  let chars = 0;
  for (const path of paths) chars += Deno.readTextFileSync(path).length;
  return chars;
}

const nothing = {
  facts: () => ({}),
  dispose: () => Promise.resolve(),
  disposeSync: () => {},
};

/** Parsing `/proc/vmstat` and PSI files of the three fixture kernels, read from disk. */
export function parseSuite(): Promise<SuiteInstance> {
  const vmstatDirs = KERNEL_DIRS.map((k) => fixture(k, "proc"));
  const vmstatPaths = vmstatDirs.map((dir) => `${dir}/vmstat`);
  const psiPaths = KERNEL_DIRS.flatMap((k) => [
    fixture(k, "proc/pressure/memory"),
    fixture(k, "cgroup/pod/memory.pressure"),
  ]);
  const vmstatTexts = vmstatPaths.map((p) => Deno.readTextFileSync(p));
  const psiTexts = psiPaths.map((p) => Deno.readTextFileSync(p));
  let sink = 0;
  const pairs: BenchPair[] = [
    {
      id: "vmstat",
      label: `read + parse vmstat (${vmstatPaths.length} kernels)`,
      async subject() {
        for (const dir of vmstatDirs) sink += (await readVmstat(denoHostFs, dir)).swapInPages;
      },
      floorLabel: "Deno.readTextFile of the same files",
      floor: () => readEach(vmstatPaths),
      targetRatio: null,
      syncFloor: () => readEachSync(vmstatPaths),
    },
    {
      id: "psi",
      label: `read + parse PSI (${psiPaths.length} files: node + pod)`,
      async subject() {
        for (const path of psiPaths) {
          sink += parsePressure(await denoHostFs.readTextFile(path)).some.avg10Percent;
        }
      },
      floorLabel: "Deno.readTextFile of the same files",
      floor: () => readEach(psiPaths),
      targetRatio: null,
      syncFloor: () => readEachSync(psiPaths),
    },
    {
      id: "vmstat-parse-only",
      label: `parseVmstat only (${vmstatTexts.length} texts in memory)`,
      subject() {
        for (const text of vmstatTexts) sink += parseVmstat(text).swapOutPages;
      },
      floorLabel: null,
      floor: null,
      targetRatio: null,
    },
    {
      id: "psi-parse-only",
      label: `parsePressure only (${psiTexts.length} texts in memory)`,
      subject() {
        for (const text of psiTexts) sink += parsePressure(text).full?.avg10Percent ?? 0;
      },
      floorLabel: null,
      floor: null,
      targetRatio: null,
    },
  ];
  return Promise.resolve({ pairs, ...nothing, facts: () => ({ checksum: sink > 0 ? 1 : 0 }) });
}

/**
 * A KubeApi that counts every call made to it and answers like an empty cluster: LIST
 * gives no pods, anything else fails softly. A Proxy, so methods added later count too.
 */
export function countingKube(): { kube: KubeApi; calls: () => number } {
  let calls = 0;
  const kube = new Proxy({}, {
    get(_target, name) {
      if (name === "then") return undefined;
      return () => {
        calls++;
        return Promise.resolve(
          name === "listNodePods" ? [] : { kind: "failed", code: null, message: "bench" },
        );
      };
    },
  }) as KubeApi;
  return { kube, calls: () => calls };
}

/** A HostFs over the real one that records the files read and counts the listings. */
export function recordingHostFs(): { fs: HostFs; files: string[]; dirListings: () => number } {
  const files: string[] = [];
  let listings = 0;
  return {
    fs: {
      readTextFile(path) {
        files.push(path);
        return denoHostFs.readTextFile(path);
      },
      readDir(path) {
        listings++;
        return denoHostFs.readDir(path);
      },
    },
    files,
    dirListings: () => listings,
  };
}

/** An agent over `node` with LogTape at level warning (records counted, not written). */
async function benchAgent(
  procRoot: string,
  cgroupRoot: string,
  fs: HostFs,
): Promise<{ agent: Agent; apiCalls: () => number; logRecords: () => number }> {
  let records = 0;
  await setupLogging("json", "warning", () => void records++);
  const { kube, calls } = countingKube();
  const config: Config = {
    ...DEFAULTS,
    nodeName: "bench-node",
    procRoot,
    cgroupRoot,
    logLevel: "warning",
  };
  const agent = new Agent(config, {
    sensor: hostSensor(fs, procRoot, cgroupRoot),
    clock: systemClock,
    kube,
    log: agentLogger("agent"),
  });
  return { agent, apiCalls: calls, logRecords: () => records };
}

/**
 * One idle tick: `Agent.tick()` on a calm node with the live sensor over a temp `/proc`, a
 * counting fake KubeApi and LogTape at level warning. Its floor reads the files a calm tick
 * read (recorded, so the floor follows the agent when it reads more).
 */
export async function tickSuite(): Promise<SuiteInstance> {
  const node = await buildSyntheticNode({ pods: 0 });
  // The first tick scans once ("first"); the second is a plain calm tick: record its reads.
  const recorder = recordingHostFs();
  const probe = await benchAgent(node.procRoot, node.tree.root, recorder.fs);
  await probe.agent.tick();
  recorder.files.length = 0;
  const listingsBefore = recorder.dirListings();
  await probe.agent.tick();
  const tickFiles = [...recorder.files];
  const tickListings = recorder.dirListings() - listingsBefore;

  const { agent, apiCalls, logRecords } = await benchAgent(
    node.procRoot,
    node.tree.root,
    denoHostFs,
  );
  await agent.tick();
  let ticks = 0;
  let calm = 0;
  const names = tickFiles.map((f) => f.slice(f.lastIndexOf("/") + 1)).join(" + ");
  const pairs: BenchPair[] = [{
    id: "tick",
    label: "idle tick: Agent.tick() on a calm node",
    async subject() {
      const report = await agent.tick();
      ticks++;
      if (report.observation?.phase === "calm") calm++;
    },
    floorLabel: `Deno.readTextFile of ${names}`,
    floor: () => readEach(tickFiles),
    targetRatio: 2,
    syncFloor: () => readEachSync(tickFiles),
    measureCpu: true,
  }];
  return {
    pairs,
    facts: () => ({
      filesPerTick: tickFiles.length,
      dirListingsPerTick: tickListings,
      ticks,
      calmTicks: calm,
      apiCalls: apiCalls(),
      logRecords: logRecords(),
    }),
    dispose: () => node.dispose(),
    disposeSync: () => node.disposeSync(),
  };
}

/** Lanes the floor reads with: the scan's own concurrency (pod_scan.ts). */
export const SCAN_LANES = 16;

/** Reads `paths` with `lanes` reads in flight and nothing else: the floor of the scan. */
export async function readAllFloor(paths: readonly string[], lanes = SCAN_LANES): Promise<number> {
  let next = 0;
  let chars = 0;
  const lane = async () => {
    while (next < paths.length) chars += (await Deno.readTextFile(paths[next++]!)).length;
  };
  await Promise.all(Array.from({ length: Math.min(lanes, paths.length) }, lane));
  return chars;
}

/** What one steady-state scan touches: the files it reads and the directories it lists. */
export interface ScanFootprint {
  /** Every file the scan read, in order. */
  readonly files: string[];
  /** How many directories it listed. */
  readonly dirListings: number;
  /** Pods it returned. */
  readonly pods: number;
  /** Errors it returned. */
  readonly errors: number;
}

/**
 * Scans twice through the live sensor (`hostSensor().scanPods()`, as the agent does) over a
 * recording HostFs and returns what the second, steady-state scan touched: the first also
 * probes `memory.stat` for per-pod swap I/O.
 */
export async function recordScan(cgroupRoot: string): Promise<ScanFootprint> {
  const recorder = recordingHostFs();
  const sensor = hostSensor(recorder.fs, "/nonexistent", cgroupRoot);
  await sensor.scanPods();
  recorder.files.length = 0;
  const listingsBefore = recorder.dirListings();
  const scan = await sensor.scanPods();
  return {
    files: [...recorder.files],
    dirListings: recorder.dirListings() - listingsBefore,
    pods: scan.pods.length,
    errors: scan.errors.length,
  };
}

/** The scan of one synthetic node, next to the bare reads of the files it reads. */
export interface ScanMeasure {
  /** The measured scan: the live sensor's `scanPods()`, past its first scan. */
  readonly scan: () => Promise<number>;
  /** The floor: the same files, `SCAN_LANES` in flight, no parsing. */
  readonly floor: () => Promise<number>;
  readonly footprint: ScanFootprint;
}

/** Sets up `ScanMeasure` for the cgroup tree at `cgroupRoot`. */
export async function scanMeasure(cgroupRoot: string): Promise<ScanMeasure> {
  const footprint = await recordScan(cgroupRoot);
  const sensor = hostSensor(denoHostFs, "/nonexistent", cgroupRoot);
  await sensor.scanPods();
  return {
    scan: async () => (await sensor.scanPods()).pods.length,
    floor: () => readAllFloor(footprint.files),
    footprint,
  };
}

/** A full scan of a synthetic node next to the bare reads of the files it reads. */
export async function scanSuite(options: SyntheticNodeOptions = {}): Promise<SuiteInstance> {
  const node = await buildSyntheticNode(options);
  const root = node.tree.root;
  const measure = await scanMeasure(root);
  const { footprint } = measure;
  const pods = options.pods ?? 250;
  const containers = options.containersPerPod ?? 3;
  const kernel = options.cgroupSwapIo ? ", Linux ≥ 6.13 (+ memory.stat)" : "";
  const id = options.cgroupSwapIo ? "scan-6.13" : "scan";
  let sink = 0;
  const pairs: BenchPair[] = [
    {
      id,
      label: `full scan: ${pods} pods × ${containers} containers${kernel}`,
      async subject() {
        sink += await measure.scan();
      },
      floorLabel:
        `Deno.readTextFile of its ${footprint.files.length} files, ${SCAN_LANES} in flight`,
      floor: async () => void (sink += await measure.floor()),
      targetRatio: 1.5,
      syncFloor: () => void (sink += readEachSync(footprint.files)),
      measureCpu: true,
    },
  ];
  if (!options.cgroupSwapIo) {
    pairs.push(
      {
        id: "scan-discovery",
        label: `  of which discovery: discoverPodCgroups(), ${footprint.dirListings} listings`,
        async subject() {
          sink += (await discoverPodCgroups(denoHostFs, root)).length;
        },
        floorLabel: null,
        floor: null,
        targetRatio: null,
      },
      {
        id: "scan-sequential",
        label: `  reference: its ${footprint.files.length} files read one at a time`,
        subject: () => readEach(footprint.files),
        floorLabel: null,
        floor: null,
        targetRatio: null,
      },
    );
  }
  return {
    pairs,
    facts: () => ({
      filesPerScan: footprint.files.length,
      dirListingsPerScan: footprint.dirListings,
      podsFound: footprint.pods,
      scanErrors: footprint.errors,
      checksum: sink > 0 ? 1 : 0,
    }),
    dispose: () => node.dispose(),
    disposeSync: () => node.disposeSync(),
  };
}

/** 250 pods' figures, all swapping and above the PSI threshold, with ties on PSI. */
export function rankingInput(count = 250): { stats: PodStats[]; metas: PodMeta[] } {
  const stats: PodStats[] = [];
  const metas: PodMeta[] = [];
  for (let n = 1; n <= count; n++) {
    const uid = `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
    stats.push({
      uid,
      cgroupPath: `/sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice/pod${n}.slice`,
      qosClass: "burstable",
      swapCurrentBytes: ((n * 7919) % 997 + 1) * 1024 * 1024,
      memoryCurrentBytes: 512 * 1024 * 1024,
      memoryMaxBytes: 512 * 1024 * 1024,
      fullAvg10Percent: 50 + ((n * 31) % 40), // 40 distinct values: many ties
      someAvg10Percent: 60,
      oomKillCount: 0,
      containers: [],
    });
    metas.push({
      uid,
      namespace: `team-${n % 8}`,
      name: `app-${n}`,
      nodeName: "bench-node",
      terminating: n % 50 === 0,
      mirrorOfUid: null,
      priority: null,
      terminationGracePeriodSeconds: 30,
      annotations: {},
    });
  }
  return { stats, metas };
}

/** Ranking 250 candidates: `preselect` then `selectVictims` (pure, no I/O). */
export function rankSuite(): Promise<SuiteInstance> {
  const { stats, metas } = rankingInput();
  let sink = 0;
  const pairs: BenchPair[] = [{
    id: "rank",
    label: `rank ${stats.length} candidates: preselect() + selectVictims()`,
    subject() {
      sink += selectVictims(preselect(stats, 50), metas).ranked.length;
    },
    floorLabel: `sort of ${stats.length} records by one number`,
    floor() {
      sink += [...stats].sort((a, b) => b.fullAvg10Percent - a.fullAvg10Percent).length;
    },
    targetRatio: null,
  }];
  return Promise.resolve({ pairs, ...nothing, facts: () => ({ checksum: sink > 0 ? 1 : 0 }) });
}

/** Every suite, in report order. */
export const SUITES = {
  parse: parseSuite,
  tick: tickSuite,
  scan: () => scanSuite(),
  scan613: () => scanSuite({ cgroupSwapIo: true }),
  rank: rankSuite,
} as const;

/** Registers a suite's pairs with `Deno.bench` (floor as the group's baseline). */
export async function registerBenches(setup: () => Promise<SuiteInstance>): Promise<void> {
  const suite = await setup();
  globalThis.addEventListener("unload", () => suite.disposeSync());
  for (const pair of suite.pairs) {
    const subject = pair.subject;
    Deno.bench({ name: pair.label, group: pair.id, fn: async () => void await subject() });
    const floor = pair.floor;
    if (floor !== null) {
      Deno.bench({
        name: `floor: ${pair.floorLabel}`,
        group: pair.id,
        baseline: true,
        fn: async () => void await floor(),
      });
    }
    const syncFloor = pair.syncFloor;
    if (syncFloor !== undefined) {
      Deno.bench({
        name: "floor: Deno.readTextFileSync of the same files",
        group: pair.id,
        fn: () => void syncFloor(),
      });
    }
  }
}
