/**
 * The endpoint against hostile clients (issue 12, item 3): idle and half-sent connections
 * are closed after the header timeout, connections are capped, and the agent survives far
 * more connections than it has descriptors.
 */
import assert from "node:assert/strict";
import { type EndpointLimits, serveEndpoint } from "../../src/observe/http.ts";
import { fakeNode, freePort, stopAgent, waitFor } from "../fakes/agent_process.ts";

const HANDLERS = {
  metrics: () => "m 1\n",
  liveness: () => ({ ok: true, detail: "ok" }),
  readiness: () => ({ ok: true, detail: "ok" }),
};

function serve(limits: Partial<EndpointLimits>) {
  const stop = new AbortController();
  const server = serveEndpoint(HANDLERS, {
    address: { hostname: "127.0.0.1", port: 0 },
    signal: stop.signal,
    limits,
  });
  return {
    server,
    port: server.addr.port,
    async close() {
      stop.abort();
      await server.finished;
    },
  };
}

/** Resolves "closed" when the server closes `conn`, "open" if it is still open at `ms`. */
async function closedWithin(conn: Deno.Conn, ms: number): Promise<"closed" | "open"> {
  const timer = new Promise<"open">((resolve) => setTimeout(() => resolve("open"), ms));
  const closed = conn.read(new Uint8Array(4096)).then(
    () => "closed" as const,
    () => "closed" as const,
  );
  const result = await Promise.race([closed, timer]);
  return result;
}

Deno.test("idle and half-sent connections are closed after the header timeout", async () => {
  const s = serve({ headerTimeoutMs: 300, maxConnections: 200 });
  const conns: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 50; i++) conns.push(await Deno.connect({ port: s.port }));
    for (let i = 0; i < 50; i++) {
      const conn = await Deno.connect({ port: s.port });
      await conn.write(new TextEncoder().encode("GET /metrics HTTP/1.1\r\nHost: x\r\n"));
      conns.push(conn);
    }
    const results = await Promise.all(conns.map((c) => closedWithin(c, 3_000)));
    assert.equal(results.filter((r) => r === "closed").length, 100, JSON.stringify(results));
    // A whole request is still answered.
    const response = await fetch(`http://127.0.0.1:${s.port}/healthz`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "ok\n");
  } finally {
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* closed */ }
    }
    await s.close();
  }
});

Deno.test("connections are capped: a flood of idle ones never holds more than the cap, and a scrape still gets through", async () => {
  const s = serve({ maxConnections: 16, headerTimeoutMs: 60_000 });
  const conns: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 200; i++) conns.push(await Deno.connect({ port: s.port }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok(s.server.connections() <= 16, `${s.server.connections()} open`);
    const response = await fetch(`http://127.0.0.1:${s.port}/metrics`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "m 1\n");
  } finally {
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* closed */ }
    }
    await s.close();
  }
});

Deno.test({
  name: "the agent survives 1,000 connections to its metrics port at a 256-descriptor limit",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const node = await fakeNode();
    const port = freePort();
    const main = new URL("../../src/main.ts", import.meta.url).pathname;
    const child = new Deno.Command("bash", {
      args: [
        "-c",
        'ulimit -n 256 && exec "$0" "$@"',
        Deno.execPath(),
        "run",
        "-A",
        main,
        "--node-name=node-a",
        `--kubeconfig=${node.kubeconfig}`,
        `--proc-root=${node.procRoot}`,
        `--cgroup-root=${node.tree.root}`,
        `--metrics-addr=127.0.0.1:${port}`,
      ],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const conns: Deno.Conn[] = [];
    try {
      assert.ok(
        await waitFor(async () => {
          try {
            return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
          } catch {
            return false;
          }
        }, 20_000),
        "the agent serves /healthz",
      );
      for (let i = 0; i < 1_000; i++) {
        try {
          conns.push(await Deno.connect({ port }));
        } catch {
          // Refused or reset: the agent closed it, which is fine.
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      const status = await Promise.race([
        child.status.then((s) => `exited ${s.code}`),
        new Promise((resolve) => setTimeout(() => resolve("running"), 500)),
      ]);
      assert.equal(status, "running");
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      assert.equal(response.status, 200);
      await response.body?.cancel();
    } finally {
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed */ }
      }
      const { output } = await stopAgent(child);
      await node.dispose();
      const stderr = new TextDecoder().decode(output.stderr);
      assert.ok(!/Too many open files/.test(stderr), stderr.slice(-2000));
    }
  },
});
