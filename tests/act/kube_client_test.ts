import assert from "node:assert/strict";
import {
  createKubeClient,
  KubeApiError,
  type KubeClient,
  type KubeClientOptions,
  type KubeConnection,
} from "../../src/act/kube_client.ts";
import { API_TIMEOUT_MS } from "../../src/config.ts";
import {
  denoConnectionDeps,
  fileTokenSource,
  staticTokenSource,
} from "../../src/act/token_source.ts";
import {
  type ApiStandin,
  type ApiStandinOptions,
  makePod,
  makeUnrelatedCaPem,
  nodeOwner,
  startApiStandin,
  statusBody,
} from "../fakes/api_standin.ts";

const NODE = "node-1";

function pods() {
  return [
    makePod({ name: "web-0", uid: "uid-web-0", nodeName: NODE, priority: 100 }),
    makePod({
      name: "db-0",
      namespace: "data",
      uid: "uid-db-0",
      nodeName: NODE,
      terminationGracePeriodSeconds: 120,
      annotations: { "example.com/note": "x" },
    }),
    makePod({
      name: "etcd-node-1",
      namespace: "kube-system",
      uid: "uid-mirror",
      nodeName: NODE,
      annotations: { "kubernetes.io/config.mirror": "0123456789abcdef0123456789abcdef" },
      ownerReferences: [nodeOwner(NODE)],
    }),
    makePod({ name: "old", uid: "uid-old", nodeName: NODE, deletionTimestamp: new Date() }),
    makePod({ name: "elsewhere", uid: "uid-else", nodeName: "node-2" }),
  ];
}

/** Runs `fn` against a fresh stand-in and a client for it; closes both. */
async function withClient(
  standin: ApiStandinOptions,
  fn: (api: ApiStandin, client: KubeClient, calls: [string, number | null][]) => Promise<void>,
  connection: Partial<KubeConnection> | ((api: ApiStandin) => Partial<KubeConnection>) = {},
  options: Partial<KubeClientOptions> = {},
): Promise<void> {
  const api = await startApiStandin(standin);
  const calls: [string, number | null][] = [];
  let client: KubeClient | null = null;
  try {
    client = createKubeClient(
      {
        server: api.url,
        caPem: api.caPem,
        insecureSkipTlsVerify: false,
        clientCertPem: null,
        clientKeyPem: null,
        token: standin.token === undefined ? null : staticTokenSource(standin.token),
        ...(typeof connection === "function" ? connection(api) : connection),
      },
      {
        timeoutMs: API_TIMEOUT_MS,
        allowInsecureHttp: true,
        onRequest: (verb, code) => calls.push([verb, code]),
        ...options,
      },
    );
    await fn(api, client, calls);
  } finally {
    client?.close();
    await api.close();
  }
}

Deno.test("listNodePods() asks for the node's pods with the exact field selector", async () => {
  await withClient({ pods: pods(), token: "t0k" }, async (api, client, calls) => {
    const result = await client.listNodePods(NODE);
    assert.equal(api.requests.length, 1);
    const request = api.requests[0]!;
    assert.equal(request.method, "GET");
    assert.equal(request.path, "/api/v1/pods");
    assert.equal(
      request.search,
      "?fieldSelector=spec.nodeName%3Dnode-1&limit=500&resourceVersion=0",
    );
    assert.equal(request.headers["authorization"], "Bearer t0k");
    assert.equal(request.headers["accept"], "application/json");
    assert.deepEqual(calls, [["GET", 200]]);
    assert.deepEqual(result.map((p) => p.name), ["web-0", "db-0", "etcd-node-1", "old"]);
  });
});

Deno.test("listNodePods() maps V1Pod to PodMeta", async () => {
  await withClient({ pods: pods() }, async (_api, client) => {
    const byName = new Map((await client.listNodePods(NODE)).map((p) => [p.name, p]));
    assert.deepEqual(byName.get("web-0"), {
      uid: "uid-web-0",
      namespace: "default",
      name: "web-0",
      nodeName: NODE,
      terminating: false,
      mirrorOfUid: null,
      priority: 100,
      terminationGracePeriodSeconds: null,
      annotations: {},
    });
    assert.equal(byName.get("db-0")?.terminationGracePeriodSeconds, 120);
    assert.deepEqual(byName.get("db-0")?.annotations, { "example.com/note": "x" });
    assert.equal(byName.get("db-0")?.priority, null);
    assert.equal(byName.get("etcd-node-1")?.mirrorOfUid, "0123456789abcdef0123456789abcdef");
    assert.equal(byName.get("old")?.terminating, true);
  });
});

Deno.test("listNodePods() believes the mirror annotation only on a pod that looks like the kubelet's mirror pod", async () => {
  const mirror = { "kubernetes.io/config.mirror": "0123456789abcdef0123456789abcdef" };
  const forged = [
    // The annotation alone: any tenant can set it.
    makePod({ name: "decoy-node-1", uid: "u1", nodeName: NODE, annotations: mirror }),
    // Owned by another node.
    makePod({
      name: "decoy-node-1",
      namespace: "a",
      uid: "u2",
      nodeName: NODE,
      annotations: mirror,
      ownerReferences: [nodeOwner("node-2")],
    }),
    // Owned by this node, but not named as the kubelet names a static pod (`-<nodeName>`).
    makePod({
      name: "decoy",
      namespace: "b",
      uid: "u3",
      nodeName: NODE,
      annotations: mirror,
      ownerReferences: [nodeOwner(NODE)],
    }),
    // Owned by a Deployment's ReplicaSet, not the Node.
    makePod({
      name: "decoy-node-1",
      namespace: "c",
      uid: "u4",
      nodeName: NODE,
      annotations: mirror,
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "x", uid: "r" }],
    }),
  ];
  const real = makePod({
    name: "etcd-node-1",
    namespace: "kube-system",
    uid: "u5",
    nodeName: NODE,
    annotations: mirror,
    ownerReferences: [nodeOwner(NODE)],
  });
  await withClient({ pods: [...forged, real] }, async (_api, client) => {
    const listed = await client.listNodePods(NODE);
    assert.deepEqual(
      listed.map((p) => [p.uid, p.mirrorOfUid]),
      [["u1", null], ["u2", null], ["u3", null], ["u4", null], [
        "u5",
        "0123456789abcdef0123456789abcdef",
      ]],
    );
  });
});

Deno.test("listNodePods() percent-encodes an unusual node name", async () => {
  await withClient({ pods: pods() }, async (api, client) => {
    assert.deepEqual(await client.listNodePods("a b&c"), []);
    assert.equal(
      api.requests[0]!.search,
      "?fieldSelector=spec.nodeName%3Da%20b%26c&limit=500&resourceVersion=0",
    );
  });
});

Deno.test("listNodePods() throws a KubeApiError with the Status message on 500", async () => {
  await withClient({ pods: pods() }, async (api, client) => {
    api.inject({ method: "GET" }, {
      status: 500,
      body: statusBody(500, "InternalError", "etcdserver: request timed out"),
    });
    await assert.rejects(client.listNodePods(NODE), (error: unknown) => {
      assert.ok(error instanceof KubeApiError);
      assert.equal(error.code, 500);
      assert.equal(
        error.message,
        'Cannot list pods on node "node-1": HTTP 500 InternalError: etcdserver: request timed out',
      );
      return true;
    });
  });
});

Deno.test("listNodePods() names the missing RBAC verb on 403", async () => {
  await withClient({ pods: pods() }, async (api, client) => {
    const message = 'pods is forbidden: User "system:serviceaccount:kube-system:soomkiller" ' +
      'cannot list resource "pods" in API group "" at the cluster scope';
    api.inject({}, { status: 403, body: statusBody(403, "Forbidden", message) });
    await assert.rejects(client.listNodePods(NODE), (error: unknown) => {
      assert.ok(error instanceof KubeApiError);
      assert.equal(error.code, 403);
      assert.match(error.message, /^RBAC forbids list pods: grant verb "list" on "pods"/);
      assert.ok(error.message.includes(message));
      return true;
    });
  });
});

Deno.test("listNodePods() rejects a body that is not a PodList", async () => {
  await withClient({ pods: pods() }, async (api, client) => {
    api.inject({}, { status: 200, body: "<html>proxy</html>" });
    await assert.rejects(
      client.listNodePods(NODE),
      { message: 'Cannot list pods on node "node-1": the response is not a PodList' },
    );
  });
});

Deno.test("deletePod() sends preconditions.uid and no gracePeriodSeconds", async () => {
  await withClient({ pods: pods(), token: "t0k" }, async (api, client, calls) => {
    const result = await client.deletePod({ namespace: "data", name: "db-0", uid: "uid-db-0" });
    assert.deepEqual(result, { kind: "deleted", code: 200 });
    const request = api.requests[0]!;
    assert.equal(request.method, "DELETE");
    assert.equal(request.path, "/api/v1/namespaces/data/pods/db-0");
    assert.equal(request.search, "");
    assert.equal(request.headers["content-type"], "application/json");
    assert.deepEqual(request.body, {
      apiVersion: "v1",
      kind: "DeleteOptions",
      preconditions: { uid: "uid-db-0" },
    });
    assert.deepEqual(calls, [["DELETE", 200]]);
    // Like a real API server: the pod stays, terminating with its own grace period.
    const stored = api.pods.find((p) => p.metadata?.name === "db-0");
    assert.ok(stored?.metadata?.deletionTimestamp);
    assert.equal(stored?.metadata?.deletionGracePeriodSeconds, 120);
    assert.equal(
      (await client.listNodePods(NODE)).find((p) => p.name === "db-0")?.terminating,
      true,
    );
  });
});

Deno.test("deletePod() with dryRun sends ?dryRun=All and changes nothing", async () => {
  await withClient({ pods: pods() }, async (api, client) => {
    const result = await client.deletePod(
      { namespace: "default", name: "web-0", uid: "uid-web-0" },
      { dryRun: true },
    );
    assert.deepEqual(result, { kind: "deleted", code: 200 });
    assert.equal(api.requests[0]!.search, "?dryRun=All");
    assert.equal(
      api.pods.find((p) => p.metadata?.name === "web-0")?.metadata?.deletionTimestamp,
      undefined,
    );
  });
});

Deno.test("deletePod() reports a missing pod as gone", async () => {
  await withClient({ pods: pods() }, async (_api, client) => {
    assert.deepEqual(
      await client.deletePod({ namespace: "default", name: "nope", uid: "u" }),
      { kind: "gone", code: 404 },
    );
  });
});

Deno.test("deletePod() reports a re-created pod of the same name as a conflict", async () => {
  await withClient({ pods: pods() }, async (api, client) => {
    const result = await client.deletePod({
      namespace: "default",
      name: "web-0",
      uid: "uid-stale",
    });
    assert.equal(result.kind, "conflict");
    assert.equal(result.code, 409);
    assert.match(
      (result as { message: string }).message,
      /^HTTP 409 Conflict: .*Precondition failed: UID in precondition: uid-stale, UID in object meta: uid-web-0$/,
    );
    assert.equal(
      api.pods.find((p) => p.metadata?.name === "web-0")?.metadata?.deletionTimestamp,
      undefined,
    );
  });
});

Deno.test("deletePod() on 500 returns unknown (the server may have acted) with the Status message", async () => {
  await withClient({ pods: pods() }, async (api, client, calls) => {
    api.inject({ method: "DELETE" }, {
      status: 500,
      body: statusBody(500, "InternalError", "Internal error occurred: etcd is sad"),
    });
    assert.deepEqual(
      await client.deletePod({ namespace: "default", name: "web-0", uid: "uid-web-0" }),
      {
        kind: "unknown",
        code: 500,
        message:
          'Cannot delete pod "default/web-0": HTTP 500 InternalError: Internal error occurred: etcd is sad (it may have happened)',
      },
    );
    assert.deepEqual(calls, [["DELETE", 500]]);
  });
});

Deno.test("deletePod() names the missing RBAC verb on 403", async () => {
  await withClient({ pods: pods() }, async (api, client) => {
    api.inject({ method: "DELETE" }, { status: 403 });
    const result = await client.deletePod({
      namespace: "default",
      name: "web-0",
      uid: "uid-web-0",
    });
    assert.equal(result.kind, "failed");
    assert.equal(result.code, 403);
    assert.match(
      (result as { message: string }).message,
      /^RBAC forbids delete pods: grant verb "delete" on "pods"/,
    );
  });
});

Deno.test("evictPod() posts a policy/v1 Eviction with preconditions.uid and no grace override", async () => {
  await withClient({ pods: pods(), token: "t0k" }, async (api, client, calls) => {
    const result = await client.evictPod({ namespace: "data", name: "db-0", uid: "uid-db-0" });
    assert.deepEqual(result, { kind: "evicted", code: 201 });
    const request = api.requests[0]!;
    assert.equal(request.method, "POST");
    assert.equal(request.path, "/api/v1/namespaces/data/pods/db-0/eviction");
    assert.equal(request.headers["authorization"], "Bearer t0k");
    assert.deepEqual(request.body, {
      apiVersion: "policy/v1",
      kind: "Eviction",
      metadata: { name: "db-0", namespace: "data" },
      deleteOptions: { preconditions: { uid: "uid-db-0" } },
    });
    assert.deepEqual(calls, [["POST", 201]]);
    // The pod terminates with its own grace period, as after a DELETE.
    const stored = api.pods.find((p) => p.metadata?.name === "db-0");
    assert.equal(stored?.metadata?.deletionGracePeriodSeconds, 120);
  });
});

Deno.test("evictPod() maps each API answer to its result", async () => {
  const pdb429 = statusBody(
    429,
    "TooManyRequests",
    "Cannot evict pod as it would violate the pod's disruption budget.",
    { causes: [{ reason: "DisruptionBudget", message: "The disruption budget web-pdb needs 1" }] },
  );
  const multiPdb = statusBody(
    500,
    "InternalError",
    "This pod has more than one PodDisruptionBudget, which the eviction subresource does not " +
      "support.",
  );
  const table: {
    what: string;
    inject: { status: number; body?: unknown } | null;
    uid?: string;
    name?: string;
    kind: string;
    code: number | null;
    message?: RegExp;
  }[] = [
    { what: "accepted", inject: null, kind: "evicted", code: 201 },
    {
      what: "accepted with 200 and a Status",
      inject: { status: 200, body: { kind: "Status", apiVersion: "v1", status: "Success" } },
      kind: "evicted",
      code: 200,
    },
    // A 2xx without the body a real server sends (a proxy, a broken answer): maybe done.
    { what: "200 with no body", inject: { status: 200 }, kind: "unknown", code: 200 },
    { what: "204", inject: { status: 204 }, kind: "unknown", code: 204 },
    {
      what: "a PodDisruptionBudget forbids it",
      inject: { status: 429, body: pdb429 },
      kind: "blocked",
      code: 429,
      message:
        /^Eviction of pod "default\/web-0" blocked: HTTP 429 TooManyRequests: Cannot evict pod as it would violate the pod's disruption budget\.$/,
    },
    {
      what: "several PodDisruptionBudgets match",
      inject: { status: 500, body: multiPdb },
      kind: "blocked",
      code: 500,
      message:
        /^Cannot evict pod "default\/web-0": more than one PodDisruptionBudget selects it .*--termination-mode=delete: HTTP 500 InternalError: This pod has more than one/,
    },
    {
      what: "any other 500 (the server may have acted)",
      inject: { status: 500 },
      kind: "unknown",
      code: 500,
      message: /^Cannot evict pod "default\/web-0": HTTP 500 InternalError/,
    },
    {
      what: "503",
      inject: { status: 503 },
      kind: "unknown",
      code: 503,
      message: /^Cannot evict pod "default\/web-0": HTTP 503 ServiceUnavailable/,
    },
    {
      what: "RBAC lacks pods/eviction",
      inject: { status: 403 },
      kind: "failed",
      code: 403,
      message: /^RBAC forbids create pods\/eviction: grant verb "create" on "pods\/eviction"/,
    },
    { what: "the pod is gone", inject: null, name: "nope", kind: "gone", code: 404 },
    {
      what: "the name belongs to a re-created pod",
      inject: null,
      uid: "uid-stale",
      kind: "conflict",
      code: 409,
      message:
        /Precondition failed: UID in precondition: uid-stale, UID in object meta: uid-web-0$/,
    },
  ];
  for (const row of table) {
    await withClient({ pods: pods() }, async (api, client) => {
      if (row.inject) api.inject({ method: "POST", pathPrefix: "/api/v1/" }, row.inject);
      const result = await client.evictPod({
        namespace: "default",
        name: row.name ?? "web-0",
        uid: row.uid ?? "uid-web-0",
      });
      assert.equal(result.kind, row.kind, row.what);
      assert.equal(result.code, row.code, row.what);
      if (row.message) {
        assert.match((result as { message: string }).message, row.message, row.what);
      }
      // Only an eviction the stand-in itself accepted changes the pod; the rest leave it be.
      const stored = api.pods.find((p) => p.metadata?.name === "web-0");
      const changed = row.inject === null && result.kind === "evicted";
      assert.equal(stored?.metadata?.deletionTimestamp !== undefined, changed, row.what);
    });
  }
});

Deno.test("evictPod() re-reads the token on 401 and times out on a hanging server", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const tokenPath = `${dir}/token`;
    await Deno.writeTextFile(tokenPath, "old-token\n");
    const token = fileTokenSource(tokenPath, { ...denoConnectionDeps, maxAgeMs: 3_600_000 });
    await withClient(
      { pods: pods(), token: "old-token" },
      async (api, client, calls) => {
        await client.listNodePods(NODE);
        // The kubelet rotates the token: the server now wants the new one.
        api.setToken("new-token");
        await Deno.writeTextFile(tokenPath, "new-token\n");
        assert.deepEqual(
          await client.evictPod({ namespace: "default", name: "web-0", uid: "uid-web-0" }),
          { kind: "evicted", code: 201 },
        );
        assert.deepEqual(calls, [["GET", 200], ["POST", 401], ["POST", 201]]);
        api.inject({ method: "POST" }, "hang");
        const result = await client.evictPod({ namespace: "data", name: "db-0", uid: "uid-db-0" });
        // Sent and never answered: the server may have acted.
        assert.equal(result.kind, "unknown");
        assert.equal(result.code, null);
        assert.match(
          (result as { message: string }).message,
          /^Cannot evict pod "data\/db-0": POST .*\/eviction" timed out after 0\.3 s \(it may have happened\)$/,
        );
      },
      { token },
      { timeoutMs: 300 },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a 401 re-reads the token file and retries once", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const tokenPath = `${dir}/token`;
    await Deno.writeTextFile(tokenPath, "old-token\n");
    const token = fileTokenSource(tokenPath, { ...denoConnectionDeps, maxAgeMs: 3_600_000 });
    await withClient({ pods: pods(), token: "old-token" }, async (api, client, calls) => {
      assert.equal((await client.listNodePods(NODE)).length, 4);
      // The kubelet rotates the token: the server now wants the new one.
      api.setToken("new-token");
      await Deno.writeTextFile(tokenPath, "new-token\n");
      assert.equal((await client.listNodePods(NODE)).length, 4);
      assert.deepEqual(api.requests.map((r) => r.headers["authorization"]), [
        "Bearer old-token",
        "Bearer old-token",
        "Bearer new-token",
      ]);
      assert.deepEqual(calls, [["GET", 200], ["GET", 401], ["GET", 200]]);
      // A DELETE gets the same treatment.
      api.setToken("newer-token");
      await Deno.writeTextFile(tokenPath, "newer-token");
      assert.deepEqual(
        await client.deletePod({ namespace: "default", name: "web-0", uid: "uid-web-0" }),
        { kind: "deleted", code: 200 },
      );
      assert.deepEqual(api.requests.slice(3).map((r) => [r.method, r.headers["authorization"]]), [
        ["DELETE", "Bearer new-token"],
        ["DELETE", "Bearer newer-token"],
      ]);
      assert.deepEqual(api.requests[4]!.body, api.requests[3]!.body);
    }, { token });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a second 401 is not retried again", async () => {
  await withClient({ pods: pods(), token: "right" }, async (api, client, calls) => {
    await assert.rejects(client.listNodePods(NODE), (error: unknown) => {
      assert.ok(error instanceof KubeApiError);
      assert.equal(error.code, 401);
      assert.equal(
        error.message,
        'Cannot list pods on node "node-1": HTTP 401 Unauthorized: Unauthorized',
      );
      return true;
    });
    assert.equal(api.requests.length, 2);
    assert.deepEqual(calls, [["GET", 401], ["GET", 401]]);
    const result = await client.deletePod({
      namespace: "default",
      name: "web-0",
      uid: "uid-web-0",
    });
    assert.equal(result.kind, "failed");
    assert.equal(result.code, 401);
    assert.equal(api.requests.length, 4);
  }, { token: staticTokenSource("wrong") });
});

Deno.test("a hanging API server times out with code null", async () => {
  await withClient(
    { pods: pods() },
    async (api, client, calls) => {
      api.inject({}, "hang", 2);
      const started = performance.now();
      await assert.rejects(client.listNodePods(NODE), (error: unknown) => {
        assert.ok(error instanceof KubeApiError);
        assert.equal(error.code, null);
        assert.equal(
          error.message,
          'GET "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1&limit=500&resourceVersion=0" timed out after 0.3 s',
        );
        return true;
      });
      const elapsed = performance.now() - started;
      assert.ok(elapsed >= 250 && elapsed < 3000, `elapsed ${elapsed} ms`);
      const result = await client.deletePod({
        namespace: "default",
        name: "web-0",
        uid: "uid-web-0",
      });
      assert.equal(result.kind, "unknown");
      assert.equal(result.code, null);
      assert.match(
        (result as { message: string }).message,
        /^Cannot delete pod "default\/web-0": DELETE .* timed out after 0\.3 s \(it may have happened\)$/,
      );
      assert.deepEqual(calls, [["GET", null], ["DELETE", null]]);
    },
    {},
    { timeoutMs: 300 },
  );
});

Deno.test("a server certificate from another CA fails with a message naming the CA", async () => {
  const otherCa = await makeUnrelatedCaPem();
  await withClient({ pods: pods() }, async (_api, client, calls) => {
    await assert.rejects(client.listNodePods(NODE), (error: unknown) => {
      assert.ok(error instanceof KubeApiError);
      assert.equal(error.code, null);
      assert.match(
        error.message,
        /^Cannot reach the API server "https:\/\/127\.0\.0\.1:\d+": TLS verification against the CA "\/test\/ca\.crt" failed: invalid peer certificate: UnknownIssuer$/,
      );
      return true;
    });
    assert.deepEqual(calls, [["GET", null]]);
  }, { caPem: otherCa, caSource: 'the CA "/test/ca.crt"' });
});

Deno.test("without a CA the system trust store is named, and insecure-skip-tls-verify gets a hint", async () => {
  await withClient({ pods: pods() }, async (_api, client) => {
    await assert.rejects(
      client.listNodePods(NODE),
      /TLS verification against the system trust store failed: .*UnknownIssuer; insecure-skip-tls-verify cannot be honoured per client in Deno/,
    );
  }, { caPem: null, insecureSkipTlsVerify: true });
});

Deno.test("mutual TLS: a client certificate is presented and accepted", async () => {
  await withClient({ pods: pods(), clientAuth: true }, async (api, client) => {
    assert.equal((await client.listNodePods(NODE)).length, 4);
    assert.equal(
      api.requests[0]!.search,
      "?fieldSelector=spec.nodeName%3Dnode-1&limit=500&resourceVersion=0",
    );
  }, (api) => ({ clientCertPem: api.clientCertPem, clientKeyPem: api.clientKeyPem }));
});

Deno.test("mutual TLS: without a client certificate the handshake fails clearly", async () => {
  const api = await startApiStandin({ clientAuth: true });
  const client = createKubeClient({
    server: api.url,
    caPem: api.caPem,
    insecureSkipTlsVerify: false,
    clientCertPem: null,
    clientKeyPem: null,
    token: null,
  }, { timeoutMs: API_TIMEOUT_MS });
  try {
    await assert.rejects(
      client.listNodePods(NODE),
      /: Cannot reach the API server ".*": TLS handshake failed: the server requires a client certificate \(received fatal alert: CertificateRequired\)$/,
    );
  } finally {
    client.close();
    await api.close();
  }
});

Deno.test("plain HTTP works without a TLS client", async () => {
  await withClient({ pods: pods(), tls: false }, async (api, client) => {
    assert.ok(api.url.startsWith("http://"));
    assert.equal((await client.listNodePods(NODE)).length, 4);
  });
});

Deno.test("createKubeClient() rejects bad settings up front", () => {
  const base: KubeConnection = {
    server: "https://127.0.0.1:6443",
    caPem: null,
    insecureSkipTlsVerify: false,
    clientCertPem: null,
    clientKeyPem: null,
    token: null,
  };
  assert.throws(
    () =>
      createKubeClient({ ...base, server: "ftp://127.0.0.1:6443" }, { timeoutMs: API_TIMEOUT_MS }),
    {
      message: 'Cannot use API server "ftp://127.0.0.1:6443": the scheme must be https',
    },
  );
  assert.throws(
    () => createKubeClient({ ...base, server: "127.0.0.1:6443" }, { timeoutMs: API_TIMEOUT_MS }),
    {
      message: 'Cannot use API server "127.0.0.1:6443": not a URL (expected https://host:port)',
    },
  );
  assert.throws(
    () =>
      createKubeClient({ ...base, caPem: "garbage", caSource: '"/x/ca.crt"' }, {
        timeoutMs: API_TIMEOUT_MS,
      }),
    {
      message: 'Cannot use the CA from "/x/ca.crt": no PEM certificate found',
    },
  );
  assert.throws(
    () => createKubeClient({ ...base, clientCertPem: "x" }, { timeoutMs: API_TIMEOUT_MS }),
    {
      message: "Cannot use the client certificate: the key is missing",
    },
  );
  assert.throws(
    () =>
      createKubeClient({ ...base, clientCertPem: "garbage", clientKeyPem: "garbage" }, {
        timeoutMs: API_TIMEOUT_MS,
      }),
    { message: "Cannot use the client certificate: No certificates found in certificate data" },
  );
});

Deno.test("a token that cannot be read fails the call, not the process", async () => {
  await withClient({ pods: pods() }, async (api, client) => {
    await assert.rejects(
      client.listNodePods(NODE),
      /: Cannot read the bearer token: Cannot read token file "\/nonexistent\/token": /,
    );
    const result = await client.deletePod({
      namespace: "default",
      name: "web-0",
      uid: "uid-web-0",
    });
    assert.equal(result.kind, "failed");
    assert.equal(result.code, null);
    assert.equal(api.requests.length, 0);
  }, { token: fileTokenSource("/nonexistent/token", denoConnectionDeps) });
});

Deno.test("close() is idempotent and later calls fail cleanly", async () => {
  await withClient({ pods: pods() }, async (_api, client) => {
    client.close();
    client.close();
    await assert.rejects(client.listNodePods(NODE), {
      message: "Cannot call the API server: the client is closed",
    });
  });
});
