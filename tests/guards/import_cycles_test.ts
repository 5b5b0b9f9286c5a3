import assert from "node:assert/strict";
import { checkImportCycles, findCycles } from "../../tools/check_import_cycles.ts";

const SCRIPT = new URL("../../tools/check_import_cycles.ts", import.meta.url).pathname;

/** Writes `files` (path → source) under a fresh temp dir; returns the dir. */
async function tree(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "cycle-fixture-" });
  for (const [path, source] of Object.entries(files)) {
    await Deno.mkdir(`${dir}/${path}`.replace(/\/[^/]+$/, ""), { recursive: true });
    await Deno.writeTextFile(`${dir}/${path}`, source);
  }
  return dir;
}

/** A loop module, an act module and the shared types they both need: no cycle. */
const ACYCLIC = {
  "agent.ts": 'import { send } from "./act/events.ts";\nexport const run = () => send();\n',
  "act/events.ts":
    'import type { Report } from "../decide/decision.ts";\nexport const send = (r?: Report) => r;\n',
  "decide/decision.ts": "// agent.ts imports this (a comment is no import)\n" +
    "export interface Report { readonly ok: boolean }\n",
};

Deno.test("the import-cycle check passes on a tree without a cycle", async () => {
  const dir = await tree(ACYCLIC);
  try {
    const result = await checkImportCycles(dir);
    assert.equal(result.ok, true, result.lines.join("\n"));
    assert.match(result.lines[0]!, /No import cycle among the 3 modules/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the import-cycle check fails on a type-only cycle and names its modules in order", async () => {
  const dir = await tree({
    ...ACYCLIC,
    "act/events.ts": 'import type { TickReport } from "../agent.ts";\n' +
      "export const send = (r?: TickReport) => r;\n",
    "agent.ts": 'import { send } from "./act/events.ts";\nexport interface TickReport { n: 1 }\n' +
      "export const run = () => send();\n",
  });
  try {
    const result = await checkImportCycles(dir);
    assert.equal(result.ok, false);
    assert.deepEqual(result.lines, [
      `1 import cycle under ${dir}:`,
      `  ${dir}/act/events.ts → ${dir}/agent.ts → ${dir}/act/events.ts`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the import-cycle check counts a dynamic import, and the script exits 1", async () => {
  const dir = await tree({
    "main.ts": 'export const load = () => import("./sub/commands.ts");\n',
    "sub/commands.ts": 'import { load } from "../main.ts";\nexport const again = load;\n',
  });
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-write", "--allow-run", SCRIPT, dir],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    assert.equal(output.code, 1);
    assert.match(
      new TextDecoder().decode(output.stderr),
      /main\.ts → .*sub\/commands\.ts → .*main\.ts/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the import-cycle script exits 0 on a tree without a cycle", async () => {
  const dir = await tree(ACYCLIC);
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-write", "--allow-run", SCRIPT, dir],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("findCycles() reports one shortest cycle per component, and a self-import", () => {
  const graph = new Map<string, Set<string>>([
    ["a", new Set(["b"])],
    ["b", new Set(["c", "a"])],
    ["c", new Set(["a"])],
    ["d", new Set(["d"])],
    ["e", new Set(["a"])],
  ]);
  assert.deepEqual(findCycles(graph), [["a", "b", "a"], ["d", "d"]]);
  assert.deepEqual(findCycles(new Map([["a", new Set(["b"])], ["b", new Set()]])), []);
});
