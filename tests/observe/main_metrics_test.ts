/**
 * End to end, as operators see it: `src/main.ts` as a subprocess with `--metrics-addr`,
 * scraped over HTTP while it runs in dry-run against a temp host tree and the API stand-in.
 */
import assert from "node:assert/strict";
import type { EventV1Body } from "../../src/act/events.ts";
import {
  fakeNode,
  freePort,
  scriptSwapIo,
  startAgent,
  VICTIM_UID,
  waitFor,
} from "../fakes/agent_process.ts";
import { promtoolStep } from "./promtool.ts";
import { PROMTOOL, tool } from "../tools.ts";

const promtool = tool(PROMTOOL);

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;

async function get(url: string): Promise<{ status: number; text: string }> {
  try {
    const response = await fetch(url);
    return { status: response.status, text: await response.text() };
  } catch {
    return { status: 0, text: "" };
  }
}

function metricValue(scrape: string, series: string): number | undefined {
  const line = scrape.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

Deno.test({
  name:
    "main.ts serves /metrics, /healthz and /readyz, and a dry-run decision leaves a SoftOOMKillDryRun Event",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const node = await fakeNode();
    const port = freePort();
    const base = `http://127.0.0.1:${port}`;
    const child = startAgent(node, [
      "--poll-interval=500ms",
      "--sustained-duration=2s",
      "--cooldown-period=60s",
      "--report-interval=2s",
      `--metrics-addr=127.0.0.1:${port}`,
    ]);
    let stopSwapIo = () => {};
    let stopMs = Infinity;
    let failure: unknown = null;
    try {
      // Up and live at once; ready after the first sample and the startup API check.
      assert.ok(
        await waitFor(async () => (await get(`${base}/healthz`)).status === 200, 15_000),
        "healthz 200",
      );
      assert.ok(
        await waitFor(async () => (await get(`${base}/readyz`)).status === 200, 5_000),
        "readyz 200",
      );
      const startup = node.api.requests.filter((r) => r.method === "GET");
      assert.equal(startup.length, 1, "one startup connectivity check, nothing else while calm");
      assert.equal(startup[0]!.path, "/api/v1/namespaces/default/pods");
      assert.equal(startup[0]!.search, "?limit=1");

      // The rate needs two samples: wait for it.
      let calm = { status: 0, text: "" };
      await waitFor(async () => {
        calm = await get(`${base}/metrics`);
        return calm.text.includes("\nsoomkiller_node_swap_io_pages_per_second ");
      }, 5_000);
      assert.equal(calm.status, 200);
      assert.equal(metricValue(calm.text, 'soomkiller_build_info{version="0.1.0"}'), 1);
      assert.equal(metricValue(calm.text, "soomkiller_swap_io_threshold_pages_per_second"), 1000);
      assert.equal(metricValue(calm.text, "soomkiller_node_swap_io_pages_per_second"), 0);
      assert.equal(
        metricValue(calm.text, 'soomkiller_api_requests_total{verb="GET",code="200"}'),
        1,
      );

      // Thrashing: 2 × 1,500 = 3,000 pages/s until the dry-run decision.
      stopSwapIo = scriptSwapIo(node.procRoot, 1_500);
      assert.ok(await waitFor(() => node.api.events.length > 0, 15_000), "an Event arrived");
      const event = node.api.events[0]! as unknown as EventV1Body;
      assert.equal(event.reason, "SoftOOMKillDryRun");
      assert.equal(event.type, "Normal");
      assert.equal(event.regarding.uid, VICTIM_UID);
      assert.equal(event.regarding.name, "db-0");
      assert.equal(event.reportingInstance, "node-a");
      assert.match(event.eventTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      assert.match(event.note, /runner-up: shop\/web-1/);
      assert.ok(node.api.requests.every((r) => r.method !== "DELETE"), "dry-run deletes nothing");

      let scrape = "";
      assert.ok(
        await waitFor(async () => {
          scrape = (await get(`${base}/metrics`)).text;
          return metricValue(scrape, 'soomkiller_events_total{result="success"}') === 1;
        }, 5_000),
        "the Event is counted",
      );
      assert.equal(
        metricValue(scrape, 'soomkiller_terminations_total{mode="dry_run",result="success"}'),
        1,
      );
      assert.equal(
        metricValue(scrape, 'soomkiller_pod_swap_bytes{namespace="shop",pod="db-0"}'),
        180 << 20,
      );
      assert.equal(
        metricValue(
          scrape,
          'soomkiller_pod_memory_pressure_full_avg10_ratio{namespace="shop",pod="web-1"}',
        ),
        0.51,
      );
      assert.equal(metricValue(scrape, "soomkiller_candidates"), 2);
      assert.equal(metricValue(scrape, 'soomkiller_api_requests_total{verb="POST",code="201"}'), 1);
      assert.ok(metricValue(scrape, "soomkiller_node_swap_io_pages_per_second")! > 1000);
      assert.ok(metricValue(scrape, "soomkiller_cooldown_remaining_seconds")! > 50);
      assert.ok(metricValue(scrape, "soomkiller_tick_duration_seconds_count")! >= 5);
      await promtoolStep(t, promtool, scrape);
    } catch (error) {
      failure = error;
    } finally {
      stopSwapIo();
      const sentMs = performance.now();
      try {
        child.kill("SIGTERM");
      } catch {
        // Already exited: the exit code below says why.
      }
      const output = await child.output();
      stopMs = performance.now() - sentMs;
      await node.dispose();
      const stdout = new TextDecoder().decode(output.stdout);
      if (failure !== null) {
        console.log(stdout, new TextDecoder().decode(output.stderr));
        // deno-lint-ignore no-unsafe-finally -- the first failure is the one worth seeing.
        throw failure;
      }
      assert.equal(
        output.code,
        0,
        `exit 0 on SIGTERM: ${stdout}${new TextDecoder().decode(output.stderr)}`,
      );
      assert.ok(stopMs < 2_000, `stopped within 2 s (took ${stopMs.toFixed(0)} ms)`);
      const lines = stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
      assert.ok(
        lines.some((l) =>
          String(l.message).startsWith(
            `Serving /metrics, /healthz and /readyz on http://127.0.0.1:${port}`,
          )
        ),
        "the listen address is logged",
      );
      const summary = lines.find((l) => String(l.message).startsWith("Last "));
      assert.ok(summary, "a summary line every --report-interval");
      assert.equal(typeof summary.properties.ticks, "number");
    }
    // The port is free again after the stop.
    const again = Deno.listen({ hostname: "127.0.0.1", port });
    again.close();
  },
});

Deno.test("main.ts exits 2 naming --metrics-addr and the value for a bad address", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-env", MAIN, "--node-name=n", "--metrics-addr=nowhere"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr).trim();
  assert.equal(output.code, 2);
  assert.equal(stderr.split("\n").length, 1, stderr);
  assert.match(stderr, /Invalid value "nowhere" for flag --metrics-addr: expected host:port/);
});
