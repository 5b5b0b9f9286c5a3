import assert from "node:assert/strict";
import {
  KubeconfigError,
  loadKubeconfig,
  parseKubeconfig,
  selectFromKubeconfig,
} from "../../src/act/kubeconfig.ts";
import { createKubeClient, type KubeConnection } from "../../src/act/kube_client.ts";
import { API_TIMEOUT_MS } from "../../src/config.ts";
import { denoConnectionDeps } from "../../src/act/token_source.ts";
import { memoryFiles } from "../fakes/connection_deps.ts";
import { makePod, startApiStandin, writeKubeconfig } from "../fakes/api_standin.ts";

const CA = "-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n";
const CERT = "-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN PRIVATE KEY-----\nMIGkey\n-----END PRIVATE KEY-----\n";
const b64 = (text: string) => btoa(text);

/** A kubeconfig with two contexts; `user` and `cluster` override the "dev" entries. */
function kubeconfig(
  user: string = "    token: dev-token",
  cluster: string = `    server: https://dev.example:6443\n    certificate-authority-data: ${
    b64(CA)
  }`,
): string {
  return `apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
${cluster}
- name: prod-cluster
  cluster:
    server: https://prod.example:6443/
    insecure-skip-tls-verify: true
contexts:
- name: dev
  context:
    cluster: dev-cluster
    user: dev-user
- name: prod
  context:
    cluster: prod-cluster
    user: prod-user
users:
- name: dev-user
  user:
${user}
- name: prod-user
  user:
    token: prod-token
`;
}

async function rejectsWith(
  promise: Promise<unknown>,
  detail: string,
  path = "/home/u/.kube/config",
) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof KubeconfigError, String(error));
    assert.equal(error.message, `Cannot read kubeconfig "${path}": ${detail}`);
    return true;
  });
}

const PATH = "/home/u/.kube/config";
const parse = (text: string, context?: string) =>
  parseKubeconfig(text, "/home/u/.kube", { path: PATH, ...(context ? { context } : {}) });

Deno.test("parseKubeconfig() follows current-context to the cluster and user", async () => {
  const selection = await parse(kubeconfig());
  assert.deepEqual(selection, {
    path: PATH,
    contextName: "dev",
    clusterName: "dev-cluster",
    userName: "dev-user",
    server: "https://dev.example:6443",
    ca: { field: 'clusters["dev-cluster"].cluster.certificate-authority-data', inline: CA },
    insecureSkipTlsVerify: false,
    token: { field: 'users["dev-user"].user.token', inline: "dev-token" },
    clientCert: null,
    clientKey: null,
  });
});

Deno.test("parseKubeconfig() selects an explicit context instead of current-context", async () => {
  const selection = await parse(kubeconfig(), "prod");
  assert.equal(selection.contextName, "prod");
  assert.equal(selection.server, "https://prod.example:6443");
  assert.equal(selection.ca, null);
  assert.equal(selection.insecureSkipTlsVerify, true);
  assert.deepEqual(selection.token, {
    field: 'users["prod-user"].user.token',
    inline: "prod-token",
  });
});

Deno.test("parseKubeconfig() resolves file paths against the kubeconfig's directory", async () => {
  const selection = await parse(kubeconfig(
    "    tokenFile: secrets/token\n    token: ignored\n" +
      "    client-certificate: ./pki/client.crt\n    client-key: /abs/client.key",
    "    server: https://dev.example:6443\n    certificate-authority: ../ca.crt",
  ));
  assert.deepEqual(selection.ca, {
    field: 'clusters["dev-cluster"].cluster.certificate-authority',
    file: "/home/u/.kube/../ca.crt",
  });
  // As in client-go, the tokenFile wins over the inline token.
  assert.deepEqual(selection.token, {
    field: 'users["dev-user"].user.tokenFile',
    file: "/home/u/.kube/secrets/token",
  });
  assert.deepEqual(selection.clientCert, {
    field: 'users["dev-user"].user.client-certificate',
    file: "/home/u/.kube/pki/client.crt",
  });
  assert.deepEqual(selection.clientKey, {
    field: 'users["dev-user"].user.client-key',
    file: "/abs/client.key",
  });
});

Deno.test("parseKubeconfig() decodes inline client certificate data", async () => {
  const selection = await parse(kubeconfig(
    `    client-certificate-data: ${b64(CERT)}\n    client-key-data: ${b64(KEY)}`,
  ));
  assert.deepEqual(selection.clientCert, {
    field: 'users["dev-user"].user.client-certificate-data',
    inline: CERT,
  });
  assert.equal(selection.token, null);
  assert.equal((selection.clientKey as { inline: string }).inline, KEY);
});

Deno.test("parseKubeconfig() rejects exec and auth-provider users", async () => {
  await rejectsWith(
    parse(kubeconfig(
      "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: aws\n" +
        "      args: [eks, get-token]",
    )),
    'users["dev-user"].user.exec ("aws") is not supported: use a token or a client certificate',
  );
  await rejectsWith(
    parse(kubeconfig("    auth-provider:\n      name: oidc")),
    'users["dev-user"].user.auth-provider is not supported: use a token or a client certificate',
  );
  await rejectsWith(
    parse(kubeconfig("    username: admin\n    password: secret")),
    'users["dev-user"].user.username/password (basic auth) is not supported: ' +
      "use a token or a client certificate",
  );
});

Deno.test("parseKubeconfig() names every missing piece", async () => {
  const cases: [string, string][] = [
    ["", "it is empty"],
    ["- a\n- b\n", "the top level is not a mapping"],
    ["clusters: [\n", "not valid YAML: "],
    [kubeconfig().replace("current-context: dev\n", ""), "no current-context"],
    [
      kubeconfig().replace("current-context: dev", "current-context: qa"),
      'context "qa" not found in contexts',
    ],
    [
      kubeconfig().replace("cluster: dev-cluster", "cluster: gone"),
      'cluster "gone" not found in clusters',
    ],
    [kubeconfig().replace("user: dev-user", "user: nobody"), 'user "nobody" not found in users'],
    [
      kubeconfig().replace("    cluster: dev-cluster\n", ""),
      'contexts["dev"].context.cluster is missing',
    ],
    [
      kubeconfig(undefined, "    certificate-authority-data: " + b64(CA)),
      'clusters["dev-cluster"].cluster.server is missing',
    ],
    [
      kubeconfig(undefined, "    server: dev.example:6443"),
      'clusters["dev-cluster"].cluster.server "dev.example:6443" is not an http(s) URL',
    ],
    [
      kubeconfig(undefined, "    server: https://x\n    certificate-authority-data: '%%%'"),
      'clusters["dev-cluster"].cluster.certificate-authority-data is not valid base64',
    ],
    [
      kubeconfig(undefined, "    server: https://x\n    insecure-skip-tls-verify: yes please"),
      'clusters["dev-cluster"].cluster.insecure-skip-tls-verify is not true or false',
    ],
    [
      kubeconfig(undefined, "    server: https://x\n    proxy-url: http://proxy:3128"),
      'clusters["dev-cluster"].cluster.proxy-url is not supported',
    ],
    [
      kubeconfig(`    client-certificate-data: ${b64(CERT)}`),
      'users["dev-user"].user.client-key-data or client-key is missing (a client certificate is set)',
    ],
    [
      kubeconfig("    client-key: key.pem"),
      'users["dev-user"].user.client-certificate-data or client-certificate is missing ' +
      "(a client key is set)",
    ],
    [kubeconfig("    token: 42"), 'users["dev-user"].user.token is not a string'],
  ];
  for (const [text, detail] of cases) {
    await assert.rejects(parse(text), (error: unknown) => {
      assert.ok(error instanceof KubeconfigError, String(error));
      assert.ok(
        error.message.startsWith(`Cannot read kubeconfig "${PATH}": ${detail}`),
        `${JSON.stringify(error.message)} should start with ${JSON.stringify(detail)}`,
      );
      return true;
    });
  }
});

Deno.test("selectFromKubeconfig() treats a context without a user as anonymous", () => {
  const selection = selectFromKubeconfig(
    {
      "current-context": "local",
      contexts: [{ name: "local", context: { cluster: "c" } }],
      clusters: [{ name: "c", cluster: { server: "http://127.0.0.1:8001" } }],
    },
    PATH,
    "/home/u/.kube",
  );
  assert.equal(selection.userName, null);
  assert.equal(selection.token, null);
  assert.equal(selection.server, "http://127.0.0.1:8001");
});

Deno.test("loadKubeconfig() reads referenced files and builds the connection", async () => {
  const deps = memoryFiles({
    [PATH]: kubeconfig(
      "    tokenFile: token\n    client-certificate: client.crt\n    client-key: client.key",
      "    server: https://dev.example:6443\n    certificate-authority: ca.crt",
    ),
    "/home/u/.kube/ca.crt": CA,
    "/home/u/.kube/token": "file-token\n",
    "/home/u/.kube/client.crt": CERT,
    "/home/u/.kube/client.key": KEY,
  });
  const connection = await loadKubeconfig(PATH, deps);
  assert.equal(connection.server, "https://dev.example:6443");
  assert.equal(connection.caPem, CA);
  assert.equal(
    connection.caSource,
    `the CA "/home/u/.kube/ca.crt" (clusters["dev-cluster"].cluster.certificate-authority in ` +
      `kubeconfig "${PATH}")`,
  );
  assert.equal(connection.clientCertPem, CERT);
  assert.equal(connection.clientKeyPem, KEY);
  assert.equal(await connection.token?.get(), "file-token");
});

Deno.test("loadKubeconfig() names a file it cannot read", async () => {
  await rejectsWith(loadKubeconfig(PATH, memoryFiles({})), `No such file or directory: '${PATH}'`);
  await rejectsWith(
    loadKubeconfig(
      PATH,
      memoryFiles({
        [PATH]: kubeconfig(undefined, "    server: https://x\n    certificate-authority: ca.crt"),
      }),
    ),
    `cannot read clusters["dev-cluster"].cluster.certificate-authority "/home/u/.kube/ca.crt": ` +
      `No such file or directory: '/home/u/.kube/ca.crt'`,
  );
  await rejectsWith(
    loadKubeconfig(PATH, memoryFiles({ [PATH]: kubeconfig("    tokenFile: t") })),
    `users["dev-user"].user.tokenFile: Cannot read token file "/home/u/.kube/t": ` +
      `No such file or directory: '/home/u/.kube/t'`,
  );
  await rejectsWith(
    loadKubeconfig(
      PATH,
      memoryFiles({
        [PATH]: kubeconfig(
          undefined,
          `    server: https://x\n    certificate-authority-data: ${b64("hello")}`,
        ),
      }),
    ),
    'clusters["dev-cluster"].cluster.certificate-authority-data holds no PEM certificate',
  );
  await rejectsWith(
    loadKubeconfig(
      PATH,
      memoryFiles({
        [PATH]: kubeconfig(
          `    client-certificate-data: ${b64(CERT)}\n    client-key-data: ${b64(CERT)}`,
        ),
      }),
    ),
    'users["dev-user"].user.client-key-data holds no PEM private key',
  );
});

Deno.test("loadKubeconfig() of a stand-in's kubeconfig lists pods over HTTPS with the token", async () => {
  const api = await startApiStandin({
    token: "standin-token",
    pods: [makePod({ name: "web-0", uid: "u1", nodeName: "node-1" })],
  });
  const dir = await Deno.makeTempDir();
  try {
    const path = await writeKubeconfig(dir, {
      server: api.url,
      caPem: api.caPem,
      token: "standin-token",
    });
    const connection = await loadKubeconfig(path, denoConnectionDeps);
    assert.match(connection.caSource ?? "", /certificate-authority-data of kubeconfig/);
    await withClient(connection, async (client) => {
      assert.deepEqual((await client.listNodePods("node-1")).map((p) => p.name), ["web-0"]);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
    await api.close();
  }
});

Deno.test("loadKubeconfig() with CA and token files relative to it; the token file rotates", async () => {
  const api = await startApiStandin({ token: "first", pods: [] });
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/pki`);
    await Deno.writeTextFile(`${dir}/pki/ca.crt`, api.caPem!);
    await Deno.writeTextFile(`${dir}/token`, "first\n");
    await Deno.writeTextFile(
      `${dir}/config.yaml`,
      `apiVersion: v1
kind: Config
current-context: standin
clusters:
- name: standin
  cluster:
    server: ${api.url}
    certificate-authority: pki/ca.crt
contexts:
- name: standin
  context: {cluster: standin, user: me}
users:
- name: me
  user:
    tokenFile: ./token
`,
    );
    const connection = await loadKubeconfig(`${dir}/config.yaml`, denoConnectionDeps);
    await withClient(connection, async (client) => {
      assert.deepEqual(await client.listNodePods("node-1"), []);
      api.setToken("second");
      await Deno.writeTextFile(`${dir}/token`, "second\n");
      assert.deepEqual(await client.listNodePods("node-1"), []);
      assert.deepEqual(api.requests.map((r) => r.headers["authorization"]), [
        "Bearer first",
        "Bearer first",
        "Bearer second",
      ]);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
    await api.close();
  }
});

Deno.test("loadKubeconfig() with a client certificate completes a mutual TLS handshake", async () => {
  const api = await startApiStandin({
    clientAuth: true,
    pods: [makePod({ name: "web-0", uid: "u1", nodeName: "node-1" })],
  });
  const dir = await Deno.makeTempDir();
  try {
    const path = await writeKubeconfig(dir, {
      server: api.url,
      caPem: api.caPem,
      clientCertPem: api.clientCertPem,
      clientKeyPem: api.clientKeyPem,
    });
    const connection = await loadKubeconfig(path, denoConnectionDeps);
    assert.equal(connection.token, null);
    await withClient(connection, async (client) => {
      assert.deepEqual((await client.listNodePods("node-1")).map((p) => p.uid), ["u1"]);
      assert.equal(api.requests[0]!.headers["authorization"], undefined);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
    await api.close();
  }
});

async function withClient(
  connection: KubeConnection,
  fn: (client: ReturnType<typeof createKubeClient>) => Promise<void>,
) {
  const client = createKubeClient(connection, { timeoutMs: API_TIMEOUT_MS });
  try {
    await fn(client);
  } finally {
    client.close();
  }
}

Deno.test("parseKubeconfig() reads a JSON kubeconfig exactly as its YAML twin", async () => {
  const { parse: parseYaml } = await import("yaml");
  for (const context of [undefined, "prod"]) {
    const json = JSON.stringify(parseYaml(kubeconfig()), null, 2);
    assert.deepEqual(await parse(json, context), await parse(kubeconfig(), context));
  }
  // Text that only looks like JSON falls through to the YAML parser and its error.
  await assert.rejects(parse("{ not json: [ at all"), /not valid YAML/);
});
