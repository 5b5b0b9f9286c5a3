/**
 * Signals that must do nothing dangerous (issue 12, item 2). Deno ≥ 2.9.2 starts the V8
 * inspector on 127.0.0.1:9229 when a process receives SIGUSR1 (denoland/deno#35738: the
 * handler is installed 500 ms after start; JS listeners do not stop it; there is no flag to
 * turn it off; it is a no-op only when an inspector already runs or the port cannot be
 * bound). An inspector there runs any code a local client sends, with the agent's token.
 * SIGHUP's default action ends the process without a word.
 */
import assert from "node:assert/strict";
import { fakeNode, jsonLines, startAgent, stopAgent, waitFor } from "./fakes/agent_process.ts";

/** What answers on 127.0.0.1:9229 for `/json/list`, or null when nothing does. */
async function inspectorTargets(): Promise<string | null> {
  try {
    const response = await fetch("http://127.0.0.1:9229/json/list", {
      signal: AbortSignal.timeout(1_000),
    });
    return await response.text();
  } catch {
    return null;
  }
}

Deno.test({
  name: "SIGUSR1 opens no inspector on 127.0.0.1:9229 and SIGHUP does not end the agent silently",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const node = await fakeNode();
    const child = startAgent(node, ["--poll-interval=1s", "--metrics-addr=127.0.0.1:0"]);
    try {
      // Running: the startup check reached the API; then past Deno's 500 ms grace period.
      assert.ok(
        await waitFor(() => node.api.requests.some((r) => r.search === "?limit=1"), 20_000),
        "the agent started",
      );
      await new Promise((resolve) => setTimeout(resolve, 1_000));

      Deno.kill(child.pid, "SIGUSR1");
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const targets = await inspectorTargets();
      assert.ok(
        targets === null || !targets.includes(`[pid: ${child.pid}]`),
        `an inspector of the agent answers on 127.0.0.1:9229: ${targets}`,
      );

      Deno.kill(child.pid, "SIGHUP");
      await new Promise((resolve) => setTimeout(resolve, 500));
      // Still running: a tick later the process answers signals and the loop goes on.
      const status = await Promise.race([
        child.status.then(() => "exited"),
        new Promise((resolve) => setTimeout(() => resolve("running"), 1_500)),
      ]);
      assert.equal(status, "running", "SIGHUP ended the agent");
    } finally {
      const { output } = await stopAgent(child);
      const stderr = new TextDecoder().decode(output.stderr);
      await node.dispose();
      assert.ok(!stderr.includes("Debugger listening"), stderr);
      assert.equal(output.code, 0, stderr);
      const lines = jsonLines(output.stdout);
      const said = (pattern: RegExp) =>
        lines.filter((l) => /^warn/i.test(String(l.level)) && pattern.test(String(l.message)));
      assert.equal(said(/SIGUSR1 received: ignored/).length, 1, JSON.stringify(lines));
      assert.equal(said(/SIGHUP received: ignored/).length, 1, JSON.stringify(lines));
    }
  },
});
