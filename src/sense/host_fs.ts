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

/** HostFs on the real filesystem through Deno's APIs. */
export const denoHostFs: HostFs = {
  readTextFile: (path) => Deno.readTextFile(path),
  async readDir(path) {
    const entries: DirEntryInfo[] = [];
    for await (const entry of Deno.readDir(path)) {
      entries.push({ name: entry.name, isDirectory: entry.isDirectory });
    }
    return entries;
  },
};

/** True when an error means the file or cgroup is gone (normal churn, not a fault). */
export function isVanished(error: unknown): boolean {
  return error instanceof Deno.errors.NotFound ||
    // A cgroup removed between readdir and open can also answer ENODEV.
    (error instanceof Error && /ENODEV|No such device/.test(error.message));
}
