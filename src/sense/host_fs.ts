/**
 * The agent's only window on the host's files. Sense code receives a HostFs so
 * tests can hand it a temp tree and the demo a synthetic node.
 */

/** One directory entry, as the cgroup walk needs it. */
export interface DirEntryInfo {
  /** Entry name, not a path. */
  readonly name: string;
  /** True for directories (cgroups are directories). */
  readonly isDirectory: boolean;
}

/** Read-only access to host files. Errors are Deno's (`Deno.errors.NotFound` …). */
export interface HostFs {
  /** Reads a whole (small) file as text. */
  readTextFile(path: string): Promise<string>;
  /** Lists one directory, not recursive. */
  readDir(path: string): Promise<DirEntryInfo[]>;
}

/**
 * HostFs on the real filesystem through Deno's synchronous APIs, answered as promises
 * (errors as rejections, exactly as the async APIs give them).
 *
 * Synchronous on purpose: the agent reads only tiny procfs/cgroupfs files, which the
 * kernel answers from memory in microseconds. An async Deno read hops to a blocking-pool
 * thread and back (about 15–25 µs of CPU per file, and up to ~30 threads alive at once
 * under a scan); a synchronous one costs about 5 µs and no thread. tests/bench measured a
 * 250-pod scan at about a third of the CPU and the agent at 4 threads instead of 22–36.
 * The price: the event loop waits for the read, which for these files is microseconds
 * (a whole 250-pod scan blocks it for ~25 ms). So nothing but a regular file is ever
 * opened: a FIFO in place of `memory.pressure` would block the open forever (and with it
 * the loop, the HTTP endpoint and SIGTERM), a device could stream without end, and a
 * symlink in a mis-mounted tree could point anywhere. `lstat` first (one more syscall,
 * about a microsecond) refuses all of them, and a file over 1 MiB is refused after the
 * read (every file the agent reads is a few KiB).
 */
export const denoHostFs: HostFs = {
  readTextFile(path) {
    try {
      const info = Deno.lstatSync(path);
      if (!info.isFile) throw new NotRegularFileError(path, fileKindOf(info));
      const text = Deno.readTextFileSync(path);
      if (text.length > MAX_HOST_FILE_CHARS) {
        throw new Error(
          `"${path}" holds ${text.length} characters, over the ${MAX_HOST_FILE_CHARS} the agent ` +
            `reads from a kernel file: not parsed`,
        );
      }
      return Promise.resolve(text);
    } catch (error) {
      return Promise.reject(error);
    }
  },
  readDir(path) {
    try {
      const entries: DirEntryInfo[] = [];
      for (const entry of Deno.readDirSync(path)) {
        entries.push({ name: entry.name, isDirectory: entry.isDirectory });
      }
      return Promise.resolve(entries);
    } catch (error) {
      return Promise.reject(error);
    }
  },
};

/** Largest host file parsed, characters (procfs and cgroupfs files are a few KiB). */
export const MAX_HOST_FILE_CHARS = 1 << 20;

/** A path that is not a regular file (a FIFO, a device, a socket, a symlink): never opened. */
export class NotRegularFileError extends Error {
  constructor(path: string, kind: string) {
    super(`"${path}" is ${kind}, not a regular file: not read`);
    this.name = "NotRegularFileError";
  }
}

function fileKindOf(info: Deno.FileInfo): string {
  if (info.isSymlink) return "a symlink";
  if (info.isDirectory) return "a directory";
  if (info.isFifo) return "a FIFO";
  if (info.isSocket) return "a socket";
  if (info.isCharDevice || info.isBlockDevice) return "a device";
  return "not a regular file";
}

/** True when an error means the file or cgroup is gone (normal churn, not a fault). */
export function isVanished(error: unknown): boolean {
  return error instanceof Deno.errors.NotFound ||
    // A cgroup removed between readdir and open can also answer ENODEV.
    (error instanceof Error && /ENODEV|No such device/.test(error.message));
}
