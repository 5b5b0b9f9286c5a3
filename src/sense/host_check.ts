/**
 * The start-up check: is this a node the agent can work on? Each problem is one sentence
 * that says what is missing and what the operator can do about it.
 */
import type { HostFs } from "./host_fs.ts";
import { isVanished } from "./host_fs.ts";
import { parseMeminfo } from "./meminfo.ts";
import { ParseError } from "./parse_error.ts";
import { parsePressure } from "./pressure.ts";
import { parseVmstat } from "./vmstat.ts";

/** The outcome of `checkHost`. */
export interface HostCheck {
  /** True when no problem was found. */
  readonly ok: boolean;
  /** One sentence per problem: what is missing and what to do; empty when ok. */
  readonly problems: readonly string[];
  /** `SwapTotal` from meminfo, bytes; 0 when there is no swap or meminfo is unreadable. */
  readonly swapTotalBytes: number;
  /** True when `<procRoot>/pressure/memory` is readable and parses (the kernel has PSI). */
  readonly memoryPressureAvailable: boolean;
}

/** Where a host root comes from on the node, for mount hints. */
interface HostRoot {
  /** The agent's path of the mount, e.g. `/host/proc`. */
  readonly root: string;
  /** The node's own path, e.g. `/proc`. */
  readonly hostPath: string;
}

/** A file read that either gave text or a problem sentence. */
type ReadOutcome = { readonly text: string } | { readonly problem: string };

/**
 * Reads `path` for the check. A missing file gives `missing`; Deno's permission refusal,
 * an OS permission error and anything else give a sentence naming the path and the fix.
 */
async function readForCheck(
  fs: HostFs,
  path: string,
  from: HostRoot,
  missing: string,
  otherHint = "",
): Promise<ReadOutcome> {
  try {
    return { text: await fs.readTextFile(path) };
  } catch (error) {
    if (isVanished(error)) return { problem: missing };
    const problem = describeReadError(error, path, from);
    const isPermission = error instanceof Deno.errors.NotCapable ||
      error instanceof Deno.errors.PermissionDenied;
    return { problem: isPermission || otherHint === "" ? problem : `${problem}; ${otherHint}` };
  }
}

/** A sentence for a read error other than a missing file. */
function describeReadError(error: unknown, path: string, from: HostRoot): string {
  if (error instanceof Deno.errors.NotCapable) {
    if (/^\/(proc|sys)(\/|$)/.test(path)) {
      return `Cannot read "${path}": Deno refuses reads under /proc and /sys without ` +
        `--allow-all; mount the host's ${from.hostPath} at "/host${from.hostPath}" ` +
        `and point the agent there`;
    }
    return `Cannot read "${path}": Deno denied the read; allow it with ` +
      `--allow-read=${from.root} (the "agent" permission set in deno.json allows the /host mounts)`;
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return `Cannot read "${path}": permission denied by the operating system; mount the ` +
      `host's ${from.hostPath} at "${from.root}" read-only and run the agent as a user that can read it`;
  }
  const detail = error instanceof Error ? error.message : String(error);
  return `Cannot read "${path}": ${detail}`;
}

/** cgroup v2 with the memory controller at the cgroup root. */
async function checkCgroup(fs: HostFs, cgroup: HostRoot): Promise<string[]> {
  const path = `${cgroup.root}/cgroup.controllers`;
  const read = await readForCheck(
    fs,
    path,
    cgroup,
    `cgroup v2 not found: "${path}" is missing; mount the host's /sys/fs/cgroup at ` +
      `"${cgroup.root}" (the node must run cgroup v2: systemd.unified_cgroup_hierarchy=1)`,
  );
  if ("problem" in read) return [read.problem];
  const controllers = read.text.trim();
  if (!controllers.split(/\s+/).includes("memory")) {
    return [
      `Memory controller not available: "${path}" lists "${controllers}" without "memory"; ` +
      `enable the memory cgroup controller on the node (cgroup_enable=memory)`,
    ];
  }
  return await checkSwapAccounting(fs, cgroup);
}

/** Top-level cgroups the kubelet makes, by driver and cgroup-root prefix. */
const KUBELET_TOP_CGROUPS = ["kubepods.slice", "kubepods", "kubelet.slice", "kubelet"];

/**
 * Swap accounting: the first kubelet cgroup found at the top level must have
 * `memory.swap.current`, or every pod's swap would be unreadable. No kubelet cgroup yet
 * (the kubelet not started) is no problem here.
 */
async function checkSwapAccounting(fs: HostFs, cgroup: HostRoot): Promise<string[]> {
  let names: string[];
  try {
    names = (await fs.readDir(cgroup.root)).filter((e) => e.isDirectory).map((e) => e.name);
  } catch (error) {
    return [describeReadError(error, cgroup.root, cgroup)];
  }
  const top = KUBELET_TOP_CGROUPS.find((name) => names.includes(name));
  if (top === undefined) return [];
  const path = `${cgroup.root}/${top}/memory.swap.current`;
  const read = await readForCheck(
    fs,
    path,
    cgroup,
    `Swap accounting is off: "${path}" is missing; cgroups report swap only when the ` +
      `kernel accounts it (no cgroup.memory=noswap or swapaccount=0 on its command line)`,
  );
  return "problem" in read ? [read.problem] : [];
}

/** PSI: `<procRoot>/pressure/memory` readable and well-formed. */
async function checkPsi(fs: HostFs, proc: HostRoot): Promise<string[]> {
  const path = `${proc.root}/pressure/memory`;
  const read = await readForCheck(
    fs,
    path,
    proc,
    `PSI not found: "${path}" is missing; boot the node's kernel with psi=1 (CONFIG_PSI) ` +
      `and mount the host's /proc at "${proc.root}"`,
    "PSI may be disabled: boot the node's kernel with psi=1",
  );
  if ("problem" in read) return [read.problem];
  try {
    parsePressure(read.text, "pressure/memory");
    return [];
  } catch (error) {
    return [parseProblem(`No memory pressure in "${path}"`, error)];
  }
}

/** A "what: detail" sentence for a parse failure; rethrows anything but ParseError. */
function parseProblem(what: string, error: unknown): string {
  if (error instanceof ParseError) return `${what}: ${error.message}`;
  throw error;
}

/** Swap on the node: `SwapTotal` > 0. Returns the problems and SwapTotal in bytes. */
async function checkSwap(
  fs: HostFs,
  proc: HostRoot,
): Promise<{ problems: string[]; swapTotalBytes: number }> {
  const path = `${proc.root}/meminfo`;
  const read = await readForCheck(
    fs,
    path,
    proc,
    `Cannot read "${path}": the file is missing; mount the host's /proc at "${proc.root}"`,
  );
  if ("problem" in read) return { problems: [read.problem], swapTotalBytes: 0 };
  let swapTotalBytes: number;
  try {
    swapTotalBytes = parseMeminfo(read.text).swapTotalBytes;
  } catch (error) {
    return { problems: [parseProblem(`No memory figures in "${path}"`, error)], swapTotalBytes: 0 };
  }
  if (swapTotalBytes > 0) return { problems: [], swapTotalBytes };
  return {
    problems: [
      `No swap on this node: SwapTotal is 0 in "${path}"; kube-soomkiller only acts on ` +
      `swap-enabled nodes`,
    ],
    swapTotalBytes: 0,
  };
}

/** Swap I/O counters: `pswpin`/`pswpout` in `<procRoot>/vmstat`. */
async function checkVmstat(fs: HostFs, proc: HostRoot): Promise<string[]> {
  const path = `${proc.root}/vmstat`;
  const read = await readForCheck(
    fs,
    path,
    proc,
    `Cannot read "${path}": the file is missing; mount the host's /proc at "${proc.root}"`,
  );
  if ("problem" in read) return [read.problem];
  try {
    parseVmstat(read.text);
    return [];
  } catch (error) {
    return [parseProblem(`No swap I/O counters in "${path}"`, error)];
  }
}

/**
 * Checks that the host view has what the agent needs: cgroup v2 with the memory
 * controller and swap accounting under `cgroupRoot`, PSI, swap on the node and swap I/O
 * counters under `procRoot`. Never throws for a missing or unreadable file: each becomes
 * a problem sentence.
 */
export async function checkHost(
  fs: HostFs,
  procRoot: string,
  cgroupRoot: string,
): Promise<HostCheck> {
  const proc: HostRoot = { root: procRoot, hostPath: "/proc" };
  const cgroup: HostRoot = { root: cgroupRoot, hostPath: "/sys/fs/cgroup" };
  const [cgroupProblems, psiProblems, swap, vmstatProblems] = await Promise.all([
    checkCgroup(fs, cgroup),
    checkPsi(fs, proc),
    checkSwap(fs, proc),
    checkVmstat(fs, proc),
  ]);
  const problems = [...cgroupProblems, ...psiProblems, ...swap.problems, ...vmstatProblems];
  return {
    ok: problems.length === 0,
    problems,
    swapTotalBytes: swap.swapTotalBytes,
    memoryPressureAvailable: psiProblems.length === 0,
  };
}
