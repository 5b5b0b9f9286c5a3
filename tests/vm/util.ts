// Small helpers shared by the host side of the VM suite.

/** Runs a command; throws with its stderr when it fails. Returns stdout as text. */
export async function sh(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; quiet?: boolean; stdin?: Uint8Array } = {},
): Promise<string> {
  const c = new Deno.Command(cmd, {
    args,
    cwd: opts.cwd,
    env: opts.env,
    stdin: opts.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  });
  const child = c.spawn();
  if (opts.stdin) {
    const w = child.stdin.getWriter();
    await w.write(opts.stdin);
    await w.close();
  }
  const out = await child.output();
  const stdout = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    const stderr = new TextDecoder().decode(out.stderr);
    throw new Error(
      `Command failed: "${cmd} ${args.join(" ")}" (exit ${out.code}): ${stderr.slice(-2000)}`,
    );
  }
  return stdout;
}

/** True when `name` is found on PATH. */
export function which(name: string): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":")) {
    try {
      const p = `${dir}/${name}`;
      if (Deno.statSync(p).isFile) return p;
    } catch { /* not here */ }
  }
  return null;
}

export async function exists(p: string): Promise<boolean> {
  try {
    await Deno.lstat(p);
    return true;
  } catch {
    return false;
  }
}

export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const d = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Hash of every file under the given paths (sorted by path), for cache keys. */
export async function hashTree(paths: string[], extra = ""): Promise<string> {
  const files: string[] = [];
  async function walk(p: string) {
    const st = await Deno.stat(p);
    if (st.isDirectory) {
      for await (const e of Deno.readDir(p)) await walk(`${p}/${e.name}`);
    } else if (st.isFile) files.push(p);
  }
  for (const p of paths) if (await exists(p)) await walk(p);
  files.sort();
  const parts: string[] = [extra];
  for (const f of files) parts.push(f, await sha256Hex(await Deno.readFile(f)));
  return (await sha256Hex(parts.join("\n"))).slice(0, 16);
}

export function log(msg: string) {
  const t = new Date().toISOString().slice(11, 19);
  console.error(`[e2e ${t}] ${msg}`);
}

/**
 * Packs `dir` as an ext4 image at `out` (no journal: the VM mounts it `snapshot=on`), sized
 * at `growth` × its contents plus `extraMiB`; the file is sparse. Returns the size, MiB.
 */
export async function packExt4(
  dir: string,
  out: string,
  label: string,
  growth: number,
  extraMiB: number,
): Promise<number> {
  const kib = Number((await sh("du", ["-sk", "-x", dir])).split(/\s/)[0]);
  const sizeMiB = Math.ceil((kib * growth) / 1024) + extraMiB;
  const args = ["-q", "-t", "ext4", "-O", "^has_journal", "-L", label, "-d", dir];
  await sh("mke2fs", [...args, `${out}.tmp`, `${sizeMiB}M`]);
  await Deno.rename(`${out}.tmp`, out);
  log(`built ${out} (${sizeMiB} MiB)`);
  return sizeMiB;
}
