// Without openssl (a machine with only Deno) the HTTPS stand-in serves the throw-away PKI
// in tests/fixtures/pki/, so the TLS tests run instead of failing; CI
// (SOOMKILLER_REQUIRE_TOOLS=1) insists on openssl.
import assert from "node:assert/strict";
import { createKubeClient } from "../../src/act/kube_client.ts";
import { API_TIMEOUT_MS } from "../../src/config.ts";
import {
  makePod,
  makeUnrelatedCaPem,
  standinConnection,
  startApiStandin,
  useOpensslCommandForTests,
} from "./api_standin.ts";

const NO_OPENSSL = "soomkiller-no-such-openssl";
const REQUIRE = "SOOMKILLER_REQUIRE_TOOLS";

/** Runs `fn` with openssl missing and the variable set as given, then restores both. */
async function withoutOpenssl(required: boolean, fn: () => Promise<void>): Promise<void> {
  const before = Deno.env.get(REQUIRE);
  useOpensslCommandForTests(NO_OPENSSL);
  if (required) Deno.env.set(REQUIRE, "1");
  else Deno.env.delete(REQUIRE);
  try {
    await fn();
  } finally {
    if (before === undefined) Deno.env.delete(REQUIRE);
    else Deno.env.set(REQUIRE, before);
    useOpensslCommandForTests("openssl");
  }
}

const fixture = (name: string) =>
  Deno.readTextFile(new URL(`../fixtures/pki/${name}`, import.meta.url));

Deno.test("Without openssl the TLS stand-in uses the committed PKI, and a client verifies it", async () => {
  await withoutOpenssl(false, async () => {
    const api = await startApiStandin({
      pods: [makePod({ name: "a", uid: "u1", nodeName: "n1" })],
    });
    const kube = createKubeClient(standinConnection(api), { timeoutMs: API_TIMEOUT_MS });
    try {
      assert.match(api.url, /^https:/);
      assert.equal(api.caPem, await fixture("ca.pem"));
      assert.deepEqual((await kube.listNodePods("n1")).map((p) => p.name), ["a"]);
      // A CA that signed nothing here still fails verification.
      const other = await makeUnrelatedCaPem();
      assert.equal(other, await fixture("other-ca.pem"));
      const stranger = createKubeClient({ ...standinConnection(api), caPem: other }, {
        timeoutMs: API_TIMEOUT_MS,
      });
      try {
        await assert.rejects(stranger.listNodePods("n1"));
      } finally {
        stranger.close();
      }
    } finally {
      kube.close();
      await api.close();
    }
  });
});

Deno.test("Without openssl under SOOMKILLER_REQUIRE_TOOLS=1 the TLS stand-in fails, naming openssl", async () => {
  await withoutOpenssl(true, async () => {
    await assert.rejects(startApiStandin({}), /Cannot run "openssl"/);
  });
});
