import assert from "node:assert/strict";
import plugin, { DECIDE_DIR } from "../../tools/decide_purity_plugin.ts";

/** The diagnostics of the purity rule for `source` as a file at `path`. */
function lint(path: string, source: string): string[] {
  return Deno.lint.runPlugin(plugin, path, source).map((d) =>
    `${source.slice(d.range[0], d.range[1])}: ${d.message}`
  );
}

Deno.test("the purity guard fails a decide/ file that reads the clock", () => {
  const hits = lint(
    `${DECIDE_DIR}window.ts`,
    "export function age(since: number): number {\n  return Date.now() - since;\n}\n",
  );
  assert.equal(hits.length, 1);
  assert.match(hits[0]!, /^Date: src\/decide\/ is pure: `Date` is an effect/);
});

Deno.test("the purity guard catches each forbidden global, in calls, types and via globalThis", () => {
  const source = [
    'export const read = () => Deno.readTextFile("/proc/vmstat");',
    'export const get = () => fetch("http://x");',
    "export const now = () => performance.now();",
    "export const id = () => crypto.randomUUID();",
    "export const at = (d: Date) => d;",
    "export const later = () => new globalThis.Date();",
    "export const tick = globalThis.performance;",
  ].join("\n");
  const hits = lint(`${DECIDE_DIR}bad.ts`, source).map((hit) => hit.split(":")[0]);
  assert.deepEqual(hits, [
    "Deno",
    "fetch",
    "performance",
    "crypto",
    "Date",
    "globalThis.Date",
    "globalThis.performance",
  ]);
});

Deno.test("the purity guard passes comments, strings and other objects' properties", () => {
  const source = [
    "// Date.now() would be impure here; performance.now() too.",
    "/** Not `fetch`, not `crypto.randomUUID()`, not Deno.readTextFile. */",
    'export const label = "Date.now() and fetch() in a string";',
    "export const text = `performance ${label} crypto`;",
    "export interface Report { readonly Date: number; fetch(): void; crypto?: string }",
    "export const report = { Date: 1, performance: 2 };",
    "export const read = (r: Report) => [r.Date, r.crypto, report.performance];",
    "export const pattern = /Date|fetch/;",
  ].join("\n");
  assert.deepEqual(lint(`${DECIDE_DIR}good.ts`, source), []);
});

Deno.test("the purity guard applies to src/decide/ only", () => {
  const source = "export const now = () => Date.now();\n";
  assert.deepEqual(lint(DECIDE_DIR.replace(/decide\/$/, "clock.ts"), source), []);
  assert.equal(lint(`${DECIDE_DIR}nested/deep.ts`, source).length, 1);
});

Deno.test("the dependency guard fails a decide/ file that imports act/, config.ts or the loop", () => {
  const source = [
    'import { mayHaveWritten } from "../act/outcome.ts";',
    'import type { PodRef } from "../act/kube_client.ts";',
    'import type { Config } from "../config.ts";',
    'import { Agent } from "../agent.ts";',
    'export * from "../observe/log.ts";',
    'export { redactUrl } from "../act/kube_client.ts";',
    'export const later = () => import("../replay/trace.ts");',
    // sense/ gives records, not code: a value import is refused too.
    'import { parsePressure } from "../sense/pressure.ts";',
  ].join("\n");
  const hits = lint(`${DECIDE_DIR}agent_state.ts`, source)
    .filter((hit) => hit.includes("depends on nothing above it"))
    .map((hit) => /`(src\/[^`]+)`/.exec(hit)![1]);
  assert.deepEqual(hits, [
    "src/act/outcome.ts",
    "src/act/kube_client.ts",
    "src/config.ts",
    "src/agent.ts",
    "src/observe/log.ts",
    "src/act/kube_client.ts",
    "src/replay/trace.ts",
    "src/sense/pressure.ts",
  ]);
});

Deno.test("the dependency guard passes decide/ imports and sense/ record types", () => {
  const source = [
    'import { type Candidate, candidateName } from "./select.ts";',
    'import type { DecideSettings } from "./settings.ts";',
    'import type { PodStats } from "../sense/pod_stats.ts";',
    'import { type Meminfo } from "../sense/meminfo.ts";',
    'export type { Outcome } from "./outcome.ts";',
    'import { x } from "./nested/../select.ts";',
  ].join("\n");
  assert.deepEqual(lint(`${DECIDE_DIR}policy.ts`, source), []);
  // Outside decide/ the rule does not apply.
  const outside = 'import { Agent } from "./agent.ts";\n';
  assert.deepEqual(lint(DECIDE_DIR.replace(/decide\/$/, "main.ts"), outside), []);
});

Deno.test("every file of src/decide/ passes the dependency guard", async () => {
  for await (const entry of Deno.readDir(DECIDE_DIR)) {
    if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
    const path = `${DECIDE_DIR}${entry.name}`;
    assert.deepEqual(lint(path, await Deno.readTextFile(path)), [], entry.name);
  }
});
