/**
 * The pod LIST in pages (`limit`, `continue`): the same pods as one page, a 410 on a continue
 * token restarts the list, a malformed page or token fails clearly; and the stand-in pages as
 * a real API server does.
 */
import assert from "node:assert/strict";
import {
  createKubeClient,
  KubeApiError,
  type KubeClient,
  type KubeClientOptions,
  LIST_PAGE_SIZE,
} from "../../src/act/kube_client.ts";
import { MAX_LIST_ITEMS } from "../../src/act/pod_list.ts";
import {
  type ApiStandin,
  makePod,
  standinConnection,
  startApiStandin,
  statusBody,
} from "../fakes/api_standin.ts";
import type { V1Pod } from "@kubernetes/client-node";

const NODE = "node-1";

/** `count` pods on NODE (every seventh annotated) and one elsewhere per 50. */
function nodePods(count: number): V1Pod[] {
  const pods: V1Pod[] = [];
  for (let i = 0; i < count; i++) {
    pods.push(makePod({
      name: `pod-${i}`,
      namespace: `ns-${i % 3}`,
      uid: `uid-${i}`,
      nodeName: NODE,
      ...(i % 7 === 0 ? { annotations: { "example.com/i": String(i) } } : {}),
    }));
    if (i % 50 === 0) {
      pods.push(makePod({ name: `other-${i}`, uid: `uid-other-${i}`, nodeName: "node-2" }));
    }
  }
  return pods;
}

function onNode(pods: V1Pod[]): V1Pod[] {
  return pods.filter((p) => p.spec?.nodeName === NODE);
}

async function withClient(
  pods: V1Pod[],
  fn: (api: ApiStandin, client: KubeClient) => Promise<void>,
  options: Partial<KubeClientOptions> | ((api: ApiStandin) => Partial<KubeClientOptions>) = {},
): Promise<void> {
  const api = await startApiStandin({ pods, tls: false });
  const client = createKubeClient(standinConnection(api), {
    allowInsecureHttp: true,
    timeoutMs: 10_000,
    ...(typeof options === "function" ? options(api) : options),
  });
  try {
    await fn(api, client);
  } finally {
    client.close();
    await api.close();
  }
}

function searchOf(api: ApiStandin): URLSearchParams[] {
  return api.requests.map((r) => new URLSearchParams(r.search));
}

Deno.test("a LIST of more pods than a page reads them in pages, the same pods as one page", async () => {
  const pods = nodePods(1_203);
  let onePage: unknown[] = [];
  await withClient(pods, async (api, client) => {
    onePage = await client.listNodePods(NODE);
    assert.equal(api.requests.length, 1);
  }, { listPageSize: 5_000 });
  await withClient(pods, async (api, client) => {
    const paged = await client.listNodePods(NODE);
    assert.equal(paged.length, 1_203);
    assert.deepEqual(paged, onePage);
    const queries = searchOf(api);
    assert.equal(queries.length, 3, "1,203 pods at 500 a page");
    assert.deepEqual(queries.map((q) => q.get("limit")), ["500", "500", "500"]);
    // The first page from the watch cache; the next carry only the token.
    assert.equal(queries[0]!.get("resourceVersion"), "0");
    assert.equal(queries[0]!.has("continue"), false);
    for (const q of queries.slice(1)) {
      assert.equal(q.has("resourceVersion"), false);
      assert.ok((q.get("continue") ?? "") !== "");
      assert.equal(q.get("fieldSelector"), `spec.nodeName=${NODE}`);
    }
  });
});

Deno.test("a node of LIST_PAGE_SIZE pods (500) is one request", async () => {
  assert.equal(LIST_PAGE_SIZE, 500);
  await withClient(nodePods(500), async (api, client) => {
    assert.equal((await client.listNodePods(NODE)).length, 500);
    assert.equal(api.requests.length, 1);
  });
  await withClient(nodePods(501), async (api, client) => {
    assert.equal((await client.listNodePods(NODE)).length, 501);
    assert.equal(api.requests.length, 2);
  });
});

Deno.test("small pages: every pod once, in order, and skipped items reported once for the list", async () => {
  const pods = nodePods(23);
  // Two malformed items, on different pages.
  pods.splice(3, 0, {
    metadata: { name: "no-uid", namespace: "default" },
    spec: { nodeName: NODE },
  } as V1Pod);
  pods.splice(17, 0, {
    metadata: { name: "Bad_Name", uid: "u", namespace: "default" },
    spec: { nodeName: NODE },
  } as V1Pod);
  const skipped: string[][] = [];
  await withClient(pods, async (api, client) => {
    const result = await client.listNodePods(NODE);
    assert.deepEqual(result.map((p) => p.name), onNode(nodePods(23)).map((p) => p.metadata!.name!));
    assert.equal(
      api.requests.length,
      Math.ceil(26 / 4),
      "26 pods listed (3 elsewhere) at 4 a page",
    );
    assert.equal(skipped.length, 1);
    assert.equal(skipped[0]!.length, 2);
    assert.equal(skipped[0]![0], "no metadata.uid");
  }, { listPageSize: 4, onSkippedItems: (reasons) => skipped.push([...reasons]) });
});

Deno.test("a 410 on a continue token restarts the list from scratch", async () => {
  const pods = nodePods(12);
  let expired = false;
  await withClient(pods, async (api, client) => {
    const result = await client.listNodePods(NODE);
    assert.deepEqual(result.map((p) => p.uid), onNode(nodePods(12)).map((p) => p.metadata!.uid!));
    // page 1, page 2 → 410, then page 1, 2 and 3 again.
    const queries = searchOf(api);
    assert.deepEqual(
      queries.map((q) => q.has("continue")),
      [false, true, false, true, true],
    );
    assert.equal(queries[2]!.get("resourceVersion"), "0");
  }, (api) => ({
    listPageSize: 5,
    onRequest: () => {
      // Right after the first page: every token given out so far expires (etcd compaction).
      if (!expired) {
        expired = true;
        api.expireContinueTokens();
      }
    },
  }));
});

Deno.test("a 410 on the restarted list too fails clearly, with code 410", async () => {
  await withClient(nodePods(12), async (api, client) => {
    api.inject(
      { method: "GET", searchIncludes: "continue=" },
      {
        status: 410,
        body: statusBody(410, "Expired", "The provided continue parameter is too old"),
      },
      2,
    );
    await assert.rejects(client.listNodePods(NODE), (error: unknown) => {
      assert.ok(error instanceof KubeApiError);
      assert.equal(error.code, 410);
      assert.match(error.message, /^Cannot list pods on node "node-1": the continue token expired/);
      assert.match(error.message, /after the list was restarted/);
      return true;
    });
    assert.equal(api.requests.length, 4, "page 1, 410, page 1, 410: no third try");
  }, { listPageSize: 5 });
});

Deno.test("a 410 on the first page (no token) is an error, not a restart", async () => {
  await withClient(nodePods(3), async (api, client) => {
    api.inject({ method: "GET" }, { status: 410 });
    await assert.rejects(client.listNodePods(NODE), (error: unknown) => {
      assert.ok(error instanceof KubeApiError);
      assert.equal(error.code, 410);
      return true;
    });
    assert.equal(api.requests.length, 1);
  });
});

Deno.test("a page that is not a PodList fails the LIST, naming the page", async () => {
  await withClient(nodePods(12), async (api, client) => {
    api.inject({ method: "GET", searchIncludes: "continue=" }, { status: 200, body: {} });
    await assert.rejects(client.listNodePods(NODE), (error: unknown) => {
      assert.ok(error instanceof KubeApiError);
      assert.equal(
        error.message,
        'Cannot list pods on node "node-1" (page 2): the response is not a PodList',
      );
      return true;
    });
  }, { listPageSize: 5 });
});

Deno.test("a malformed continue token fails clearly: not a string, repeated, refused", async () => {
  const page = (next: unknown) => ({
    status: 200,
    body: { kind: "PodList", metadata: { continue: next }, items: [] },
  });
  await withClient(nodePods(2), async (api, client) => {
    api.inject({ method: "GET" }, page(42));
    await assert.rejects(
      client.listNodePods(NODE),
      /^KubeApiError: Cannot list pods on node "node-1": metadata.continue is not a string but 42$/,
    );
    api.inject({ method: "GET" }, page("abc"), 2);
    await assert.rejects(
      client.listNodePods(NODE),
      /\(page 2\): the server is still paging after 2 pages of 500 \(the same continue token twice\)/,
    );
    // A token the server does not know: its own 400, passed on with the page.
    api.inject({ method: "GET" }, page("bm90LWEtdG9rZW4="));
    await assert.rejects(client.listNodePods(NODE), (error: unknown) => {
      assert.ok(error instanceof KubeApiError);
      assert.equal(error.code, 400);
      assert.match(
        error.message,
        /^Cannot list pods on node "node-1" \(page 2\): HTTP 400 BadRequest: continue key is not valid/,
      );
      return true;
    });
  });
});

Deno.test("stand-in: continue tokens follow the API contract", async () => {
  await withClient(nodePods(7), async (api) => {
    const get = async (query: string) => {
      const response = await fetch(`${api.url}/api/v1/pods?${query}`);
      return { status: response.status, body: await response.json() };
    };
    const selector = `fieldSelector=${encodeURIComponent(`spec.nodeName=${NODE}`)}`;
    const first = await get(`${selector}&limit=3`);
    assert.equal(first.status, 200);
    assert.equal(first.body.items.length, 3);
    assert.equal(first.body.metadata.remainingItemCount, 4);
    const token = encodeURIComponent(first.body.metadata.continue);
    // With a resourceVersion: 400, as a real server answers.
    const withRv = await get(`${selector}&limit=3&continue=${token}&resourceVersion=0`);
    assert.equal(withRv.status, 400);
    assert.equal(
      withRv.body.message,
      "specifying resource version is not allowed when using continue",
    );
    // With another selector: 400.
    assert.equal((await get(`limit=3&continue=${token}`)).status, 400);
    // Garbage: 400.
    assert.equal((await get(`${selector}&limit=3&continue=xyz`)).status, 400);
    // A bad limit: 400.
    assert.equal((await get(`${selector}&limit=-1`)).status, 400);
    const second = await get(`${selector}&limit=3&continue=${token}`);
    assert.equal(second.body.items.length, 3);
    const last = await get(
      `${selector}&limit=3&continue=${encodeURIComponent(second.body.metadata.continue)}`,
    );
    assert.equal(last.body.items.length, 1);
    assert.equal(last.body.metadata.continue, undefined);
    // Expired: 410 Expired.
    const again = await get(`${selector}&limit=3`);
    api.expireContinueTokens();
    const expired = await get(
      `${selector}&limit=3&continue=${encodeURIComponent(again.body.metadata.continue)}`,
    );
    assert.equal(expired.status, 410);
    assert.equal(expired.body.reason, "Expired");
  });
});

/** A PodList page as a hostile server would send it: these items, this continue token. */
function hostilePage(items: unknown[], next: string | null) {
  return {
    status: 200,
    body: { kind: "PodList", metadata: next === null ? {} : { continue: next }, items },
  };
}

Deno.test("a server that ignores limit and never stops paging: the LIST fails clearly above MAX_LIST_ITEMS, after 3 pages", async () => {
  assert.equal(MAX_LIST_ITEMS, 5_000);
  const big = onNode(nodePods(2_000));
  await withClient([], async (api, client) => {
    for (let i = 0; i < 10; i++) api.inject({ method: "GET" }, hostilePage(big, `token-${i}`));
    await assert.rejects(client.listNodePods(NODE), (error: unknown) => {
      assert.ok(error instanceof KubeApiError);
      assert.match(
        error.message,
        /^Cannot list pods on node "node-1" \(page 3\): the server sent 6000 pods so far, more than the 5000 one node can hold/,
      );
      return true;
    });
    assert.equal(api.requests.length, 3);
  });
});

Deno.test("continue tokens A, B, A: any token seen before in the list fails it, not only the previous one", async () => {
  await withClient([], async (api, client) => {
    for (let i = 0; i < 50; i++) {
      api.inject({ method: "GET" }, hostilePage([], i % 2 === 0 ? "A" : "B"));
    }
    await assert.rejects(
      client.listNodePods(NODE),
      /\(page 3\): the server is still paging after 3 pages of 500 \(a continue token seen before\)/,
    );
    assert.equal(api.requests.length, 3);
  });
});

Deno.test("empty pages with a fresh token each: at most ceil(MAX_LIST_ITEMS / page size) + 1 requests", async () => {
  await withClient([], async (api, client) => {
    for (let i = 0; i < 100; i++) api.inject({ method: "GET" }, hostilePage([], `t${i}`));
    await assert.rejects(
      client.listNodePods(NODE),
      /still paging after 11 pages of 500 \(too many\)/,
    );
    assert.equal(api.requests.length, 11);
  });
});

Deno.test("a pod listed on two pages is kept once, and the LIST says so", async () => {
  const [a, b, c] = onNode(nodePods(3));
  const skipped: string[][] = [];
  await withClient([], async (api, client) => {
    api.inject({ method: "GET" }, hostilePage([a, b], "p2"));
    api.inject({ method: "GET" }, hostilePage([b, c, a], null));
    const pods = await client.listNodePods(NODE);
    assert.deepEqual(pods.map((p) => p.name), ["pod-0", "pod-1", "pod-2"]);
    assert.deepEqual(skipped, [[
      "ns-1/pod-1: uid uid-1 listed twice, kept once",
      "ns-0/pod-0: uid uid-0 listed twice, kept once",
    ]]);
  }, { onSkippedItems: (reasons) => skipped.push([...reasons]) });
});

Deno.test("an item without spec.nodeName is left out: the fieldSelector promises this node's pods", async () => {
  const [a] = onNode(nodePods(1));
  const orphan = makePod({ name: "orphan", uid: "u-orphan", nodeName: NODE });
  delete orphan.spec!.nodeName;
  const skipped: string[][] = [];
  await withClient([], async (api, client) => {
    api.inject({ method: "GET" }, hostilePage([a, orphan], null));
    assert.deepEqual((await client.listNodePods(NODE)).map((p) => p.name), ["pod-0"]);
    assert.deepEqual(skipped, [["default/orphan has no spec.nodeName"]]);
  }, { onSkippedItems: (reasons) => skipped.push([...reasons]) });
});
