import type { HostFs } from "./host_fs.ts";
import { isVanished } from "./host_fs.ts";
import { mapLimit } from "./map_limit.ts";

/** Kubernetes QoS class, from the cgroup path. */
export type QosClass = "guaranteed" | "burstable" | "besteffort";

/** A container cgroup under a pod cgroup. */
export interface ContainerCgroup {
  /** Container ID (from `cri-containerd-<id>.scope`, `crio-<id>.scope` or the bare cgroupfs dir). */
  readonly id: string;
  /** Absolute path of the container cgroup directory. */
  readonly path: string;
}

/** A pod cgroup found under the cgroup root. */
export interface PodCgroup {
  /** Pod UID with dashes (`_` of the systemd driver turned into `-`); 32 hex for static pods. */
  readonly uid: string;
  /** Absolute path of the pod cgroup directory. */
  readonly path: string;
  /** QoS class, from the parent directory's name (`burstable`, `besteffort`, else guaranteed). */
  readonly qosClass: QosClass;
  /** Container cgroups of the pod, sorted by path; includes the sandbox (pause) container. */
  readonly containers: readonly ContainerCgroup[];
}

/** Pod cgroup name, both drivers: `…-pod<uid with _>.slice`, `pod<uid>`, or a 32-hex static UID. */
const POD_COMPONENT =
  /^(?:.*-)?pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12}|[0-9a-f]{32})(?:\.slice)?$/;

/** How deep below the cgroup root a pod cgroup may sit (kind: 4, plain systemd: 3). */
const MAX_POD_DEPTH = 6;

/** How many directories are listed at once. */
const LIST_CONCURRENCY = 16;

/** Systemd scope prefixes of container runtimes, longest first (`crio-conmon-` is skipped). */
const SCOPE_PREFIXES = ["cri-containerd-", "docker-", "crio-"] as const;

/** The pod UID a cgroup path component names, or null when it names no pod. */
export function podUidFromComponent(component: string): string | null {
  // Cheap test first: most names the walk sees are not pods.
  if (!component.includes("pod")) return null;
  const match = POD_COMPONENT.exec(component);
  const uid = match?.[1];
  return uid === undefined ? null : uid.replaceAll("_", "-");
}

/**
 * The container ID a child directory of a pod cgroup names, or null when it is no
 * container: `cri-containerd-<id>.scope`, `crio-<id>.scope`, `docker-<id>.scope` (systemd
 * driver), `<id>` or `crio-<id>` (cgroupfs driver). CRI-O's `crio-conmon-<id>` monitor
 * cgroups and other systemd units (`*.scope`, `*.slice` of unknown runtimes) give null.
 */
export function containerIdFromComponent(component: string): string | null {
  if (component.startsWith("crio-conmon-")) return null;
  let id = component;
  for (const prefix of SCOPE_PREFIXES) {
    if (component.startsWith(prefix)) {
      id = component.endsWith(".scope")
        ? component.slice(prefix.length, -".scope".length)
        : component.slice(prefix.length);
      break;
    }
  }
  // What is left must be a bare ID: a dot means a unit of no known runtime (`init.scope`).
  return id.length === 0 || id.includes(".") ? null : id;
}

/** QoS class from the name of a pod cgroup's parent directory. */
function qosFromParent(parentName: string): QosClass {
  const name = parentName.endsWith(".slice") ? parentName.slice(0, -".slice".length) : parentName;
  if (name.endsWith("burstable")) return "burstable";
  if (name.endsWith("besteffort")) return "besteffort";
  return "guaranteed";
}

/**
 * True for the directories that can lead to pod cgroups: `kubepods*`, the kubelet's
 * cgroup-root prefixes (`kubelet.slice`, `kubelet`) and cgroupfs QoS directories.
 * Everything else (`system.slice`, `user.slice`, `init.scope`) is never listed.
 */
function leadsToPods(name: string): boolean {
  return name.includes("kubepods") || name.includes("kubelet") || name === "burstable" ||
    name === "besteffort";
}

/** Lists a directory's subdirectories; null when it vanished (normal churn). */
async function listDirs(fs: HostFs, path: string): Promise<string[] | null> {
  try {
    const names: string[] = [];
    for (const entry of await fs.readDir(path)) {
      if (entry.isDirectory) names.push(entry.name);
    }
    return names;
  } catch (error) {
    if (isVanished(error)) return null;
    throw error;
  }
}

/** Joins a directory path and an entry name. */
function join(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

/** A pod cgroup found by the walk, before its containers are listed. */
interface FoundPod {
  readonly uid: string;
  readonly path: string;
  readonly qosClass: QosClass;
}

/**
 * Finds every pod cgroup under `cgroupRoot`: systemd and cgroupfs drivers, all QoS
 * classes, containerd and CRI-O scopes, and kubelet cgroup-root prefixes (kind's
 * `kubelet.slice/kubelet-kubepods.slice`). A directory that vanishes mid-walk is skipped.
 *
 * The walk lists only directories that can lead to pods (see `leadsToPods`), stops at a
 * pod cgroup and goes at most 6 levels deep, so a node with hundreds of pods costs one
 * listing per pod plus a handful. A kubelet `--cgroup-root` whose name contains neither
 * "kubepods" nor "kubelet" is not found: point `cgroupRoot` at it instead. Errors other
 * than a vanished directory (e.g. permission denied) are thrown. Pods come sorted by path.
 */
export async function discoverPodCgroups(fs: HostFs, cgroupRoot: string): Promise<PodCgroup[]> {
  // The root itself must be readable: a missing root is a setup error, not churn.
  const rootNames: string[] = [];
  for (const entry of await fs.readDir(cgroupRoot)) {
    if (entry.isDirectory) rootNames.push(entry.name);
  }
  // The root's own name counts as a parent name when it is a QoS directory itself.
  const rootName = cgroupRoot.replace(/\/+$/, "").split("/").pop() ?? "";

  const found: FoundPod[] = [];
  // Breadth-first, one level at a time: `levelNames[i]` are the subdirectories of `level[i]`.
  let level: { path: string; name: string }[] = [{ path: cgroupRoot, name: rootName }];
  let levelNames: (string[] | null)[] = [rootNames];
  for (let depth = 1; depth <= MAX_POD_DEPTH && level.length > 0; depth++) {
    const next: { path: string; name: string }[] = [];
    level.forEach((dir, i) => {
      for (const name of levelNames[i] ?? []) {
        const path = join(dir.path, name);
        const uid = podUidFromComponent(name);
        if (uid !== null) found.push({ uid, path, qosClass: qosFromParent(dir.name) });
        else if (depth < MAX_POD_DEPTH && leadsToPods(name)) next.push({ path, name });
      }
    });
    level = next;
    levelNames = await mapLimit(next, LIST_CONCURRENCY, (dir) => listDirs(fs, dir.path));
  }

  const pods = await mapLimit(found, LIST_CONCURRENCY, async (pod) => {
    const names = await listDirs(fs, pod.path);
    if (names === null) return null;
    const containers: ContainerCgroup[] = [];
    for (const name of names) {
      const id = containerIdFromComponent(name);
      if (id !== null) containers.push({ id, path: join(pod.path, name) });
    }
    containers.sort(byPath);
    const cgroup: PodCgroup = { ...pod, containers };
    return cgroup;
  });
  return pods.filter((pod) => pod !== null).sort(byPath);
}

/** Orders records by path (code-unit order, stable across runs). */
function byPath(a: { readonly path: string }, b: { readonly path: string }): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}
