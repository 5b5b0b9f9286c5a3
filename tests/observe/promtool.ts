/**
 * Runs `promtool check metrics` on exposition text. Tests get promtool through
 * `tool(PROMTOOL)` (tests/tools.ts): without it they skip with one line, and under
 * `SOOMKILLER_REQUIRE_TOOLS=1` they fail.
 */
import assert from "node:assert/strict";
import type { ToolCheck } from "../tools.ts";

/** Returns promtool's complaints; "" when the text passes. Throws without promtool. */
export async function promtoolCheckMetrics(text: string): Promise<string> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("promtool", {
      args: ["check", "metrics"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    throw new Error(
      `Cannot run "promtool" (Debian package "prometheus": apt-get install prometheus; ` +
        `.ci/run installs it): ${error}`,
    );
  }
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const output = await child.output();
  const decoded = new TextDecoder().decode(output.stdout) +
    new TextDecoder().decode(output.stderr);
  if (!output.success) return decoded.trim() || `promtool exited with ${output.code}`;
  return decoded.trim();
}

/**
 * A step "promtool check metrics accepts it" of test `t`, ignored (with the module's skip
 * line) when promtool is missing: the rest of the test still runs.
 */
export async function promtoolStep(
  t: Deno.TestContext,
  promtool: ToolCheck,
  text: string,
): Promise<void> {
  await t.step({
    name: "promtool check metrics accepts it",
    ignore: promtool.skip,
    fn: async () => {
      const problems = await promtoolCheckMetrics(text);
      assert.equal(problems, "", problems);
    },
  });
}
