import assert from "node:assert/strict";
import fc from "fast-check";
import {
  KubeconfigError,
  parseKubeconfig,
  selectFromKubeconfig,
} from "../../src/act/kubeconfig.ts";
import { rejectsOnly, RUNS, throwsOnly } from "./arbitraries.ts";

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/);

/** Kubeconfig-shaped documents with any value anywhere they can be wrong. */
const shaped = fc.record({
  apiVersion: fc.jsonValue({ maxDepth: 1 }),
  kind: fc.jsonValue({ maxDepth: 1 }),
  "current-context": fc.oneof(name, fc.jsonValue({ maxDepth: 1 })),
  contexts: fc.oneof(
    fc.array(
      fc.record({
        name: fc.oneof(name, fc.jsonValue({ maxDepth: 1 })),
        context: fc.jsonValue({ maxDepth: 2 }),
      }),
      { maxLength: 3 },
    ),
    fc.jsonValue({ maxDepth: 2 }),
  ),
  clusters: fc.oneof(
    fc.array(
      fc.record({
        name,
        cluster: fc.oneof(
          fc.record({
            server: fc.oneof(fc.webUrl(), fc.jsonValue({ maxDepth: 1 })),
            "certificate-authority-data": fc.oneof(fc.base64String(), fc.string()),
            "insecure-skip-tls-verify": fc.jsonValue({ maxDepth: 1 }),
            "proxy-url": fc.string(),
          }, { requiredKeys: [] }),
          fc.jsonValue({ maxDepth: 2 }),
        ),
      }),
      { maxLength: 3 },
    ),
    fc.jsonValue({ maxDepth: 2 }),
  ),
  users: fc.oneof(
    fc.array(
      fc.record({
        name,
        user: fc.oneof(
          fc.record({
            token: fc.jsonValue({ maxDepth: 1 }),
            tokenFile: fc.jsonValue({ maxDepth: 1 }),
            "client-certificate-data": fc.oneof(fc.base64String(), fc.string()),
            "client-key": fc.string(),
            exec: fc.jsonValue({ maxDepth: 2 }),
            username: fc.string(),
          }, { requiredKeys: [] }),
          fc.jsonValue({ maxDepth: 2 }),
        ),
      }),
      { maxLength: 3 },
    ),
    fc.jsonValue({ maxDepth: 2 }),
  ),
}, { requiredKeys: [] });

Deno.test("selectFromKubeconfig() throws nothing but KubeconfigError, whatever the document", () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.jsonValue({ maxDepth: 4 }), shaped),
      fc.option(name),
      (doc, context) => {
        throwsOnly(
          () => selectFromKubeconfig(doc, "/k/config", "/k", context === null ? {} : { context }),
          KubeconfigError,
        );
      },
    ),
    RUNS,
  );
});

Deno.test("parseKubeconfig() throws nothing but KubeconfigError, whatever the text", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.string({ unit: "binary", maxLength: 200 }),
        shaped.map((doc) => JSON.stringify(doc)),
      ),
      (text) => rejectsOnly(() => parseKubeconfig(text, "/k"), KubeconfigError),
    ),
    { numRuns: 200 },
  );
});

Deno.test("selectFromKubeconfig() gives back the server, CA and credentials of the current context", () => {
  const config = fc.record({
    context: name,
    cluster: name,
    user: name,
    server: fc.tuple(
      fc.constantFrom("https", "http"),
      fc.domain(),
      fc.integer({ min: 1, max: 65535 }),
    ).map(([scheme, host, port]) => `${scheme}://${host}:${port}`),
    ca: fc.string({ minLength: 1, maxLength: 60 }),
    token: fc.string({ minLength: 1, maxLength: 60 }),
    insecure: fc.boolean(),
  });
  fc.assert(
    fc.property(config, (c) => {
      const doc = {
        apiVersion: "v1",
        kind: "Config",
        "current-context": c.context,
        contexts: [{ name: c.context, context: { cluster: c.cluster, user: c.user } }],
        clusters: [{
          name: c.cluster,
          cluster: {
            server: c.server,
            "certificate-authority-data": btoa(
              String.fromCharCode(...new TextEncoder().encode(c.ca)),
            ),
            "insecure-skip-tls-verify": c.insecure,
          },
        }],
        users: [{ name: c.user, user: { token: c.token } }],
      };
      const selection = selectFromKubeconfig(doc, "/k/config", "/k");
      assert.equal(selection.contextName, c.context);
      assert.equal(selection.clusterName, c.cluster);
      assert.equal(selection.userName, c.user);
      assert.equal(selection.server, c.server);
      assert.equal(selection.insecureSkipTlsVerify, c.insecure);
      assert.deepEqual(selection.ca, {
        field: `clusters["${c.cluster}"].cluster.certificate-authority-data`,
        inline: c.ca,
      });
      assert.deepEqual(selection.token, {
        field: `users["${c.user}"].user.token`,
        inline: c.token,
      });
    }),
    RUNS,
  );
});
