// Real servers in the guest: PostgreSQL 15 and Redis 7 from the debootstrapped bookworm
// root at /srv (tests/vm/servers.ts). The server runs in its pod's container cgroup as the
// container's init process; its benchmark runs outside the pod (in a real cluster the
// clients are elsewhere). After the scenario the server is started once more, outside any
// limit, and its own log says whether it had stopped cleanly.

import type { ServerSpec } from "../scenarios.ts";

export const SRV = "/srv";
const PG = "/usr/lib/postgresql/15/bin";

interface ServerKind {
  /** argv inside the chroot. */
  readonly command: (spec: ServerSpec) => readonly string[];
  /** The container's stop signal (the official images' STOPSIGNAL). */
  readonly stopSignal: Deno.Signal;
  /** Log line that says the server accepts clients. */
  readonly ready: RegExp;
  /** The benchmark's argv inside the chroot. */
  readonly bench: (spec: ServerSpec, seconds: number) => readonly string[];
  /** Lines of the server's logs worth reporting. */
  readonly telling: RegExp;
  /** The verdict from the first run's log and the restart's log. */
  readonly verdict: (firstRun: string, restart: string) => string;
}

const asUser = (user: string) => [
  "/usr/bin/setpriv",
  `--reuid=${user}`,
  `--regid=${user}`,
  "--init-groups",
  "--",
];

export const SERVER_KINDS: Record<ServerSpec["kind"], ServerKind> = {
  postgresql: {
    command: () => [...asUser("postgres"), `${PG}/postgres`, "-D", "/data/pg"],
    stopSignal: "SIGINT",
    ready: /database system is ready to accept connections/,
    // pgbench's TPC-B-like writes plus short range scans (servers/prepare.sh), 1:3.
    bench: (spec, seconds) => [
      ...asUser("postgres"),
      `${PG}/pgbench`,
      "-h",
      "127.0.0.1",
      "-n",
      "-c",
      String(spec.clients),
      "-j",
      "2",
      "-T",
      String(seconds),
      "-P",
      "10",
      "-b",
      "tpcb-like@1",
      "-f",
      "/data/range.sql@3",
      "postgres",
    ],
    telling:
      /shut down|shutting down|interrupted|redo starts|redo done|ready to accept|terminated by signal|database system is|received .* shutdown/,
    verdict: (first, restart) => {
      if (/database system was interrupted|redo starts at/.test(restart)) {
        return "crash recovery (database system was interrupted)";
      }
      if (/database system was shut down at/.test(restart)) {
        return "clean (database system was shut down at …)";
      }
      return first ? "unknown (no restart verdict)" : "unknown (no log)";
    },
  },
  redis: {
    // e2e.conf: no automatic AOF rewrite; persist.conf: save points and rewrite as shipped.
    command: (spec) => [
      ...asUser("redis"),
      "/usr/bin/redis-server",
      spec.persistence === "shipped" ? "/etc/redis/persist.conf" : "/etc/redis/e2e.conf",
    ],
    stopSignal: "SIGTERM",
    ready: /Ready to accept connections/,
    // SETs of 8 KiB values over 40,000 random keys from one client (more fill the pod
    // faster than any grace period: measured 14 MiB/s of swap with 4): the data set levels
    // off near 330 MiB.
    bench: (spec, seconds) => [
      "/usr/bin/timeout",
      String(seconds),
      "/usr/bin/redis-benchmark",
      "-h",
      "127.0.0.1",
      "-c",
      String(spec.clients),
      "-P",
      "1",
      "-t",
      "set",
      "-d",
      "8192",
      "-r",
      "40000",
      "-n",
      "100000000",
      "-q",
    ],
    telling:
      /DB saved on disk|ready to exit|Received SIG|Ready to accept|DB loaded|AOF|append only|truncated|User requested shutdown|Saving the final/,
    verdict: (first, restart) => {
      const savedOnExit = /DB saved on disk/.test(first) && /ready to exit/.test(first);
      const restarted = /Ready to accept connections/.test(restart);
      if (savedOnExit && restarted) return "clean (DB saved on disk, ready to exit)";
      if (!savedOnExit && restarted) return "crash (no final save; AOF loaded after a kill)";
      return "unknown (no restart verdict)";
    },
  },
};

/** Mounts the guest root's pseudo file systems (once). */
export function prepareRoot(): void {
  const mounts = [
    ["-t", "proc", "proc", `${SRV}/proc`],
    ["--bind", "/dev", `${SRV}/dev`],
    ["-t", "tmpfs", "-o", "mode=1777", "tmpfs", `${SRV}/tmp`],
    ["-t", "tmpfs", "tmpfs", `${SRV}/run`],
  ];
  for (const args of mounts) new Deno.Command("/bin/mount", { args }).outputSync();
  Deno.mkdirSync(`${SRV}/run/postgresql`, { recursive: true });
}

/**
 * Reads the servers' programs and libraries (servers/prepare.sh lists them) from the root
 * cgroup, so their page cache is not charged to a pod.
 */
export function preloadPrograms(): number {
  let bytes = 0;
  for (const path of readTextOrEmpty(`${SRV}/data/preload.list`).split("\n")) {
    if (!path.trim()) continue;
    try {
      bytes += Deno.readFileSync(`${SRV}${path.trim()}`).length;
    } catch { /* listed but absent: the server will say so */ }
  }
  return bytes;
}

/**
 * Spawns `argv` inside the guest root, in `cgroupDir` from its first instruction (the
 * shell moves itself there, then execs), with stdout and stderr appended to `logPath`.
 */
export function spawnInRoot(
  argv: readonly string[],
  cgroupDir: string,
  logPath: string,
): Deno.ChildProcess {
  const quoted = argv.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  return new Deno.Command("/bin/sh", {
    args: [
      "-c",
      `echo $$ > '${cgroupDir}/cgroup.procs' && exec chroot ${SRV} ${quoted} >>'${logPath}' 2>&1`,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/** Waits until the log file matches `re`; false after `timeoutMs`. */
export async function waitForLog(path: string, re: RegExp, timeoutMs: number): Promise<boolean> {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    try {
      if (re.test(Deno.readTextFileSync(path))) return true;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

export function readTextOrEmpty(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}
