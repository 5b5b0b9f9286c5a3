// Fetches Debian kernels with `apt-get download` and unpacks them with `dpkg -x`
// (never installed on the host). Suites the host does not list are reached through
// a private sources list and state dir, leaving the host's apt configuration alone.

import { exists, log, sh } from "./util.ts";

export interface KernelSpec {
  /** Short name used on the command line and in reports. */
  readonly label: string;
  /** Debian suite of linux-image-amd64. */
  readonly suite: string;
  /** True when the suite is in the host's own sources (use the host's apt as is). */
  readonly hostSuite: boolean;
}

export const KERNELS: readonly KernelSpec[] = [
  { label: "6.1", suite: "bookworm", hostSuite: true },
  { label: "6.12", suite: "bookworm-backports", hostSuite: false },
  { label: "7.3", suite: "trixie-backports", hostSuite: false },
];

export interface Kernel {
  readonly label: string;
  /** `uname -r` of the kernel. */
  readonly release: string;
  /** bzImage path. */
  readonly image: string;
  /** Directory holding kernel/ modules.builtin etc. */
  readonly modulesDir: string;
  /** Debian package file names used. */
  readonly packages: string[];
}

const PKG_RE = /^linux-(image|base|binary|modules)-\d/;

function aptOpts(root: string, spec: KernelSpec): string[] {
  if (spec.hostSuite) return [];
  return [
    "-o",
    `Dir::Etc::sourcelist=${root}/sources.list`,
    "-o",
    "Dir::Etc::sourceparts=-",
    "-o",
    `Dir::State=${root}/state`,
    "-o",
    `Dir::State::status=${root}/state/status`,
    "-o",
    `Dir::Cache=${root}/cache`,
    "-o",
    "APT::Get::List-Cleanup=0",
  ];
}

/** Downloads (once) and unpacks the kernel of `spec` under `cacheDir`/kernels/<label>. */
export async function fetchKernel(cacheDir: string, spec: KernelSpec): Promise<Kernel> {
  const dir = `${cacheDir}/kernels/${spec.label}`;
  const doneFile = `${dir}/kernel.json`;
  if (await exists(doneFile)) return JSON.parse(await Deno.readTextFile(doneFile));
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  const aptRoot = `${dir}/apt`;
  const debs = `${dir}/debs`;
  const root = `${dir}/root`;
  await Deno.mkdir(`${aptRoot}/state/lists/partial`, { recursive: true });
  await Deno.mkdir(`${aptRoot}/cache/archives/partial`, { recursive: true });
  await Deno.mkdir(debs, { recursive: true });
  await Deno.mkdir(root, { recursive: true });
  const opts = aptOpts(aptRoot, spec);
  if (!spec.hostSuite) {
    await Deno.writeTextFile(`${aptRoot}/state/status`, "");
    await Deno.writeTextFile(
      `${aptRoot}/sources.list`,
      `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian ${spec.suite} main\n`,
    );
    log(`apt-get update (private list: ${spec.suite})`);
    await sh("apt-get", [...opts, "-q", "update"]);
  }
  // Resolve linux-image-amd64 → versioned image (+ base/binary/modules on new kernels).
  if (spec.hostSuite) {
    const known = await sh("apt-cache", ["depends", "linux-image-amd64"]).catch(() => "");
    if (!/Depends: linux-image-\d/.test(known)) {
      log("apt-get update (host lists do not know linux-image-amd64 yet)");
      await sh("apt-get", ["-q", "update"]);
    }
  }
  const want = new Set<string>();
  const queue = ["linux-image-amd64"];
  while (queue.length) {
    const p = queue.shift()!;
    const out = await sh("apt-cache", [...opts, "depends", p]);
    for (const line of out.split("\n")) {
      const m = line.match(/^\s+(?:\|)?(?:Depends|PreDepends): <?([^\s>]+)>?/);
      if (m && PKG_RE.test(m[1]!) && !want.has(m[1]!)) {
        want.add(m[1]!);
        queue.push(m[1]!);
      }
    }
  }
  if (want.size === 0) throw new Error(`Cannot resolve "linux-image-amd64" in ${spec.suite}`);
  const names = [...want].map((n) => (spec.hostSuite ? n : `${n}/${spec.suite}`));
  log(`apt-get download ${names.join(" ")}`);
  await sh("apt-get", [...opts, "-q", "download", ...names], { cwd: debs });
  const files: string[] = [];
  for await (const e of Deno.readDir(debs)) if (e.name.endsWith(".deb")) files.push(e.name);
  files.sort();
  for (const f of files) await sh("dpkg", ["-x", `${debs}/${f}`, root]);
  // Locate modules dir and image.
  let modulesDir = "";
  let release = "";
  for (const base of [`${root}/lib/modules`, `${root}/usr/lib/modules`]) {
    if (!(await exists(base))) continue;
    for await (const e of Deno.readDir(base)) {
      if (e.isDirectory && (await exists(`${base}/${e.name}/kernel`))) {
        modulesDir = `${base}/${e.name}`;
        release = e.name;
      }
    }
  }
  if (!modulesDir) throw new Error(`No modules directory in ${root}`);
  let image = "";
  for (const c of [`${root}/boot/vmlinuz-${release}`, `${modulesDir}/vmlinuz`]) {
    if (await exists(c)) image = c;
  }
  if (!image) throw new Error(`No vmlinuz for "${release}" in ${root}`);
  // Keep only what we need: drop the .debs (the unpacked tree is the cache).
  await Deno.remove(debs, { recursive: true });
  const k: Kernel = { label: spec.label, release, image, modulesDir, packages: files };
  await Deno.writeTextFile(doneFile, JSON.stringify(k, null, 2));
  log(`kernel ${spec.label}: ${release}`);
  return k;
}

if (import.meta.main) {
  const dir = Deno.args[0] ?? ".cache/vm";
  for (const s of KERNELS) console.log(await fetchKernel(dir, s));
}
