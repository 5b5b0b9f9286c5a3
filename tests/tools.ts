/**
 * The one way a test depends on a program from outside Deno (promtool, systemd-analyze,
 * chromium, openssl, …): `const promtool = tool(PROMTOOL)`, then
 * `Deno.test(name, { ignore: promtool.skip }, fn)`.
 *
 * A missing tool skips its tests with one line on standard error naming the tool and the
 * Debian package that has it, so `deno task test` passes on a machine with only Deno. With
 * `SOOMKILLER_REQUIRE_TOOLS=1` (set by `.ci/run`, which installs every tool) a missing tool
 * is a failing test instead, so CI can never skip silently.
 *
 * openssl is the exception that does not skip: the HTTPS API stand-in (tests/fakes) falls
 * back to the test-only PKI in tests/fixtures/pki/ without it, except under the variable.
 */

/** A program the tests call, and where to get it. */
export interface ToolSpec {
  /** The command, as looked up on PATH. */
  readonly command: string;
  /** Arguments that succeed when the program works, e.g. `["--version"]`. */
  readonly probeArgs: readonly string[];
  /** The Debian package that installs it; null when Debian has no usable one. */
  readonly debianPackage: string | null;
  /** How to install it when Debian has none (shown in the skip line). */
  readonly installHint?: string;
}

export const PROMTOOL: ToolSpec = {
  command: "promtool",
  probeArgs: ["--version"],
  debianPackage: "prometheus",
};
export const SYSTEMD_ANALYZE: ToolSpec = {
  command: "systemd-analyze",
  probeArgs: ["--version"],
  debianPackage: "systemd",
};
export const CHROMIUM: ToolSpec = {
  command: "chromium",
  probeArgs: ["--version"],
  debianPackage: "chromium",
};
export const OPENSSL: ToolSpec = {
  command: "openssl",
  probeArgs: ["version"],
  debianPackage: "openssl",
};
export const SHELLCHECK: ToolSpec = {
  command: "shellcheck",
  probeArgs: ["--version"],
  debianPackage: "shellcheck",
};
/** Debian bookworm's kubectl (1.20) predates kustomize components: never required. */
export const KUBECTL: ToolSpec = {
  command: "kubectl",
  probeArgs: ["version", "--client"],
  debianPackage: null,
  installHint: "https://kubernetes.io/docs/tasks/tools/",
};

/** The environment variable under which a missing tool fails instead of skipping. */
export const REQUIRE_TOOLS_VARIABLE = "SOOMKILLER_REQUIRE_TOOLS";

/** Whether a tool is there, and what a test should do about it. */
export interface ToolCheck {
  readonly spec: ToolSpec;
  /** The program ran its probe successfully. */
  readonly present: boolean;
  /** Pass as `Deno.test`'s `ignore`: true only when missing and not required. */
  readonly skip: boolean;
  /** The skip line (also printed once); "" when present. */
  readonly message: string;
}

/** Hooks for tests of this module; the defaults run the probe and use the real env. */
export interface ToolEnv {
  readonly probe: (spec: ToolSpec) => boolean;
  readonly required: (spec: ToolSpec) => boolean;
  readonly print: (line: string) => void;
  readonly registerFailure: (name: string, message: string) => void;
}

function probe(spec: ToolSpec): boolean {
  try {
    return new Deno.Command(spec.command, {
      args: [...spec.probeArgs],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false;
  }
}

/** Tools CI installs are required under the variable; a tool Debian lacks never is. */
function requiredByEnv(spec: ToolSpec): boolean {
  return spec.debianPackage !== null && Deno.env.get(REQUIRE_TOOLS_VARIABLE) === "1";
}

const DEFAULT_ENV: ToolEnv = {
  probe,
  required: requiredByEnv,
  print: (line) => console.error(line),
  registerFailure: (name, message) =>
    Deno.test(name, () => {
      throw new Error(message);
    }),
};

/** The skip line: `skip: "promtool" is not installed (Debian package "prometheus"): …`. */
export function skipLine(spec: ToolSpec, where: string): string {
  const source = spec.debianPackage !== null
    ? `Debian package "${spec.debianPackage}": apt-get install ${spec.debianPackage}`
    : `install: ${spec.installHint ?? spec.command}`;
  return `skip: "${spec.command}" is not installed (${source}); its tests in ${where} are ignored`;
}

const checked = new Map<string, ToolCheck>();

/**
 * Checks `spec` once per test module (`where`: the module, for the skip line). Missing and
 * not required: prints the skip line and returns `skip: true`. Missing and required: adds a
 * failing test saying so and returns `skip: false`, so its tests run and fail too.
 */
export function tool(
  spec: ToolSpec,
  where = callerModule(),
  env: ToolEnv = DEFAULT_ENV,
): ToolCheck {
  const key = `${spec.command}\0${where}`;
  const cached = env === DEFAULT_ENV ? checked.get(key) : undefined;
  if (cached) return cached;
  let result: ToolCheck;
  if (env.probe(spec)) result = { spec, present: true, skip: false, message: "" };
  else if (env.required(spec)) {
    const message = `"${spec.command}" is not installed (Debian package "${spec.debianPackage}") ` +
      `and ${REQUIRE_TOOLS_VARIABLE}=1 requires it`;
    env.registerFailure(`${spec.command} is installed (${REQUIRE_TOOLS_VARIABLE}=1)`, message);
    result = { spec, present: false, skip: false, message };
  } else {
    const message = skipLine(spec, where);
    env.print(message);
    result = { spec, present: false, skip: true, message };
  }
  if (env === DEFAULT_ENV) checked.set(key, result);
  return result;
}

/** The test module that called `tool()`, relative to the repository, e.g. `tests/x_test.ts`. */
function callerModule(): string {
  const stack = new Error().stack?.split("\n") ?? [];
  const self = import.meta.url;
  for (const line of stack) {
    const match = /(file:\/\/[^\s)]+?):\d+:\d+/.exec(line);
    if (!match || match[1] === self) continue;
    const path = new URL(match[1]!).pathname;
    const index = path.lastIndexOf("/tests/");
    return index >= 0 ? path.slice(index + 1) : path;
  }
  return "this module";
}
