/** Connection deps for the kubeconfig and in-cluster readers' tests. */
import type { ConnectionDeps } from "../../src/act/token_source.ts";

/** An in-memory file system for readTextFile, and the real monotonic clock. */
export function memoryFiles(contents: Record<string, string>): ConnectionDeps {
  return {
    readTextFile: (path: string): Promise<string> =>
      path in contents
        ? Promise.resolve(contents[path]!)
        : Promise.reject(new Deno.errors.NotFound(`No such file or directory: '${path}'`)),
    now: () => performance.now(),
  };
}
