import assert from "node:assert/strict";
import { PROMTOOL, REQUIRE_TOOLS_VARIABLE, tool, type ToolEnv, type ToolSpec } from "./tools.ts";

function fakeEnv(present: boolean, required: boolean) {
  const printed: string[] = [];
  const failures: string[] = [];
  const env: ToolEnv = {
    probe: () => present,
    required: () => required,
    print: (line) => printed.push(line),
    registerFailure: (name, message) => failures.push(`${name}: ${message}`),
  };
  return { env, printed, failures };
}

Deno.test("tool() of a missing tool skips with one line naming the tool and its Debian package", () => {
  const { env, printed, failures } = fakeEnv(false, false);
  const check = tool(PROMTOOL, "tests/x_test.ts", env);
  assert.equal(check.skip, true);
  assert.equal(check.present, false);
  assert.deepEqual(printed, [
    'skip: "promtool" is not installed (Debian package "prometheus": apt-get install prometheus); ' +
    "its tests in tests/x_test.ts are ignored",
  ]);
  assert.deepEqual(failures, []);
});

Deno.test("tool() of a missing tool under SOOMKILLER_REQUIRE_TOOLS=1 adds a failing test and does not skip", () => {
  const { env, printed, failures } = fakeEnv(false, true);
  const check = tool(PROMTOOL, "tests/x_test.ts", env);
  assert.equal(check.skip, false);
  assert.deepEqual(printed, []);
  assert.equal(failures.length, 1);
  assert.match(failures[0]!, /^promtool is installed \(SOOMKILLER_REQUIRE_TOOLS=1\): "promtool"/);
  assert.match(failures[0]!, /Debian package "prometheus"/);
});

Deno.test("tool() of a present tool neither skips nor prints", () => {
  const { env, printed, failures } = fakeEnv(true, true);
  const check = tool(PROMTOOL, "tests/x_test.ts", env);
  assert.deepEqual([check.skip, check.present, printed, failures], [false, true, [], []]);
});

// The whole mechanism in a real `deno test` run: a tool that exists nowhere.
const GHOST: ToolSpec = {
  command: "soomkiller-no-such-tool",
  probeArgs: ["--version"],
  debianPackage: "soomkiller-ghost",
};

async function runGhostSuite(required: boolean) {
  const dir = await Deno.makeTempDir({ prefix: "soomkiller-tools-" });
  try {
    const file = `${dir}/ghost_test.ts`;
    await Deno.writeTextFile(
      file,
      `import { tool } from ${JSON.stringify(new URL("./tools.ts", import.meta.url).href)};
const ghost = tool(${JSON.stringify(GHOST)});
Deno.test("needs the ghost", { ignore: ghost.skip }, () => {
  new Deno.Command(${JSON.stringify(GHOST.command)}).outputSync();
});
Deno.test("needs nothing", () => {});
`,
    );
    // Set either way: the child inherits the environment, and .ci/run exports the variable.
    const env: Record<string, string> = {
      NO_COLOR: "1",
      [REQUIRE_TOOLS_VARIABLE]: required ? "1" : "",
    };
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", "--no-lock", "--no-config", file],
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    return { code: out.code, text: decoder.decode(out.stdout) + decoder.decode(out.stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("deno test with a missing tool passes and shows the skip line; with SOOMKILLER_REQUIRE_TOOLS=1 it fails", async () => {
  const relaxed = await runGhostSuite(false);
  assert.equal(relaxed.code, 0, relaxed.text);
  assert.match(
    relaxed.text,
    /skip: "soomkiller-no-such-tool" is not installed \(Debian package "soomkiller-ghost"/,
  );
  assert.match(relaxed.text, /needs the ghost \.\.\. ignored/);
  assert.match(relaxed.text, /ok \| 1 passed \| 0 failed \| 1 ignored/);

  const strict = await runGhostSuite(true);
  assert.notEqual(strict.code, 0, strict.text);
  assert.match(
    strict.text,
    /soomkiller-no-such-tool is installed \(SOOMKILLER_REQUIRE_TOOLS=1\) \.\.\. FAILED/,
  );
  assert.match(strict.text, /needs the ghost \.\.\. FAILED/);
  assert.doesNotMatch(strict.text, /ignored/);
});

Deno.test(".ci/run sets SOOMKILLER_REQUIRE_TOOLS=1 and installs the Debian package of every tool the tests use", async () => {
  const ci = await Deno.readTextFile(new URL("../.ci/run", import.meta.url));
  assert.match(ci, /^export SOOMKILLER_REQUIRE_TOOLS=1$/m);
  const tools = await import("./tools.ts");
  const specs = Object.values(tools).filter((value): value is ToolSpec =>
    typeof value === "object" && value !== null && "command" in value && "probeArgs" in value
  );
  assert.ok(specs.length >= 5);
  for (const spec of specs) {
    if (spec.debianPackage === null) continue;
    assert.ok(
      ci.includes(`command -v ${spec.command} >/dev/null 2>&1 || missing+=(${spec.debianPackage})`),
      `.ci/run installs ${spec.debianPackage} for ${spec.command}`,
    );
  }
});
