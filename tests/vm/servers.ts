// The real servers' guest root: a debootstrapped Debian bookworm with PostgreSQL 15 and
// Redis 7 from Debian's packages, with a pgbench data set prepared on the host (chroot,
// native speed), packed as an ext4 disk the guest mounts at /srv and chroots into.
// Cached under .cache/vm/build/ by the package list and servers/prepare.sh.

import { exists, log, packExt4, sh, sha256Hex } from "./util.ts";

const VM_DIR = new URL(".", import.meta.url).pathname.replace(/\/$/, "");

const SUITE = "bookworm";
const MIRROR = "http://deb.debian.org/debian";
const PACKAGES = ["postgresql-15", "redis-server", "redis-tools", "procps"];
/** pgbench scale: 20 ≈ 300 MiB of tables and indexes. */
export const PGBENCH_SCALE = 20;

async function withMounts<T>(root: string, run: () => Promise<T>): Promise<T> {
  await sh("mount", ["-t", "proc", "proc", `${root}/proc`]);
  await sh("mount", ["--bind", "/dev", `${root}/dev`]);
  try {
    return await run();
  } finally {
    await sh("umount", ["-l", `${root}/dev`]).catch(() => "");
    await sh("umount", ["-l", `${root}/proc`]).catch(() => "");
  }
}

/** debootstrap of the suite with the servers (about 4 minutes on a fresh machine). */
async function buildRoot(cache: string): Promise<string> {
  const key = (await sha256Hex([SUITE, MIRROR, ...PACKAGES].join("|"))).slice(0, 16);
  const root = `${cache}/build/servers-root-${key}`;
  if (await exists(`${root}/.done`)) return root;
  await Deno.remove(root, { recursive: true }).catch(() => {});
  log(`debootstrap ${SUITE} with ${PACKAGES.join(" ")} into ${root}`);
  await sh("debootstrap", [
    "--variant=minbase",
    `--include=${PACKAGES.join(",")}`,
    SUITE,
    root,
    MIRROR,
  ]);
  // Debian's own cluster, apt's caches and the documentation are not needed in the guest.
  await sh("sh", [
    "-c",
    `cd "${root}" && rm -rf var/lib/postgresql/15/main var/cache/apt/archives/*.deb ` +
    `var/lib/apt/lists/* usr/share/doc usr/share/man usr/share/locale`,
  ]);
  await Deno.writeTextFile(`${root}/.done`, "");
  return root;
}

/** The servers' disk image (prepared data set included); only the newest is kept. */
export async function buildServersDisk(cache: string): Promise<string> {
  if (!(await exists("/usr/sbin/debootstrap"))) {
    throw new Error(
      'Cannot build the servers\' root: "debootstrap" is missing (apt-get install debootstrap)',
    );
  }
  const root = await buildRoot(cache);
  const prepare = await Deno.readFile(`${VM_DIR}/servers/prepare.sh`);
  const builder = await Deno.readFile(`${VM_DIR}/servers.ts`);
  const key = (await sha256Hex(
    [root, await sha256Hex(prepare), await sha256Hex(builder), PGBENCH_SCALE].join("|"),
  )).slice(0, 16);
  const out = `${cache}/build/servers-${key}.img`;
  if (await exists(out)) return out;
  for await (const e of Deno.readDir(`${cache}/build`)) {
    if (/^servers-[0-9a-f]{16}\.img$/.test(e.name)) await Deno.remove(`${cache}/build/${e.name}`);
  }
  log(`preparing the PostgreSQL and Redis data sets (pgbench scale ${PGBENCH_SCALE})`);
  await Deno.writeFile(`${root}/prepare.sh`, prepare, { mode: 0o755 });
  const said = await withMounts(root, () =>
    sh("chroot", [root, "/bin/bash", "/prepare.sh"], {
      env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", PGBENCH_SCALE: String(PGBENCH_SCALE) },
    }));
  log(said.trim().split("\n").join("; "));
  // Room for Redis' append-only file to grow (the image is sparse).
  await packExt4(root, out, "servers", 1.3, 3072);
  return out;
}
