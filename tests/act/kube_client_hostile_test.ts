/**
 * The client against a hostile or broken API server (issue 12, items 4, 5, 7 and 8):
 * clear-text servers and credentials in the URL, oversized bodies, malformed PodList items,
 * names that are not names, pods of other nodes and redirects.
 */
import assert from "node:assert/strict";
import {
  createKubeClient,
  type KubeClient,
  type KubeClientOptions,
  type KubeConnection,
} from "../../src/act/kube_client.ts";
import { API_TIMEOUT_MS } from "../../src/config.ts";
import { type ApiStandin, makePod, startApiStandin } from "../fakes/api_standin.ts";

const NODE = "node-1";

const BASE: KubeConnection = {
  server: "https://127.0.0.1:6443",
  caPem: null,
  insecureSkipTlsVerify: false,
  clientCertPem: null,
  clientKeyPem: null,
  token: { get: () => Promise.resolve("t0k3n"), invalidate() {} },
};

async function withStandin(
  fn: (api: ApiStandin, client: KubeClient, skipped: string[][]) => Promise<void>,
  options: Partial<KubeClientOptions> = {},
): Promise<void> {
  const api = await startApiStandin({
    tls: false,
    pods: [makePod({ name: "web-0", uid: "uid-web-0", nodeName: NODE })],
  });
  const skipped: string[][] = [];
  const client = createKubeClient({ ...BASE, server: api.url }, {
    timeoutMs: API_TIMEOUT_MS,
    allowInsecureHttp: true,
    onSkippedItems: (reasons) => skipped.push([...reasons]),
    ...options,
  });
  try {
    await fn(api, client, skipped);
  } finally {
    client.close();
    await api.close();
  }
}

// ---- item 4: the token never crosses the network in clear text; no credentials in URLs ----

Deno.test("an http:// server is refused unless allowInsecureHttp, and nothing is sent", async () => {
  const api = await startApiStandin({ tls: false });
  try {
    assert.throws(
      () => createKubeClient({ ...BASE, server: api.url }, { timeoutMs: API_TIMEOUT_MS }),
      /plain http:\/\/ would send the bearer token in clear text; use https:\/\/, or pass --allow-insecure-http/,
    );
    assert.equal(api.requests.length, 0);
    const client = createKubeClient({ ...BASE, server: api.url }, {
      timeoutMs: API_TIMEOUT_MS,
      allowInsecureHttp: true,
    });
    await client.listNodePods(NODE);
    client.close();
    assert.equal(api.requests.length, 1);
  } finally {
    await api.close();
  }
});

Deno.test("a server URL with user:pass@ is refused and the password is never repeated", () => {
  for (const server of ["https://admin:s3cret@10.0.0.1:6443", "https://s3cret@10.0.0.1:6443"]) {
    assert.throws(
      () => createKubeClient({ ...BASE, server }, { timeoutMs: API_TIMEOUT_MS }),
      (error: Error) => {
        assert.match(error.message, /credentials in the URL are not supported/);
        assert.ok(!error.message.includes("s3cret"), error.message);
        assert.ok(error.message.includes("https://***@10.0.0.1:6443"), error.message);
        return true;
      },
    );
  }
});

// ---- item 5: a response size cap ----

Deno.test("a LIST body over 16 MiB fails clearly instead of filling the memory", async () => {
  await withStandin(async (api, client) => {
    const huge = `{"kind":"PodList","items":[],"padding":"${"x".repeat(17 * 1024 * 1024)}"}`;
    api.inject({ method: "GET" }, { status: 200, body: huge });
    await assert.rejects(client.listNodePods(NODE), /over the 16777216-byte limit/);
    // A normal list still works afterwards.
    assert.equal((await client.listNodePods(NODE)).length, 1);
  });
});

// ---- item 7: one malformed item costs one pod ----

Deno.test("a null item, a non-string annotation and garbage fields cost one pod, never the list", async () => {
  await withStandin(async (api, client, skipped) => {
    const good = makePod({ name: "db-0", uid: "uid-db-0", nodeName: NODE });
    const oddAnnotations = makePod({ name: "api-0", uid: "uid-api-0", nodeName: NODE });
    oddAnnotations.metadata!.annotations = {
      "kube-soomkiller.io/exclude": 7,
      "example.com/ok": "yes",
    } as unknown as Record<string, string>;
    (oddAnnotations.spec as unknown as Record<string, unknown>).priority = "high";
    api.inject({ method: "GET" }, {
      status: 200,
      body: {
        kind: "PodList",
        apiVersion: "v1",
        items: [null, 42, { metadata: null }, { metadata: { name: "x" } }, good, oddAnnotations],
      },
    });
    const pods = await client.listNodePods(NODE);
    assert.deepEqual(pods.map((p) => p.name), ["db-0", "api-0"]);
    const api0 = pods[1]!;
    assert.deepEqual(api0.annotations, { "example.com/ok": "yes" });
    assert.equal(api0.priority, null);
    assert.deepEqual(skipped, [[
      "not an object",
      "not an object",
      "no metadata",
      "no metadata.uid",
    ]]);
  });
});

// ---- item 8: names are validated before they become paths; nodeName; redirects ----

Deno.test("a pod named '..' or a namespace '..' never becomes a path: nothing is sent", async () => {
  await withStandin(async (api, client) => {
    const bad = [
      { namespace: "prod", name: "..", uid: "u" },
      { namespace: "..", name: "coredns", uid: "u" },
      { namespace: "prod", name: "a/b", uid: "u" },
      { namespace: "prod", name: "Web-0", uid: "u" },
      { namespace: "prod", name: "web-0?dryRun=All", uid: "u" },
    ];
    for (const ref of bad) {
      const deleted = await client.deletePod(ref);
      assert.equal(deleted.kind, "failed", JSON.stringify(ref));
      assert.match((deleted as { message: string }).message, /Refusing to build a path/);
      assert.equal((await client.evictPod(ref)).kind, "failed");
    }
    assert.deepEqual(api.requests, []);
  });
});

Deno.test("listed pods with invalid names or another spec.nodeName are left out", async () => {
  await withStandin(async (api, client, skipped) => {
    const dotdot = makePod({ name: "x", uid: "uid-dotdot", nodeName: NODE });
    dotdot.metadata!.name = "..";
    const slashNs = makePod({ name: "y", uid: "uid-ns", nodeName: NODE });
    slashNs.metadata!.namespace = "../kube-system";
    const elsewhere = makePod({ name: "z", uid: "uid-else", nodeName: "node-2" });
    api.inject({ method: "GET" }, {
      status: 200,
      body: {
        kind: "PodList",
        items: [dotdot, slashNs, elsewhere, makePod({ name: "ok", uid: "u1", nodeName: NODE })],
      },
    });
    assert.deepEqual((await client.listNodePods(NODE)).map((p) => p.name), ["ok"]);
    assert.equal(skipped[0]!.length, 3);
    assert.match(skipped[0]![2]!, /default\/z is on node "node-2", not "node-1"/);
  });
});

Deno.test("a redirect is an error: a same-origin 307 never turns a DELETE into another DELETE", async () => {
  await withStandin(async (api, client) => {
    api.inject({ method: "DELETE" }, {
      status: 307,
      body: "",
      headers: { location: "/api/v1/namespaces/kube-system/pods/coredns" },
    });
    const result = await client.deletePod({
      namespace: "default",
      name: "web-0",
      uid: "uid-web-0",
    });
    assert.equal(result.kind, "failed");
    assert.match((result as { message: string }).message, /redirect, which is never followed/);
    assert.deepEqual(api.requests.map((r) => `${r.method} ${r.path}`), [
      "DELETE /api/v1/namespaces/default/pods/web-0",
    ]);
    api.inject({ method: "GET" }, { status: 301, body: "", headers: { location: "http://evil/" } });
    await assert.rejects(client.listNodePods(NODE), /HTTP 301/);
    assert.equal(api.requests.length, 2);
  });
});

Deno.test("a kubeconfig server with user:pass@ and a bad scheme is named without the password", async () => {
  const { selectFromKubeconfig } = await import("../../src/act/kubeconfig.ts");
  assert.throws(
    () =>
      selectFromKubeconfig(
        {
          "current-context": "x",
          contexts: [{ name: "x", context: { cluster: "c" } }],
          clusters: [{ name: "c", cluster: { server: "ftp://admin:s3cret@10.0.0.1:6443" } }],
        },
        "/k",
        "/",
      ),
    (error: Error) => !error.message.includes("s3cret") && /\*\*\*@10\.0\.0\.1/.test(error.message),
  );
});

Deno.test("a refused connection is a failed write (nothing sent), a reset after sending is unknown", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const refused = createKubeClient({ ...BASE, server: `http://127.0.0.1:${port}` }, {
    timeoutMs: API_TIMEOUT_MS,
    allowInsecureHttp: true,
  });
  const ref = { namespace: "default", name: "web-0", uid: "uid-web-0" };
  assert.equal((await refused.deletePod(ref)).kind, "failed");
  refused.close();
  await withStandin(async (api, client) => {
    api.inject({ method: "DELETE" }, { status: 200, brokenBody: true, commit: true });
    const result = await client.deletePod(ref);
    assert.equal(result.kind, "unknown");
    assert.match((result as { message: string }).message, /it may have happened/);
  });
});
