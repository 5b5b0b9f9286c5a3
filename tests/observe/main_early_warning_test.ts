/**
 * Issue 21 end to end: `src/main.ts` as a subprocess in dry-run, a container of db-0
 * growing toward its swap limit (1 MiB/s, about 76 s left: inside the 5 minute look-ahead,
 * outside the headroom trigger's 40 s). The pod gets one SoftOOMKillLikely Warning Event
 * and nothing else is written; /metrics, as scraped, carries the per-container series and
 * passes `promtool check metrics`. SOOMKILLER_SHOW_METRICS=1 prints the scrape.
 */
import assert from "node:assert/strict";
import { fakeContainerId } from "../fakes/cgroup_tree.ts";
import { writeProc } from "../fakes/proc_tree.ts";
import {
  fakeNode,
  freePort,
  startAgent,
  stopAgent,
  VICTIM_UID,
  waitFor,
} from "../fakes/agent_process.ts";
import { promtoolStep } from "./promtool.ts";
import { PROMTOOL, tool } from "../tools.ts";

const promtool = tool(PROMTOOL);
const MiB = 1 << 20;
const GiB = 1 << 30;

Deno.test({
  name:
    "main.ts warns a pod heading for its swap limit with one SoftOOMKillLikely Event, and /metrics shows its container's projection",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const node = await fakeNode();
    const port = freePort();
    const child = startAgent(node, ["--poll-interval=500ms", `--metrics-addr=127.0.0.1:${port}`]);
    // db-0's container: 180 MiB of its 256 MiB swap limit, +0.5 MiB every 500 ms; the
    // node's SwapFree follows, so the agent walks the pods.
    let swapMiB = 180;
    let pages = 1_000;
    const timer = setInterval(() => {
      swapMiB += 0.5;
      pages += 100;
      Promise.all([
        node.tree.setContainer(VICTIM_UID, fakeContainerId(1), { swapCurrentBytes: swapMiB * MiB }),
        node.tree.setPodSwap(VICTIM_UID, swapMiB * MiB),
        writeProc(node.procRoot, {
          swapInPages: pages,
          swapOutPages: pages,
          swapTotalBytes: 2 * GiB,
          swapFreeBytes: 2 * GiB - (swapMiB + 20) * MiB,
        }),
      ]).catch(() => {});
    }, 500);
    let scrape = "";
    try {
      const warned = await waitFor(
        () => node.api.events.some((e) => e.reason === "SoftOOMKillLikely"),
        25_000,
      );
      assert.ok(warned, "the early warning came");
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      scrape = await response.text();
    } finally {
      clearInterval(timer);
      const { output } = await stopAgent(child);
      await node.dispose();
      assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    }
    const events = node.api.events;
    assert.deepEqual(events.map((e) => [e.reason, e.type, e.regarding?.name]), [
      ["SoftOOMKillLikely", "Warning", "db-0"],
    ]);
    assert.match(
      events[0]!.note!,
      /^Container mariadb is projected to reach its swap limit in \d+ s \(look-ahead 300 s\): swap [\d.]+ MiB of 256\.0 MiB/,
    );
    assert.match(events[0]!.note!, /runs in dry-run/);
    assert.deepEqual(
      node.api.requests.filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path}`),
      ["POST /apis/events.k8s.io/v1/namespaces/shop/events"],
      "a warning, nothing destructive",
    );
    const series = (name: string) =>
      scrape.split("\n").filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
    const db = 'namespace="shop",pod="db-0",container="mariadb"';
    assert.equal(
      series("soomkiller_container_swap_limit_bytes")[0],
      `soomkiller_container_swap_limit_bytes{${db}} ${256 * MiB}`,
    );
    assert.match(
      series("soomkiller_container_swap_time_to_limit_seconds")[0] ?? "",
      /^soomkiller_container_swap_time_to_limit_seconds\{namespace="shop",pod="db-0",container="mariadb"\} \d/,
    );
    assert.ok(
      series("soomkiller_container_swap_projection").includes(
        `soomkiller_container_swap_projection{${db},case="growing"} 1`,
      ),
    );
    assert.deepEqual(series("soomkiller_early_warnings_total"), [
      'soomkiller_early_warnings_total{result="success"} 1',
      'soomkiller_early_warnings_total{result="failed"} 0',
    ]);
    assert.equal(series("soomkiller_node_swap_io_pages_total").length, 2);
    if (Deno.env.get("SOOMKILLER_SHOW_METRICS") === "1") console.error(scrape);
    await promtoolStep(t, promtool, scrape);
  },
});
