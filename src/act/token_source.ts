/**
 * Bearer tokens for the API client. A projected service-account token is rotated by the
 * kubelet (about hourly, valid longer), so a token file is re-read at least every minute
 * and after every 401.
 */
import type { TokenSource } from "./kube_client.ts";

/**
 * The effects building a connection takes: the file reader (CA, kubeconfig, token files)
 * and the monotonic clock of the token cache. main.ts passes {@linkcode denoConnectionDeps};
 * tests pass files in memory and a clock they move.
 */
export interface ConnectionDeps {
  /** Reads a whole file as text. */
  readonly readTextFile: (path: string) => Promise<string>;
  /** Monotonic clock, ms. */
  readonly now: () => number;
}

/** The real effects: `Deno.readTextFile` and `performance.now()`. */
export const denoConnectionDeps: ConnectionDeps = {
  readTextFile: (path) => Deno.readTextFile(path),
  now: () => performance.now(),
};

/** Options of {@linkcode fileTokenSource}: its effects, and the cache age. */
export interface FileTokenSourceOptions extends ConnectionDeps {
  /** Re-read the file when the cached token is older than this, ms. Default 60 000. */
  readonly maxAgeMs?: number;
}

/**
 * A token read from a file, cached for `maxAgeMs`; invalidate() forces a re-read.
 * get() rejects with a clear error when the file cannot be read or is empty.
 */
export function fileTokenSource(path: string, options: FileTokenSourceOptions): TokenSource {
  const { now, readTextFile } = options;
  const maxAgeMs = options.maxAgeMs ?? 60_000;
  let cached: { readonly token: string; readonly readAtMs: number } | null = null;
  let pending: Promise<string> | null = null;

  async function read(): Promise<string> {
    let text: string;
    try {
      text = await readTextFile(path);
    } catch (error) {
      throw new Error(
        `Cannot read token file "${path}": ${error instanceof Error ? error.message : error}`,
      );
    }
    const token = text.trim();
    if (token === "") throw new Error(`Cannot use token file "${path}": it is empty`);
    cached = { token, readAtMs: now() };
    return token;
  }

  return {
    get(): Promise<string> {
      if (cached !== null && now() - cached.readAtMs < maxAgeMs) {
        return Promise.resolve(cached.token);
      }
      // Concurrent callers share one read.
      pending ??= read().finally(() => {
        pending = null;
      });
      return pending;
    },
    invalidate(): void {
      cached = null;
    },
  };
}

/** A fixed token (a kubeconfig's inline `token`); invalidate() changes nothing. */
export function staticTokenSource(token: string): TokenSource {
  return {
    get: () => Promise.resolve(token),
    invalidate: () => {},
  };
}
