import assert from "node:assert/strict";
import { DEFAULTS } from "../../src/config.ts";
import { endpointHandler, serveEndpoint } from "../../src/observe/http.ts";
import type { ListenAddress } from "../../src/observe/listen_address.ts";
import { agentLogger } from "../../src/observe/log.ts";
import { Observability } from "../../src/observe/observability.ts";
import { FakeClock } from "../fakes/fake_clock.ts";
import { actedTick, candidate, observation, podMeta, podStats } from "./helpers.ts";
import { promtoolStep } from "./promtool.ts";
import { PROMTOOL, tool } from "../tools.ts";

const promtool = tool(PROMTOOL);

const MiB = 1 << 20;

/** An Observability on a fake clock, served on a free port of 127.0.0.1. */
function serve() {
  const clock = new FakeClock();
  const config = {
    ...DEFAULTS,
    nodeName: "node-a",
    metricsAddr: "127.0.0.1:0",
    reportIntervalMs: 0,
  };
  const observability = new Observability(config, {
    clock,
    log: agentLogger("test"),
    version: "0.1.0",
  });
  const stop = new AbortController();
  let bound: ListenAddress | null = null;
  const server = serveEndpoint({
    metrics: () => observability.metrics.registry.render(),
    liveness: () => observability.health.liveness(),
    readiness: () => observability.health.readiness(),
  }, {
    address: { hostname: "127.0.0.1", port: 0 },
    signal: stop.signal,
    onListen: (a) => (bound = a),
  });
  assert.ok(bound, "onListen reported the bound address");
  const base = `http://127.0.0.1:${server.addr.port}`;
  const get = async (path: string, init?: RequestInit) => {
    const response = await fetch(`${base}${path}`, init);
    return {
      status: response.status,
      type: response.headers.get("content-type"),
      text: await response.text(),
    };
  };
  return {
    clock,
    observability,
    get,
    async close() {
      stop.abort();
      await server.finished;
    },
  };
}

Deno.test("GET /metrics on a live server passes promtool check metrics, with every metric the issue names", async (t) => {
  const s = serve();
  try {
    const db = candidate(podStats("u1", 180 * MiB, 62), podMeta("u1", "shop", "db-0"));
    const odd = candidate(podStats("u2", 20 * MiB, 51), podMeta("u2", 'we"ird', "web\\1"));
    s.observability.onApiRequest("GET", 200);
    s.observability.onApiRequest("POST", null);
    s.observability.onTick({ observation: observation(null) }, 0.4);
    s.observability.onTick(
      actedTick(observation(3000, 10_000, 0, "sustained"), [db, odd], { kind: "dry-run" }, {
        event: "sent",
      }),
      35,
    );
    const scrape = await s.get("/metrics");
    assert.equal(scrape.status, 200);
    assert.equal(scrape.type, "text/plain; version=0.0.4; charset=utf-8");
    for (
      const name of [
        "soomkiller_node_swap_io_pages_per_second",
        "soomkiller_swap_io_threshold_pages_per_second",
        "soomkiller_trigger_window_seconds",
        "soomkiller_cooldown_remaining_seconds",
        "soomkiller_candidates",
        "soomkiller_terminations_total",
        "soomkiller_api_requests_total",
        "soomkiller_tick_duration_seconds",
        "soomkiller_pod_swap_bytes",
        "soomkiller_pod_memory_pressure_full_avg10_ratio",
        "soomkiller_build_info",
        "soomkiller_kernel_oom_kills_total",
        "soomkiller_events_total",
      ]
    ) {
      assert.match(scrape.text, new RegExp(`^# TYPE ${name} `, "m"), name);
    }
    assert.match(
      scrape.text,
      /^soomkiller_terminations_total\{mode="dry_run",result="success"\} 1$/m,
    );
    assert.match(
      scrape.text,
      /^soomkiller_pod_swap_bytes\{namespace="we\\"ird",pod="web\\\\1"\} 20971520$/m,
    );
    assert.match(scrape.text, /^soomkiller_tick_duration_seconds_count 2$/m);
    await promtoolStep(t, promtool, scrape.text);
  } finally {
    await s.close();
  }
});

Deno.test("GET /healthz and /readyz follow the loop on the fake clock", async () => {
  const s = serve();
  try {
    assert.deepEqual(await s.get("/healthz"), {
      status: 200,
      type: "text/plain; charset=utf-8",
      text: "ok\n",
    });
    const notReady = await s.get("/readyz");
    assert.equal(notReady.status, 503);
    assert.match(notReady.text, /no swap sample read yet/);

    s.observability.onTick({ observation: observation(null) }, 1);
    assert.match(
      (await s.get("/readyz")).text,
      /^not ready: the API server has not answered yet\n$/,
    );
    s.observability.health.apiReachable();
    assert.equal((await s.get("/readyz")).status, 200);

    // The loop stalls: more than 3 poll intervals (3 s) without a tick.
    s.clock.advance(3_001);
    const stalled = await s.get("/healthz");
    assert.equal(stalled.status, 503);
    assert.match(stalled.text, /^stalled: no tick for 3 s/);
    s.observability.onTick({ observation: observation(10) }, 1);
    assert.equal((await s.get("/healthz")).status, 200);
  } finally {
    await s.close();
  }
});

Deno.test("The endpoint answers 404 elsewhere and 405 to anything but GET/HEAD", async () => {
  const s = serve();
  try {
    const missing = await s.get("/");
    assert.equal(missing.status, 404);
    assert.match(missing.text, /try \/metrics, \/healthz or \/readyz/);
    assert.equal((await s.get("/metrics", { method: "POST", body: "x" })).status, 405);
    assert.equal((await s.get("/healthz", { method: "HEAD" })).status, 200);
  } finally {
    await s.close();
  }
});

Deno.test("serveEndpoint() throws at once when the port is taken", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const handlers = {
      metrics: () => "",
      liveness: () => ({ ok: true, detail: "ok" }),
      readiness: () => ({ ok: true, detail: "ok" }),
    };
    assert.throws(
      () =>
        serveEndpoint(handlers, {
          address: { hostname: "127.0.0.1", port: (taken.addr as Deno.NetAddr).port },
          signal: new AbortController().signal,
        }),
      Deno.errors.AddrInUse,
    );
  } finally {
    taken.close();
  }
  // The handler alone needs no socket.
  const handler = endpointHandler({
    metrics: () => "m 1\n",
    liveness: () => ({ ok: false, detail: "stalled" }),
    readiness: () => ({ ok: true, detail: "ok" }),
  });
  assert.equal(handler(new Request("http://x/healthz")).status, 503);
  assert.equal(await handler(new Request("http://x/metrics")).text(), "m 1\n");
});

Deno.test("Observability.serve() is off with --metrics-addr empty", () => {
  const observability = new Observability({ ...DEFAULTS, nodeName: "n", metricsAddr: null }, {
    clock: new FakeClock(),
    log: agentLogger("test"),
    version: "0.1.0",
  });
  assert.equal(observability.serve(new AbortController().signal), null);
});
