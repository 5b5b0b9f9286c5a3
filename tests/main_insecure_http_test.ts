/**
 * `--allow-insecure-http` (issue 12, item 4): main.ts refuses a kubeconfig whose server is
 * http:// (the bearer token would cross the network in clear text) and sends it nothing;
 * with the flag it runs and says what it accepted.
 */
import assert from "node:assert/strict";
import { startApiStandin, writeKubeconfig } from "./fakes/api_standin.ts";
import { fakeNode, jsonLines, startAgent, stopAgent, waitFor } from "./fakes/agent_process.ts";

Deno.test({
  name: "main.ts refuses an http:// API server unless --allow-insecure-http, and sends it no token",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const node = await fakeNode();
    const plain = await startApiStandin({ tls: false, token: "clear-text-token" });
    try {
      // Point the node's kubeconfig at the plain-HTTP stand-in.
      await writeKubeconfig(node.hostDir, { server: plain.url, token: "clear-text-token" });
      const child = startAgent(node, ["--metrics-addr="]);
      const exited = await Promise.race([
        child.status.then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), 20_000)),
      ]);
      const refused = exited ? await child.output() : (await stopAgent(child)).output;
      assert.ok(exited, "the agent ran against the http:// server");
      assert.equal(refused.code, 1);
      const said = jsonLines(refused.stdout).map((l) => String(l.message)).join("\n");
      assert.match(said, /plain http:\/\/ would send the bearer token in clear text/);
      assert.equal(plain.requests.length, 0, "nothing was sent");

      const accepted = startAgent(node, ["--metrics-addr=", "--allow-insecure-http"]);
      const reached = await waitFor(() => plain.requests.length > 0, 20_000);
      const { output } = await stopAgent(accepted);
      assert.ok(reached, new TextDecoder().decode(output.stderr));
      const warned = jsonLines(output.stdout).filter((l) =>
        /is plain http:\/\/ \(--allow-insecure-http\)/.test(String(l.message))
      );
      assert.equal(warned.length, 1);
    } finally {
      await plain.close();
      await node.dispose();
    }
  },
});
