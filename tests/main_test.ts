/**
 * End to end: `src/main.ts` as a subprocess, under a permission set scoped like the
 * production one, against a temp host tree and the HTTPS API stand-in.
 */
import assert from "node:assert/strict";
import {
  type FakeNode,
  fakeNode,
  jsonLines,
  NODE_TOKEN as TOKEN,
  scriptSwapIo,
  startAgent as startAgentOn,
  stopAgent,
  VICTIM_UID,
  waitFor,
} from "./fakes/agent_process.ts";
import { writeProc } from "./fakes/proc_tree.ts";

const MAIN = new URL("../src/main.ts", import.meta.url).pathname;
type Node = FakeNode;

/** The agent with this file's timing: 1 s poll, 3 s window, a free metrics port. */
function startAgent(node: Node, extraFlags: string[]) {
  return startAgentOn(node, [
    "--poll-interval=1s",
    "--sustained-duration=3s",
    "--psi-threshold=50",
    // A free port: the default :9402 may be taken on a test machine.
    "--metrics-addr=127.0.0.1:0",
    ...extraFlags,
  ]);
}

/** The startup connectivity check behind /readyz (`GET …/pods?limit=1`), once per start. */
function isStartupCheck(request: { method: string; search: string }): boolean {
  return request.method === "GET" && request.search === "?limit=1";
}

/** What the loop sent: every request but the startup check. */
function loopRequests(node: Node) {
  return node.api.requests.filter((request) => !isStartupCheck(request));
}

Deno.test({
  name: "main.ts deletes the worst pod with preconditions.uid, lists by node, stops on SIGTERM",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const node = await fakeNode();
    const child = startAgent(node, ["--dry-run=false", "--cooldown-period=60s"]);
    let stopSwapIo = () => {};
    try {
      // Calm first: the agent makes no API call while the node is calm.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      assert.equal(loopRequests(node).length, 0, "no API traffic while idle");
      assert.ok(node.api.requests.filter(isStartupCheck).length <= 1, "one startup check at most");

      const onsetMs = performance.now();
      // The rate is pswpin + pswpout: 2 × 1,500 = 3,000 pages/s, above 1,000.
      stopSwapIo = scriptSwapIo(node.procRoot, 1_500);
      const deleted = await waitFor(
        () => node.api.requests.some((r) => r.method === "DELETE"),
        15_000,
      );
      assert.ok(deleted, "a DELETE arrived");
      const deleteRequest = node.api.requests.find((r) => r.method === "DELETE")!;
      const latencySeconds = (deleteRequest.atMs - onsetMs) / 1000;
      console.log(
        `onset of sustained pressure → DELETE: ${latencySeconds.toFixed(2)} s ` +
          "(3 s window at 1 s poll)",
      );
      // The first sample above the threshold covers an interval that began before the onset,
      // so the window fills between (sustained − poll) and (sustained + poll) after it.
      assert.ok(latencySeconds >= 2, `no DELETE before the window filled (${latencySeconds} s)`);

      // One LIST, scoped to this node, then one DELETE of the worst pod with its uid.
      const list = loopRequests(node).filter((r) => r.method === "GET");
      assert.equal(list.length, 1);
      assert.equal(list[0]!.path, "/api/v1/pods");
      assert.match(list[0]!.search, /fieldSelector=spec\.nodeName%3Dnode-a/);
      assert.equal(list[0]!.headers["authorization"], `Bearer ${TOKEN}`);
      assert.equal(deleteRequest.path, "/api/v1/namespaces/shop/pods/db-0");
      assert.deepEqual(deleteRequest.body, {
        apiVersion: "v1",
        kind: "DeleteOptions",
        preconditions: { uid: VICTIM_UID },
      });

      // The cooldown holds: pressure goes on, no second DELETE.
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      assert.equal(node.api.requests.filter((r) => r.method === "DELETE").length, 1);
      assert.ok(node.api.requests.every((r) => !r.path.includes("/namespaces/other/")));
    } finally {
      stopSwapIo();
      const { output, stopMs } = await stopAgent(child);
      await node.dispose();
      const stderr = new TextDecoder().decode(output.stderr);
      const stdout = new TextDecoder().decode(output.stdout);
      assert.equal(output.code, 0, `exit code 0 on SIGTERM; output: ${stdout}${stderr}`);
      assert.ok(stopMs < 2_000, `stopped within 2 s (took ${stopMs.toFixed(0)} ms)`);
      const decision = jsonLines(output.stdout).find((l) =>
        String(l.message).startsWith("Sustained swap I/O")
      );
      assert.ok(decision, "one decision line");
      const properties = decision.properties as Record<string, unknown>;
      assert.equal(properties.victim, "shop/db-0");
      assert.equal(properties.action, "delete");
      assert.equal(properties.outcome, "deleted");
      assert.deepEqual(
        (properties.candidates as { pod: string }[]).map((row) => row.pod),
        ["shop/db-0", "shop/web-1"],
      );
    }
  },
});

Deno.test({
  name: "main.ts in dry-run logs 'would delete' and sends no DELETE",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const node = await fakeNode();
    const child = startAgent(node, []);
    const stopSwapIo = scriptSwapIo(node.procRoot, 1_500);
    try {
      const listed = await waitFor(() => loopRequests(node).length > 0, 15_000);
      assert.ok(listed, "the agent listed pods once the window filled");
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      // The LIST, then the dry-run Event on the pod; nothing destructive.
      assert.deepEqual(loopRequests(node).map((r) => r.method), ["GET", "POST"]);
      assert.equal(
        (node.api.events[0] as { reason?: string } | undefined)?.reason,
        "SoftOOMKillDryRun",
      );
    } finally {
      stopSwapIo();
      const { output } = await stopAgent(child);
      await node.dispose();
      assert.equal(output.code, 0);
      const decision = jsonLines(output.stdout).find((l) =>
        String(l.message).startsWith("Sustained swap I/O")
      );
      assert.ok(decision);
      // Values read as words of the sentence, never quoted (issue 13).
      assert.match(String(decision.message), /would delete shop\/db-0 → dry-run/);
      const start = jsonLines(output.stdout).find((l) =>
        String(l.message).includes("watching node")
      );
      assert.match(String(start?.message), /^kube-soomkiller \d+\.\d+\.\d+ watching node \S+: /);
      assert.doesNotMatch(String(start?.message), /"/);
      // Issue 21: every trigger that is on, not only swap I/O, and the early warning.
      assert.match(
        String(start?.message),
        /: headroom: .*; node swap free under 5%; swap I\/O above 1000 pages\/s for \d+ s .*; early warning 300 s ahead/,
      );
      const properties = decision.properties as Record<string, unknown>;
      assert.equal(properties.action, "would delete");
      assert.equal(properties.outcome, "dry-run");
    }
  },
});

Deno.test("main.ts exits 2 with one line naming the flag and value on a bad flag", async () => {
  const table: [string[], RegExp][] = [
    [["--swap-io-threshold=lots"], /Invalid value "lots" for flag --swap-io-threshold/],
    [["--frobnicate"], /Unknown flag "--frobnicate"/],
    [
      ["--pod-selector=app in (db"],
      /Invalid value "app in \(db" for flag --pod-selector: not a label selector: "app in \(db": expected/,
    ],
  ];
  for (const [args, pattern] of table) {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-env", MAIN, "--node-name=n", ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr).trim();
    assert.equal(output.code, 2);
    assert.equal(stderr.split("\n").length, 1, stderr);
    assert.match(stderr, pattern);
    assert.equal(output.stdout.length, 0, "nothing started");
  }
});

Deno.test("main.ts --help exits 0 and lists the flags", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", MAIN, "--help"],
    stdout: "piped",
  }).output();
  assert.equal(output.code, 0);
  assert.match(new TextDecoder().decode(output.stdout), /--swap-io-threshold/);
});

Deno.test("main.ts refuses to start without cgroup v2 and says what to mount", async () => {
  const empty = await Deno.makeTempDir();
  try {
    await writeProc(`${empty}/proc`, {});
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        `--allow-read=${empty}`,
        "--allow-env",
        MAIN,
        "--node-name=n",
        `--proc-root=${empty}/proc`,
        `--cgroup-root=${empty}/cgroup`,
        "--kubeconfig=/nonexistent",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(output.code, 1);
    const text = new TextDecoder().decode(output.stdout);
    assert.match(text, /cgroup\.controllers/);
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});
