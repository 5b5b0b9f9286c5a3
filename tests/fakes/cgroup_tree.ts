/**
 * A kubelet-shaped cgroup v2 tree in a temp directory, for tests, the demo and benchmarks.
 *
 * It writes the real file formats (`memory.pressure` with `some`/`full` lines,
 * `memory.events` with every key, `memory.stat` with the keys of Debian's 6.12 kernel,
 * `max` for unlimited) in the directory layout of the systemd or cgroupfs driver, with
 * containerd, CRI-O or Docker container cgroups, under an optional kubelet cgroup-root
 * prefix (kind's `kubelet`). Pods appear and disappear atomically (built aside, then
 * renamed), and every later update replaces its file atomically, so an agent polling the
 * tree meanwhile never sees half a pod or half a file. Dependency-free: only Deno APIs.
 *
 * ```ts
 * await using tree = await CgroupTree.create({ driver: "systemd" });
 * await tree.addPod({ uid: fakePodUid(1), qos: "burstable", containers: [{ id: fakeContainerId(1) }] });
 * await tree.setPodPressure(fakePodUid(1), 40, 42);
 * ```
 */
import type { ContainerCgroup, PodCgroup, QosClass } from "../../src/sense/cgroup_layout.ts";
import { formatPressure, writeFileAtomic } from "./proc_tree.ts";

/** The kubelet's cgroup driver, which decides the directory names. */
export type CgroupDriver = "systemd" | "cgroupfs";

/** The container runtime, which decides the container cgroup names. */
export type ContainerRuntime = "containerd" | "crio" | "docker";

/** How the tree is laid out. Every field is optional; defaults in brackets. */
export interface CgroupTreeOptions {
  /** Cgroup driver ["systemd"]. */
  readonly driver?: CgroupDriver;
  /**
   * Kubelet `--cgroup-root` prefix: "kubelet" gives kind's `kubelet.slice/kubelet-kubepods.slice`
   * (systemd) or `kubelet/kubepods` (cgroupfs). One word for systemd; cgroupfs also takes
   * `a/b` [none].
   */
  readonly prefix?: string;
  /** Runtime of containers that name none ["containerd"]. */
  readonly runtime?: ContainerRuntime;
  /** `memory.stat` carries `pswpin`/`pswpout`, as on Linux ≥ 6.13 [false]. */
  readonly cgroupSwapIo?: boolean;
  /** `memory.pressure` files have a `full` line [true]. */
  readonly pressureFullLine?: boolean;
  /** Also make the unrelated `system.slice`, `user.slice` and `init.scope` cgroups [true]. */
  readonly systemCgroups?: boolean;
  /**
   * Where to make the temp directory [Deno's default: $TMPDIR or /tmp]. A tmpfs such as
   * `fastTempDir()` builds big trees many times faster than a disk (and real cgroupfs
   * lives in memory too).
   */
  readonly tempDir?: string;
}

/**
 * `/dev/shm` when it is a writable directory (a tmpfs on Linux), else undefined (Deno's
 * default temp dir). For `CgroupTree.create({ tempDir: fastTempDir() })` with hundreds of
 * pods: mind that a container's /dev/shm may be only 64 MiB (about 500 pods).
 */
export function fastTempDir(): string | undefined {
  try {
    const probe = Deno.makeTempDirSync({ dir: "/dev/shm", prefix: "cgroup_tree_probe_" });
    Deno.removeSync(probe);
    return "/dev/shm";
  } catch {
    return undefined;
  }
}

/** One container of a fake pod. Optional fields default as in brackets. */
export interface FakeContainerSpec {
  /** Container ID; no `.` or `/` (real IDs are 64 hex, see `fakeContainerId`). */
  readonly id: string;
  /** Runtime [the tree's runtime]. */
  readonly runtime?: ContainerRuntime;
  /** `memory.swap.current`, bytes [0]. */
  readonly swapCurrentBytes?: number;
  /**
   * `memory.swap.max`, bytes; null writes `max` [null for Burstable pods, 0 otherwise, as
   * the kubelet does under `LimitedSwap`].
   */
  readonly swapMaxBytes?: number | null;
  /** `memory.current`, bytes [4 MiB]. */
  readonly memoryCurrentBytes?: number;
  /** `memory.max`, bytes; null writes `max` [null]. */
  readonly memoryMaxBytes?: number | null;
  /** `pswpin` in `memory.stat` when the tree has `cgroupSwapIo` [0]. */
  readonly swapInPages?: number;
  /** `pswpout` in `memory.stat` when the tree has `cgroupSwapIo` [0]. */
  readonly swapOutPages?: number;
}

/** One fake pod. Optional fields default as in brackets. */
export interface FakePodSpec {
  /** Pod UID, `8-4-4-4-12` hex with dashes, or 32 hex for a static pod (see `fakePodUid`). */
  readonly uid: string;
  /** QoS class, which decides the parent cgroup. */
  readonly qos: QosClass;
  /**
   * Pod `memory.max`, bytes; null writes `max` [the sum of the containers' limits when
   * every container has one and the pod is not BestEffort, else null: the kubelet's rule].
   */
  readonly memoryMaxBytes?: number | null;
  /** Pod `memory.current`, bytes [sum of the containers']. */
  readonly memoryCurrentBytes?: number;
  /** Pod `memory.swap.current`, bytes [sum of the containers']. */
  readonly swapCurrentBytes?: number;
  /** Pod `memory.pressure` full avg10, percent [0]. */
  readonly fullAvg10Percent?: number;
  /** Pod `memory.pressure` some avg10, percent [fullAvg10Percent]. */
  readonly someAvg10Percent?: number;
  /** `oom_kill` in the pod's (and its first container's) `memory.events` [0]. */
  readonly oomKillCount?: number;
  /** Pod `pswpin` in `memory.stat` when the tree has `cgroupSwapIo` [sum of the containers']. */
  readonly swapInPages?: number;
  /** Pod `pswpout` in `memory.stat` when the tree has `cgroupSwapIo` [sum of the containers']. */
  readonly swapOutPages?: number;
  /** The pod's containers (a real pod also has its sandbox container: add one if wanted). */
  readonly containers: readonly FakeContainerSpec[];
}

/** Figures of a container that `setContainer` can change. */
export interface FakeContainerPatch {
  /** `memory.swap.current`, bytes. */
  readonly swapCurrentBytes?: number;
  /** `memory.swap.max`, bytes; null for `max`. */
  readonly swapMaxBytes?: number | null;
  /** `memory.current`, bytes. */
  readonly memoryCurrentBytes?: number;
  /** `memory.max`, bytes; null for `max`. */
  readonly memoryMaxBytes?: number | null;
  /** `pswpin` in `memory.stat` (with `cgroupSwapIo`). */
  readonly swapInPages?: number;
  /** `pswpout` in `memory.stat` (with `cgroupSwapIo`). */
  readonly swapOutPages?: number;
}

/** A pod UID for index `n`: `00000000-0000-4000-8000-<n as 12 hex>`. */
export function fakePodUid(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
}

/** A 64-hex container ID for index `n`. */
export function fakeContainerId(n: number): string {
  return n.toString(16).padStart(64, "c");
}

/** Mutable state of one container. */
interface ContainerState {
  id: string;
  dirName: string;
  swapCurrentBytes: number;
  swapMaxBytes: number | null;
  memoryCurrentBytes: number;
  memoryMaxBytes: number | null;
  swapInPages: number;
  swapOutPages: number;
  oomKillCount: number;
}

/** Mutable state of one pod. */
interface PodState {
  uid: string;
  qos: QosClass;
  path: string;
  memoryMaxBytes: number | null;
  memoryCurrentBytes: number;
  swapCurrentBytes: number;
  fullAvg10Percent: number;
  someAvg10Percent: number;
  fullTotalMicroseconds: number;
  someTotalMicroseconds: number;
  oomKillCount: number;
  swapInPages: number;
  swapOutPages: number;
  containers: ContainerState[];
  /** CRI-O monitor cgroups (`crio-conmon-<id>`), which are not containers. */
  conmonDirNames: string[];
}

const MIB = 1024 * 1024;
/** An all-zero PSI line. */
const ZERO = { avg10Percent: 0, totalMicroseconds: 0 } as const;
const UID = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})$/;

/** `memory.stat` keys of Debian's 6.12 kernel, in its order. */
const MEMORY_STAT_KEYS = (
  "anon file kernel kernel_stack pagetables sec_pagetables percpu sock vmalloc shmem zswap " +
  "zswapped file_mapped file_dirty file_writeback swapcached anon_thp file_thp shmem_thp " +
  "inactive_anon active_anon inactive_file active_file unevictable slab_reclaimable " +
  "slab_unreclaimable slab workingset_refault_anon workingset_refault_file " +
  "workingset_activate_anon workingset_activate_file workingset_restore_anon " +
  "workingset_restore_file workingset_nodereclaim pgdemote_kswapd pgdemote_direct " +
  "pgdemote_khugepaged pgpromote_success pgscan pgsteal pgscan_kswapd pgscan_direct " +
  "pgscan_khugepaged pgsteal_kswapd pgsteal_direct pgsteal_khugepaged pgfault pgmajfault " +
  "pgrefill pgactivate pgdeactivate pglazyfree pglazyfreed swpin_zero swpout_zero zswpin " +
  "zswpout zswpwb thp_fault_alloc thp_collapse_alloc thp_swpout thp_swpout_fallback " +
  "numa_pages_migrated numa_pte_updates numa_hint_faults"
).split(" ");

/** `memory.stat` text: anon memory and, with per-cgroup swap I/O, pswpin/pswpout after pgsteal. */
function memoryStatText(
  anonBytes: number,
  swapIo: { swapInPages: number; swapOutPages: number } | null,
): string {
  let text = "";
  for (const key of MEMORY_STAT_KEYS) {
    const value = key === "anon"
      ? anonBytes
      : key === "inactive_anon"
      ? anonBytes - Math.floor(anonBytes / 8)
      : key === "active_anon"
      ? Math.floor(anonBytes / 8)
      : 0;
    text += `${key} ${value}\n`;
    if (key === "pgsteal" && swapIo !== null) {
      text += `pswpin ${swapIo.swapInPages}\npswpout ${swapIo.swapOutPages}\n`;
    }
  }
  return text;
}

/** `memory.events` text as 6.12 writes it. */
function memoryEventsText(oomKillCount: number): string {
  const oom = oomKillCount > 0 ? 1 : 0;
  return `low 0\nhigh 0\nmax ${oomKillCount * 100}\noom ${oom}\noom_kill ${oomKillCount}\n` +
    `oom_group_kill ${oom}\n`;
}

/** `max` or the number. */
function bytesOrMax(value: number | null): string {
  return value === null ? "max\n" : `${value}\n`;
}

/** A kubelet-shaped cgroup tree in a temp directory; see the module doc. */
export class CgroupTree {
  /** The cgroup root to hand the agent (like `/host/sys/fs/cgroup`). */
  readonly root: string;
  /** The cgroup driver of the layout. */
  readonly driver: CgroupDriver;
  /** The kubelet cgroup-root prefix; "" for none. */
  readonly prefix: string;
  readonly #base: string;
  readonly #runtime: ContainerRuntime;
  readonly #cgroupSwapIo: boolean;
  readonly #pressureFullLine: boolean;
  readonly #pods = new Map<string, PodState>();
  #scratch = 0;

  private constructor(base: string, options: CgroupTreeOptions) {
    this.#base = base;
    this.root = `${base}/cgroup`;
    this.driver = options.driver ?? "systemd";
    this.prefix = options.prefix ?? "";
    this.#runtime = options.runtime ?? "containerd";
    this.#cgroupSwapIo = options.cgroupSwapIo ?? false;
    this.#pressureFullLine = options.pressureFullLine ?? true;
  }

  /** Makes an empty tree (root, kubepods and QoS cgroups) in a new temp directory. */
  static async create(options: CgroupTreeOptions = {}): Promise<CgroupTree> {
    const prefix = options.prefix ?? "";
    if ((options.driver ?? "systemd") === "systemd" && /[-/.]/.test(prefix)) {
      throw new Error(`Cannot use prefix "${prefix}": the systemd driver takes one word`);
    }
    const base = await Deno.makeTempDir({ prefix: "cgroup_tree_", dir: options.tempDir });
    const tree = new CgroupTree(base, options);
    await Deno.mkdir(`${tree.#base}/scratch`);
    await Deno.mkdir(tree.root);
    await Deno.writeTextFile(
      `${tree.root}/cgroup.controllers`,
      "cpuset cpu io memory hugetlb pids rdma misc\n",
    );
    await Deno.writeTextFile(`${tree.root}/cgroup.subtree_control`, "cpu io memory pids\n");
    await Deno.writeTextFile(`${tree.root}/memory.pressure`, formatPressure(ZERO, ZERO));
    await Deno.writeTextFile(`${tree.root}/memory.stat`, memoryStatText(0, null));
    // Every directory from the prefix down to the QoS cgroups is a cgroup with memory files.
    const kubepods = tree.#kubepodsDir().split("/");
    for (let i = 1; i <= kubepods.length; i++) await tree.addCgroup(kubepods.slice(0, i).join("/"));
    await tree.addCgroup(tree.#qosDir("burstable"));
    await tree.addCgroup(tree.#qosDir("besteffort"));
    if (options.systemCgroups ?? true) {
      for (const dir of ["system.slice/containerd.service", "user.slice", "init.scope"]) {
        await tree.addCgroup(dir);
      }
    }
    return tree;
  }

  /**
   * Makes a cgroup that is not a pod, at `relativePath` under the root (parents too), with
   * the usual memory files: for unrelated cgroups such as `system.slice/kubelet.service`.
   * Returns its absolute path.
   */
  addCgroup(relativePath: string): Promise<string> {
    const path = `${this.root}/${relativePath}`;
    Deno.mkdirSync(path, { recursive: true });
    const files: [string, string][] = [
      ["memory.current", "0\n"],
      ["memory.max", "max\n"],
      ["memory.swap.current", "0\n"],
      ["memory.swap.max", "max\n"],
      ["memory.pressure", formatPressure(ZERO, ZERO)],
      ["memory.events", memoryEventsText(0)],
      ["memory.stat", memoryStatText(0, null)],
      ["cgroup.procs", ""],
    ];
    for (const [file, text] of files) Deno.writeTextFileSync(`${path}/${file}`, text);
    return Promise.resolve(path);
  }

  /** The kubepods cgroup, relative to the root. */
  #kubepodsDir(): string {
    if (this.driver === "cgroupfs") return this.prefix ? `${this.prefix}/kubepods` : "kubepods";
    return this.prefix ? `${this.prefix}.slice/${this.prefix}-kubepods.slice` : "kubepods.slice";
  }

  /** The systemd unit-name stem of the kubepods slice (`kubepods`, `kubelet-kubepods`). */
  #kubepodsStem(): string {
    return this.prefix ? `${this.prefix}-kubepods` : "kubepods";
  }

  /** The parent cgroup of a pod of `qos`, relative to the root. */
  #qosDir(qos: QosClass): string {
    const kubepods = this.#kubepodsDir();
    if (qos === "guaranteed") return kubepods;
    return this.driver === "cgroupfs"
      ? `${kubepods}/${qos}`
      : `${kubepods}/${this.#kubepodsStem()}-${qos}.slice`;
  }

  /** The pod cgroup's directory name. */
  #podDirName(uid: string, qos: QosClass): string {
    if (this.driver === "cgroupfs") return `pod${uid}`;
    const stem = qos === "guaranteed" ? this.#kubepodsStem() : `${this.#kubepodsStem()}-${qos}`;
    return `${stem}-pod${uid.replaceAll("-", "_")}.slice`;
  }

  /** A container cgroup's directory name, and its CRI-O monitor's (or null). */
  #containerDirNames(id: string, runtime: ContainerRuntime): [string, string | null] {
    const systemd = this.driver === "systemd";
    const scope = systemd ? ".scope" : "";
    switch (runtime) {
      case "containerd":
        return [systemd ? `cri-containerd-${id}.scope` : id, null];
      case "docker":
        return [systemd ? `docker-${id}.scope` : id, null];
      case "crio":
        return [`crio-${id}${scope}`, `crio-conmon-${id}${scope}`];
    }
  }

  /** Absolute path of the pod cgroup of `uid` (which must have been added). */
  podPath(uid: string): string {
    return this.#pod(uid).path;
  }

  /** Absolute path of a container cgroup of the pod `uid`. */
  containerPath(uid: string, containerId: string): string {
    const pod = this.#pod(uid);
    return `${pod.path}/${this.#container(pod, containerId).dirName}`;
  }

  /** UIDs of the pods in the tree, in the order they were added. */
  podUids(): string[] {
    return [...this.#pods.keys()];
  }

  /** What `discoverPodCgroups` should find for the pod `uid` (containers sorted by path). */
  pod(uid: string): PodCgroup {
    const pod = this.#pod(uid);
    const containers: ContainerCgroup[] = pod.containers
      .map((c) => ({ id: c.id, path: `${pod.path}/${c.dirName}` }))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { uid: pod.uid, path: pod.path, qosClass: pod.qos, containers };
  }

  /**
   * Adds a pod with its containers. The pod cgroup is built aside and renamed into place,
   * so it appears complete. Returns what discovery should find for it.
   */
  async addPod(spec: FakePodSpec): Promise<PodCgroup> {
    if (!UID.test(spec.uid)) {
      throw new Error(`Cannot add pod "${spec.uid}": a UID is 8-4-4-4-12 or 32 lowercase hex`);
    }
    if (this.#pods.has(spec.uid)) throw new Error(`Cannot add pod "${spec.uid}": it exists`);
    const containers: ContainerState[] = [];
    const conmonDirNames: string[] = [];
    for (const c of spec.containers) {
      if (/[./]/.test(c.id) || c.id.length === 0) {
        throw new Error(`Cannot add container "${c.id}": an ID has no "." or "/"`);
      }
      const [dirName, conmon] = this.#containerDirNames(c.id, c.runtime ?? this.#runtime);
      if (conmon !== null) conmonDirNames.push(conmon);
      containers.push({
        id: c.id,
        dirName,
        swapCurrentBytes: c.swapCurrentBytes ?? 0,
        swapMaxBytes: c.swapMaxBytes !== undefined
          ? c.swapMaxBytes
          : spec.qos === "burstable"
          ? null
          : 0,
        memoryCurrentBytes: c.memoryCurrentBytes ?? 4 * MIB,
        memoryMaxBytes: c.memoryMaxBytes ?? null,
        swapInPages: c.swapInPages ?? 0,
        swapOutPages: c.swapOutPages ?? 0,
        oomKillCount: 0,
      });
    }
    const sum = (pick: (c: ContainerState) => number) =>
      containers.reduce((total, c) => total + pick(c), 0);
    const allLimited = containers.length > 0 && containers.every((c) => c.memoryMaxBytes !== null);
    const oomKillCount = spec.oomKillCount ?? 0;
    if (containers[0] !== undefined) containers[0].oomKillCount = oomKillCount;
    const fullAvg10Percent = spec.fullAvg10Percent ?? 0;
    const someAvg10Percent = spec.someAvg10Percent ?? fullAvg10Percent;
    const pod: PodState = {
      uid: spec.uid,
      qos: spec.qos,
      path: `${this.root}/${this.#qosDir(spec.qos)}/${this.#podDirName(spec.uid, spec.qos)}`,
      memoryMaxBytes: spec.memoryMaxBytes !== undefined
        ? spec.memoryMaxBytes
        : allLimited && spec.qos !== "besteffort"
        ? sum((c) => c.memoryMaxBytes ?? 0)
        : null,
      memoryCurrentBytes: spec.memoryCurrentBytes ?? sum((c) => c.memoryCurrentBytes),
      swapCurrentBytes: spec.swapCurrentBytes ?? sum((c) => c.swapCurrentBytes),
      fullAvg10Percent,
      someAvg10Percent,
      // As if the averages had held for one second.
      fullTotalMicroseconds: Math.round(fullAvg10Percent * 10_000),
      someTotalMicroseconds: Math.round(someAvg10Percent * 10_000),
      oomKillCount,
      swapInPages: spec.swapInPages ?? sum((c) => c.swapInPages),
      swapOutPages: spec.swapOutPages ?? sum((c) => c.swapOutPages),
      containers,
      conmonDirNames,
    };

    // Synchronous writes: several times faster than async ones for hundreds of tiny files.
    const staging = `${this.#base}/scratch/${this.#scratch++}`;
    Deno.mkdirSync(staging);
    for (const [file, text] of this.#podFiles(pod)) {
      Deno.writeTextFileSync(`${staging}/${file}`, text);
    }
    for (const c of containers) {
      Deno.mkdirSync(`${staging}/${c.dirName}`);
      for (const [file, text] of this.#containerFiles(pod, c)) {
        Deno.writeTextFileSync(`${staging}/${c.dirName}/${file}`, text);
      }
    }
    for (const name of conmonDirNames) {
      Deno.mkdirSync(`${staging}/${name}`);
      Deno.writeTextFileSync(`${staging}/${name}/memory.current`, `${MIB}\n`);
      Deno.writeTextFileSync(`${staging}/${name}/cgroup.procs`, "");
    }
    await Deno.rename(staging, pod.path);
    this.#pods.set(pod.uid, pod);
    return this.pod(pod.uid);
  }

  /** The files of a pod cgroup: name → text. */
  #podFiles(pod: PodState): [string, string][] {
    return [
      ["memory.current", `${pod.memoryCurrentBytes}\n`],
      ["memory.max", bytesOrMax(pod.memoryMaxBytes)],
      ["memory.swap.current", `${pod.swapCurrentBytes}\n`],
      ["memory.swap.max", "max\n"],
      ["memory.pressure", this.#pressureText(pod)],
      ["memory.events", memoryEventsText(pod.oomKillCount)],
      ["memory.stat", this.#statText(pod.memoryCurrentBytes, pod)],
      ["memory.oom.group", "0\n"],
      ["cgroup.procs", ""],
    ];
  }

  /** The files of a container cgroup: name → text. */
  #containerFiles(pod: PodState, c: ContainerState): [string, string][] {
    return [
      ["memory.current", `${c.memoryCurrentBytes}\n`],
      ["memory.max", bytesOrMax(c.memoryMaxBytes)],
      ["memory.swap.current", `${c.swapCurrentBytes}\n`],
      ["memory.swap.max", bytesOrMax(c.swapMaxBytes)],
      ["memory.pressure", this.#pressureText(pod)],
      ["memory.events", memoryEventsText(c.oomKillCount)],
      ["memory.stat", this.#statText(c.memoryCurrentBytes, c)],
      ["memory.oom.group", "1\n"],
      ["cgroup.procs", ""],
    ];
  }

  /** `memory.pressure` text of a pod (its containers get the same). */
  #pressureText(pod: PodState): string {
    const full = {
      avg10Percent: pod.fullAvg10Percent,
      totalMicroseconds: pod.fullTotalMicroseconds,
    };
    const some = {
      avg10Percent: pod.someAvg10Percent,
      totalMicroseconds: pod.someTotalMicroseconds,
    };
    return formatPressure(some, this.#pressureFullLine ? full : null);
  }

  /** `memory.stat` text for a cgroup with `anonBytes` and the given swap I/O. */
  #statText(anonBytes: number, io: { swapInPages: number; swapOutPages: number }): string {
    return memoryStatText(anonBytes, this.#cgroupSwapIo ? io : null);
  }

  /** The state of pod `uid`; throws when it is not in the tree. */
  #pod(uid: string): PodState {
    const pod = this.#pods.get(uid);
    if (pod === undefined) throw new Error(`No pod "${uid}" in the fake cgroup tree`);
    return pod;
  }

  /** The state of one container of `pod`; throws when absent. */
  #container(pod: PodState, id: string): ContainerState {
    const c = pod.containers.find((c) => c.id === id);
    if (c === undefined) throw new Error(`No container "${id}" in pod "${pod.uid}"`);
    return c;
  }

  /** Replaces one file of a cgroup atomically. */
  #write(dir: string, file: string, text: string): Promise<void> {
    return writeFileAtomic(`${dir}/${file}`, text);
  }

  /**
   * Sets the pod's `memory.pressure` (and its containers'). avg60/avg300 follow as
   * avg10/4 and avg10/20; the `total` fields grow as if the averages had held for
   * `elapsedSeconds`.
   */
  async setPodPressure(
    uid: string,
    fullAvg10Percent: number,
    someAvg10Percent: number = fullAvg10Percent,
    elapsedSeconds = 1,
  ): Promise<void> {
    const pod = this.#pod(uid);
    pod.fullAvg10Percent = fullAvg10Percent;
    pod.someAvg10Percent = someAvg10Percent;
    pod.fullTotalMicroseconds += Math.round(fullAvg10Percent * 10_000 * elapsedSeconds);
    pod.someTotalMicroseconds += Math.round(someAvg10Percent * 10_000 * elapsedSeconds);
    const text = this.#pressureText(pod);
    await Promise.all([
      this.#write(pod.path, "memory.pressure", text),
      ...pod.containers.map((c) =>
        this.#write(`${pod.path}/${c.dirName}`, "memory.pressure", text)
      ),
    ]);
  }

  /** Sets the pod's own `memory.swap.current` (containers are set with `setContainer`). */
  async setPodSwap(uid: string, swapCurrentBytes: number): Promise<void> {
    const pod = this.#pod(uid);
    pod.swapCurrentBytes = swapCurrentBytes;
    await this.#write(pod.path, "memory.swap.current", `${swapCurrentBytes}\n`);
  }

  /** Sets the pod's own `memory.current` (and `memory.stat` anon) and/or `memory.max`. */
  async setPodMemory(
    uid: string,
    memory: { readonly memoryCurrentBytes?: number; readonly memoryMaxBytes?: number | null },
  ): Promise<void> {
    const pod = this.#pod(uid);
    if (memory.memoryCurrentBytes !== undefined) {
      pod.memoryCurrentBytes = memory.memoryCurrentBytes;
      await this.#write(pod.path, "memory.current", `${pod.memoryCurrentBytes}\n`);
      await this.#write(pod.path, "memory.stat", this.#statText(pod.memoryCurrentBytes, pod));
    }
    if (memory.memoryMaxBytes !== undefined) {
      pod.memoryMaxBytes = memory.memoryMaxBytes;
      await this.#write(pod.path, "memory.max", bytesOrMax(pod.memoryMaxBytes));
    }
  }

  /** Sets `oom_kill` in the pod's and its first container's `memory.events`. */
  async setPodOomKills(uid: string, oomKillCount: number): Promise<void> {
    const pod = this.#pod(uid);
    pod.oomKillCount = oomKillCount;
    await this.#write(pod.path, "memory.events", memoryEventsText(oomKillCount));
    const first = pod.containers[0];
    if (first !== undefined) {
      first.oomKillCount = oomKillCount;
      await this.#write(
        `${pod.path}/${first.dirName}`,
        "memory.events",
        memoryEventsText(oomKillCount),
      );
    }
  }

  /** Sets the pod's `pswpin`/`pswpout` in `memory.stat`; needs `cgroupSwapIo`. */
  async setPodSwapIo(uid: string, swapInPages: number, swapOutPages: number): Promise<void> {
    if (!this.#cgroupSwapIo) {
      throw new Error("Cannot set per-cgroup swap I/O: the tree was made without cgroupSwapIo");
    }
    const pod = this.#pod(uid);
    pod.swapInPages = swapInPages;
    pod.swapOutPages = swapOutPages;
    await this.#write(pod.path, "memory.stat", this.#statText(pod.memoryCurrentBytes, pod));
  }

  /** Changes a container's figures; only the files whose figures change are rewritten. */
  async setContainer(uid: string, containerId: string, patch: FakeContainerPatch): Promise<void> {
    const pod = this.#pod(uid);
    const c = this.#container(pod, containerId);
    const dir = `${pod.path}/${c.dirName}`;
    if (patch.swapCurrentBytes !== undefined) {
      c.swapCurrentBytes = patch.swapCurrentBytes;
      await this.#write(dir, "memory.swap.current", `${c.swapCurrentBytes}\n`);
    }
    if (patch.swapMaxBytes !== undefined) {
      c.swapMaxBytes = patch.swapMaxBytes;
      await this.#write(dir, "memory.swap.max", bytesOrMax(c.swapMaxBytes));
    }
    if (patch.memoryCurrentBytes !== undefined) {
      c.memoryCurrentBytes = patch.memoryCurrentBytes;
      await this.#write(dir, "memory.current", `${c.memoryCurrentBytes}\n`);
    }
    if (patch.memoryMaxBytes !== undefined) {
      c.memoryMaxBytes = patch.memoryMaxBytes;
      await this.#write(dir, "memory.max", bytesOrMax(c.memoryMaxBytes));
    }
    if (patch.swapInPages !== undefined) c.swapInPages = patch.swapInPages;
    if (patch.swapOutPages !== undefined) c.swapOutPages = patch.swapOutPages;
    if (
      patch.memoryCurrentBytes !== undefined || patch.swapInPages !== undefined ||
      patch.swapOutPages !== undefined
    ) {
      await this.#write(dir, "memory.stat", this.#statText(c.memoryCurrentBytes, c));
    }
  }

  /** Removes the pod cgroup at once (renamed away, then deleted), as the kernel's rmdir does. */
  async removePod(uid: string): Promise<void> {
    const pod = this.#pod(uid);
    this.#pods.delete(uid);
    await this.#removeAtomically(pod.path);
  }

  /** Removes one container cgroup at once. */
  async removeContainer(uid: string, containerId: string): Promise<void> {
    const pod = this.#pod(uid);
    const c = this.#container(pod, containerId);
    pod.containers = pod.containers.filter((x) => x !== c);
    await this.#removeAtomically(`${pod.path}/${c.dirName}`);
  }

  /** Moves `path` out of the tree, then deletes it. */
  async #removeAtomically(path: string): Promise<void> {
    const trash = `${this.#base}/scratch/${this.#scratch++}`;
    await Deno.rename(path, trash);
    await Deno.remove(trash, { recursive: true });
  }

  /** Deletes the whole temp directory. */
  async dispose(): Promise<void> {
    this.#pods.clear();
    await Deno.remove(this.#base, { recursive: true }).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }

  /** `await using tree = await CgroupTree.create()` disposes of it at scope end. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}
