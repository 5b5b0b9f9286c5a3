// Boots one scenario in qemu (TCG) and brings back what the guest wrote.

import type { Kernel } from "./kernels.ts";
import type { GuestResult } from "./scenarios.ts";
import { exists, log, sh } from "./util.ts";

export interface BootOptions {
  readonly kernel: Kernel;
  readonly initramfs: string;
  readonly disk: string;
  readonly scenario: string;
  readonly trace: boolean;
  readonly runDir: string;
  /** Hard limit for one boot, seconds. */
  readonly timeoutSeconds: number;
  readonly memMiB?: number;
  /** Swap size, e.g. "512M". */
  readonly swapSize?: string;
  /** "disk": swap on a virtio disk (cache=none) instead of zram. */
  readonly swapDevice?: "zram" | "disk";
  /** The real servers' root disk (mounted at /srv in the guest). */
  readonly serversDisk?: string;
  /** Diagnostic: extra deno flags for the agent ("+"-separated, no spaces). */
  readonly agentDenoFlags?: string;
}

export interface BootOutcome {
  readonly result: GuestResult | null;
  readonly consoleLog: string;
  readonly oops: boolean;
  readonly timedOut: boolean;
  readonly wallSeconds: number;
  /** Guest output files (result.json, trace.jsonl, agent.log, dmesg.txt) in runDir/out. */
  readonly outDir: string;
}

const OOPS_RE = /\bOops\b|\bBUG: |Kernel panic/;

export const KERNEL_CMDLINE =
  "console=ttyS0 quiet panic=-1 systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all psi=1";

export async function boot(o: BootOptions): Promise<BootOutcome> {
  // Keep the run dir (earlier attempts' saved consoles), replace this boot's files.
  await Deno.remove(`${o.runDir}/out`, { recursive: true }).catch(() => {});
  await Deno.mkdir(o.runDir, { recursive: true });
  const outImg = `${o.runDir}/out.img`;
  {
    const f = await Deno.open(outImg, { write: true, create: true, truncate: true });
    await f.truncate(64 * 1024 * 1024);
    f.close();
  }
  // A swap disk comes after the other disks: vdc without the servers' root, vdd with it.
  const swapImg = o.swapDevice === "disk" ? `${o.runDir}/swap.img` : null;
  if (swapImg !== null) {
    const f = await Deno.open(swapImg, { write: true, create: true, truncate: true });
    await f.truncate(parseSize(o.swapSize ?? "512M"));
    f.close();
  }
  const swapDev = swapImg === null ? "" : o.serversDisk ? "vdd" : "vdc";
  const append = `${KERNEL_CMDLINE} e2e.scenario=${o.scenario} e2e.trace=${o.trace ? 1 : 0}` +
    (o.swapSize ? ` e2e.swap=${o.swapSize}` : "") +
    (swapDev ? ` e2e.swapdev=${swapDev}` : "") +
    (o.agentDenoFlags ? ` e2e.agentflags=${o.agentDenoFlags}` : "");
  const args = [
    "-accel",
    "tcg,thread=multi",
    "-cpu",
    "max",
    "-smp",
    "2",
    "-m",
    String(o.memMiB ?? 512),
    "-nodefaults",
    "-display",
    "none",
    "-serial",
    "stdio",
    "-no-reboot",
    "-nic",
    "none",
    "-kernel",
    o.kernel.image,
    "-initrd",
    o.initramfs,
    "-append",
    append,
    "-drive",
    `file=${o.disk},if=virtio,format=raw,snapshot=on`,
    "-drive",
    `file=${outImg},if=virtio,format=raw`,
    ...(o.serversDisk ? ["-drive", `file=${o.serversDisk},if=virtio,format=raw,snapshot=on`] : []),
    // O_DIRECT on the host: swap-ins are real disk reads, not the host's page cache.
    ...(swapImg ? ["-drive", `file=${swapImg},if=virtio,format=raw,cache=none,aio=threads`] : []),
  ];
  await Deno.writeTextFile(
    `${o.runDir}/qemu.cmdline`,
    `qemu-system-x86_64 ${args.map((a) => `'${a}'`).join(" ")}\n`,
  );
  const start = performance.now();
  const child = new Deno.Command("qemu-system-x86_64", {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const consolePath = `${o.runDir}/console.log`;
  const consoleFile = await Deno.open(consolePath, { write: true, create: true, truncate: true });
  let text = "";
  let oops = false;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
  }, o.timeoutSeconds * 1000);
  const errP = new Response(child.stderr).text();
  const reader = child.stdout.getReader();
  const dec = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    await consoleFile.write(value);
    const s = dec.decode(value, { stream: true });
    text += s;
    if (Deno.env.get("E2E_VERBOSE")) Deno.stderr.writeSync(value);
    if (!oops && OOPS_RE.test(text.slice(-s.length - 64))) {
      oops = true;
      log(`guest oops detected in ${o.scenario}; stopping this boot`);
      setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* exited */ }
      }, 1500);
    }
  }
  clearTimeout(timer);
  await child.status;
  const qerr = await errP;
  if (qerr.trim()) await Deno.writeTextFile(`${o.runDir}/qemu.stderr`, qerr);
  consoleFile.close();
  const wallSeconds = (performance.now() - start) / 1000;
  const outDir = `${o.runDir}/out`;
  await Deno.mkdir(outDir, { recursive: true });
  let result: GuestResult | null = null;
  try {
    await sh("tar", ["-xf", outImg, "-C", outDir]);
    if (await exists(`${outDir}/result.json`)) {
      result = JSON.parse(await Deno.readTextFile(`${outDir}/result.json`));
    }
  } catch { /* no tar: guest died before writing it */ }
  if (!result) {
    const m = text.match(/@@RESULT@@ (.*)/);
    if (m) {
      try {
        result = JSON.parse(m[1]!);
      } catch { /* truncated */ }
    }
  }
  await Deno.remove(outImg).catch(() => {});
  if (swapImg !== null) await Deno.remove(swapImg).catch(() => {});
  return { result, consoleLog: text, oops, timedOut, wallSeconds, outDir };
}

/** "512M", "1536M", "2G" → bytes. */
function parseSize(size: string): number {
  const m = /^(\d+)([KMG])$/.exec(size);
  if (!m) throw new Error(`Bad swap size "${size}": expected e.g. 512M`);
  return Number(m[1]) * 1024 ** ({ K: 1, M: 2, G: 3 } as const)[m[2] as "K" | "M" | "G"];
}
