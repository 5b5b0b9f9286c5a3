/** Shared helpers of the sense/ tests: kernel fixture paths and HostFs wrappers. */
import type { DirEntryInfo, HostFs } from "../../src/sense/host_fs.ts";
import { denoHostFs } from "../../src/sense/host_fs.ts";

/** The kernels in tests/fixtures/kernels. */
export const KERNELS = ["6.1.0-56-amd64", "6.12.95+deb12-amd64", "7.3.4+deb13-amd64"] as const;
/** One fixture kernel. */
export type Kernel = typeof KERNELS[number];
/** The snapshots each kernel has. */
export type Snapshot = "idle" | "pressure" | "oom";

/** Absolute path of a kernel snapshot directory, or of `relative` inside it. */
export function fixturePath(kernel: Kernel, snapshot: Snapshot, relative = ""): string {
  const url = new URL(`../fixtures/kernels/${kernel}/${snapshot}/${relative}`, import.meta.url);
  return decodeURIComponent(url.pathname).replace(/\/$/, "");
}

/** Text of one fixture file. */
export function readFixture(kernel: Kernel, snapshot: Snapshot, relative: string): Promise<string> {
  return Deno.readTextFile(fixturePath(kernel, snapshot, relative));
}

/** What a wrapped HostFs call does instead of the real one; undefined passes it through. */
export type Intercept = (
  op: "readTextFile" | "readDir",
  path: string,
) => void | Promise<void>;

/** A HostFs on the real filesystem that calls `intercept` first (which may throw). */
export function interceptFs(intercept: Intercept, inner: HostFs = denoHostFs): HostFs {
  return {
    async readTextFile(path: string): Promise<string> {
      await intercept("readTextFile", path);
      return inner.readTextFile(path);
    },
    async readDir(path: string): Promise<DirEntryInfo[]> {
      await intercept("readDir", path);
      return inner.readDir(path);
    },
  };
}

/** A HostFs that throws NotFound for `path` and everything below it, as if it vanished. */
export function vanishingFs(vanished: string, inner: HostFs = denoHostFs): HostFs {
  return interceptFs((_op, path) => {
    if (path === vanished || path.startsWith(vanished + "/")) {
      throw new Deno.errors.NotFound(`No such file or directory (os error 2): readdir '${path}'`);
    }
  }, inner);
}

/** A HostFs that records every path it is asked for. */
export function recordingFs(inner: HostFs = denoHostFs): { fs: HostFs; paths: string[] } {
  const paths: string[] = [];
  return { fs: interceptFs((_op, path) => void paths.push(path), inner), paths };
}

/** An in-memory HostFs holding `files` (path → text); directories are implied by the paths. */
export function memoryFs(files: Readonly<Record<string, string>>): HostFs {
  return {
    readTextFile(path: string): Promise<string> {
      const text = files[path];
      if (text === undefined) {
        return Promise.reject(new Deno.errors.NotFound(`No such file: "${path}"`));
      }
      return Promise.resolve(text);
    },
    readDir(path: string): Promise<DirEntryInfo[]> {
      const prefix = path.endsWith("/") ? path : path + "/";
      const entries = new Map<string, boolean>();
      for (const file of Object.keys(files)) {
        if (!file.startsWith(prefix)) continue;
        const rest = file.slice(prefix.length);
        const slash = rest.indexOf("/");
        entries.set(slash === -1 ? rest : rest.slice(0, slash), slash !== -1);
      }
      if (entries.size === 0) {
        return Promise.reject(new Deno.errors.NotFound(`No such directory: "${path}"`));
      }
      return Promise.resolve([...entries].map(([name, isDirectory]) => ({ name, isDirectory })));
    },
  };
}
