// Builds the VM's pieces from scratch, cached under .cache/vm/ by content hash:
//   - initramfs per kernel: busybox, /init, the modules for zram/ext4/virtio (+ deps)
//   - one ext4 disk (kernel independent): deno + its glibc libs, a populated DENO_DIR,
//     the agent source (src/, deno.json, deno.lock), the guest driver, the workload,
//     the stand-in's certificates

import type { Kernel } from "./kernels.ts";
import { exists, hashTree, log, packExt4, sh, sha256Hex } from "./util.ts";

const VM_DIR = new URL(".", import.meta.url).pathname.replace(/\/$/, "");
const REPO = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

/** Modules the guest needs (those built in are skipped; deps are added). */
const WANTED_MODULES = [
  "virtio_pci",
  "virtio_blk",
  "crc32c_generic",
  "crc32c_intel",
  "libcrc32c",
  "crc16",
  "ext4",
  "lzo",
  "lzo_rle",
  "lz4_compress",
  "lz4hc_compress",
  "lz4",
  "lz4hc",
  "zram",
];

function stripExt(f: string): string {
  return f.replace(/\.ko(\.xz|\.zst|\.gz)?$/, "");
}
function norm(n: string): string {
  return n.replaceAll("-", "_");
}

async function readModule(path: string): Promise<Uint8Array> {
  if (path.endsWith(".xz")) {
    const out = await new Deno.Command("xz", { args: ["-dc", path], stdout: "piped" }).output();
    return out.stdout;
  }
  if (path.endsWith(".zst")) {
    const out = await new Deno.Command("zstd", { args: ["-dc", path], stdout: "piped" }).output();
    return out.stdout;
  }
  if (path.endsWith(".gz")) {
    const out = await new Deno.Command("gzip", { args: ["-dc", path], stdout: "piped" }).output();
    return out.stdout;
  }
  return await Deno.readFile(path);
}

/** `depends=` from the module's .modinfo (NUL-separated key=value strings). */
function modDepends(bytes: Uint8Array): string[] {
  const needle = new TextEncoder().encode("\0depends=");
  outer: for (let i = 0; i + needle.length < bytes.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    let e = i + needle.length;
    while (e < bytes.length && bytes[e] !== 0) e++;
    const v = new TextDecoder().decode(bytes.subarray(i + needle.length, e));
    return v.split(",").map((s) => s.trim()).filter(Boolean).map(norm);
  }
  return [];
}

async function indexModules(dir: string): Promise<Map<string, string>> {
  const idx = new Map<string, string>();
  async function walk(p: string) {
    for await (const e of Deno.readDir(p)) {
      const q = `${p}/${e.name}`;
      if (e.isDirectory) await walk(q);
      else if (/\.ko(\.xz|\.zst|\.gz)?$/.test(e.name)) idx.set(norm(stripExt(e.name)), q);
    }
  }
  await walk(`${dir}/kernel`);
  return idx;
}

/** Resolves wanted modules + deps, returns them in load order with their bytes. */
async function resolveModules(k: Kernel): Promise<{ name: string; bytes: Uint8Array }[]> {
  const idx = await indexModules(k.modulesDir);
  const loaded = new Map<string, { deps: string[]; bytes: Uint8Array }>();
  const missing: string[] = [];
  async function add(n: string) {
    if (loaded.has(n)) return;
    const path = idx.get(n);
    if (!path) {
      missing.push(n);
      return;
    }
    const bytes = await readModule(path);
    const deps = modDepends(bytes);
    loaded.set(n, { deps, bytes });
    for (const d of deps) await add(d);
  }
  for (const n of WANTED_MODULES) await add(n);
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (n: string) => {
    if (seen.has(n) || !loaded.has(n)) return;
    seen.add(n);
    for (const d of loaded.get(n)!.deps) visit(d);
    order.push(n);
  };
  for (const n of loaded.keys()) visit(n);
  log(`kernel ${k.label}: modules ${order.join(" ")} (built in or absent: ${missing.join(" ")})`);
  return order.map((n) => ({ name: n, bytes: loaded.get(n)!.bytes }));
}

/** initramfs for one kernel: busybox, /init, modules. */
export async function buildInitramfs(cache: string, k: Kernel): Promise<string> {
  const init = await Deno.readFile(`${VM_DIR}/guest/init.sh`);
  const busybox = "/bin/busybox";
  const key = (await sha256Hex(
    [
      k.release,
      await sha256Hex(init),
      await sha256Hex(await Deno.readFile(busybox)),
      WANTED_MODULES.join(),
    ]
      .join("|"),
  )).slice(0, 16);
  const out = `${cache}/build/initramfs-${k.release}-${key}.cpio.gz`;
  if (await exists(out)) return out;
  const stage = await Deno.makeTempDir({ dir: `${cache}/build`, prefix: "initramfs-" });
  for (
    const d of [
      "bin",
      "sbin",
      "proc",
      "sys",
      "dev",
      "tmp",
      "run",
      "disk",
      "etc",
      "modules",
      "lib",
      "root",
    ]
  ) {
    await Deno.mkdir(`${stage}/${d}`, { recursive: true });
  }
  await Deno.copyFile(busybox, `${stage}/bin/busybox`);
  await Deno.chmod(`${stage}/bin/busybox`, 0o755);
  await Deno.symlink("busybox", `${stage}/bin/sh`);
  await Deno.writeFile(`${stage}/init`, init, { mode: 0o755 });
  // The Deno disk carries glibc: point the loader paths at it.
  await Deno.symlink("/disk/sysroot/lib64", `${stage}/lib64`);
  await Deno.symlink("/disk/sysroot/lib/x86_64-linux-gnu", `${stage}/lib/x86_64-linux-gnu`);
  await Deno.writeTextFile(`${stage}/etc/passwd`, "root:x:0:0:root:/root:/bin/sh\n");
  await Deno.writeTextFile(`${stage}/etc/group`, "root:x:0:\n");
  await Deno.writeTextFile(`${stage}/etc/hosts`, "127.0.0.1 localhost\n");
  const mods = await resolveModules(k);
  for (const m of mods) await Deno.writeFile(`${stage}/modules/${m.name}.ko`, m.bytes);
  await Deno.writeTextFile(`${stage}/modules/order`, mods.map((m) => m.name).join("\n") + "\n");
  await sh("sh", [
    "-c",
    `cd "${stage}" && find . | cpio -o -H newc --quiet | gzip -1 > "${out}.tmp"`,
  ]);
  await Deno.rename(`${out}.tmp`, out);
  await Deno.remove(stage, { recursive: true });
  log(`built ${out}`);
  return out;
}

/** Static workload binary. */
export async function buildWorkload(cache: string): Promise<string> {
  const src = `${VM_DIR}/workload.c`;
  const key = (await sha256Hex(await Deno.readFile(src))).slice(0, 16);
  const out = `${cache}/build/workload-${key}`;
  if (await exists(out)) return out;
  await sh("gcc", ["-static", "-O2", "-Wall", "-o", out, src]);
  return out;
}

/** CA + server certificate (SAN IP:127.0.0.1) for the stand-in; made once. */
export async function buildCerts(cache: string): Promise<string> {
  const dir = `${cache}/certs`;
  if (await exists(`${dir}/server.crt`)) return dir;
  await Deno.mkdir(dir, { recursive: true });
  const o = (args: string[]) => sh("openssl", args, { cwd: dir });
  await o([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    "3650",
    "-subj",
    "/CN=e2e-standin-ca",
  ]);
  await o([
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=127.0.0.1",
  ]);
  await Deno.writeTextFile(
    `${dir}/ext.cnf`,
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
  );
  await o([
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.crt",
    "-days",
    "3650",
    "-extfile",
    "ext.cnf",
  ]);
  return dir;
}

/** DENO_DIR with the agent's npm deps, keyed by deno.lock. */
async function buildDenoDir(cache: string): Promise<string> {
  const lock = await Deno.readFile(`${REPO}/deno.lock`);
  const cfg = await Deno.readFile(`${REPO}/deno.json`);
  const key = (await sha256Hex(new Uint8Array([...lock, ...cfg]))).slice(0, 16);
  const dir = `${cache}/build/deno_dir-${key}`;
  if (await exists(`${dir}/.done`)) return dir;
  // Drop DENO_DIRs of older lock files: each holds the whole npm tree.
  for await (const e of Deno.readDir(`${cache}/build`)) {
    if (/^deno_dir-/.test(e.name)) {
      await Deno.remove(`${cache}/build/${e.name}`, { recursive: true });
    }
  }
  log(`populating DENO_DIR ${dir}`);
  await sh(Deno.execPath(), ["install", "--frozen"], {
    cwd: REPO,
    env: { ...Deno.env.toObject(), DENO_DIR: dir },
  });
  await Deno.writeTextFile(`${dir}/.done`, "");
  return dir;
}

/** Shared libraries deno needs (from ldd), copied with their sonames. */
async function denoLibs(): Promise<{ loader: string; libs: string[] }> {
  const out = await sh("ldd", [Deno.execPath()]);
  const libs: string[] = [];
  let loader = "/lib64/ld-linux-x86-64.so.2";
  for (const l of out.split("\n")) {
    const m = l.match(/=>\s+(\/\S+)/);
    if (m) libs.push(m[1]!);
    const n = l.match(/^\s+(\/lib64\/\S+)/);
    if (n) loader = n[1]!;
  }
  return { loader, libs };
}

/** The ext4 disk, shared by all kernels; key = hash of everything on it. */
export async function buildDisk(cache: string): Promise<string> {
  const workload = await buildWorkload(cache);
  const certs = await buildCerts(cache);
  const denoDir = await buildDenoDir(cache);
  const appPaths = [
    `${REPO}/src`,
    `${REPO}/deno.json`,
    `${REPO}/deno.lock`,
    `${VM_DIR}/scenarios.ts`,
    `${VM_DIR}/guest`,
  ];
  const key = await hashTree(
    [...appPaths, workload, `${certs}/server.crt`],
    `${Deno.version.deno}|${denoDir}`,
  );
  const out = `${cache}/build/disk-${key}.img`;
  if (await exists(out)) return out;
  // Drop older disks: they are large.
  for await (const e of Deno.readDir(`${cache}/build`)) {
    if (/^disk-.*\.img$/.test(e.name)) await Deno.remove(`${cache}/build/${e.name}`);
  }
  const stage = await Deno.makeTempDir({ dir: `${cache}/build`, prefix: "disk-" });
  try {
    await Deno.mkdir(`${stage}/deno`);
    await Deno.copyFile(Deno.execPath(), `${stage}/deno/deno`);
    await Deno.chmod(`${stage}/deno/deno`, 0o755);
    const { loader, libs } = await denoLibs();
    await Deno.mkdir(`${stage}/sysroot/lib64`, { recursive: true });
    await Deno.mkdir(`${stage}/sysroot/lib/x86_64-linux-gnu`, { recursive: true });
    await sh("cp", ["-L", loader, `${stage}/sysroot/lib64/`]);
    for (const l of libs) await sh("cp", ["-L", l, `${stage}/sysroot/lib/x86_64-linux-gnu/`]);
    await sh("cp", ["-a", denoDir, `${stage}/deno_dir`]);
    await Deno.mkdir(`${stage}/app/tests/vm`, { recursive: true });
    await sh("cp", [
      "-a",
      `${REPO}/src`,
      `${REPO}/deno.json`,
      `${REPO}/deno.lock`,
      `${stage}/app/`,
    ]);
    await sh("cp", ["-a", `${VM_DIR}/scenarios.ts`, `${VM_DIR}/guest`, `${stage}/app/tests/vm/`]);
    await Deno.mkdir(`${stage}/bin`);
    await Deno.copyFile(workload, `${stage}/bin/workload`);
    await Deno.chmod(`${stage}/bin/workload`, 0o755);
    await Deno.mkdir(`${stage}/certs`);
    for (const f of ["ca.crt", "server.crt", "server.key"]) {
      await Deno.copyFile(`${certs}/${f}`, `${stage}/certs/${f}`);
    }
    await packExt4(stage, out, "e2e", 1.25, 96);
  } finally {
    await Deno.remove(stage, { recursive: true });
  }
  return out;
}
