import assert from "node:assert/strict";
import { inClusterConnection, SERVICE_ACCOUNT_DIR } from "../../src/act/in_cluster.ts";
import { createKubeClient } from "../../src/act/kube_client.ts";
import { API_TIMEOUT_MS } from "../../src/config.ts";
import { denoConnectionDeps } from "../../src/act/token_source.ts";
import { memoryFiles } from "../fakes/connection_deps.ts";
import { makePod, startApiStandin } from "../fakes/api_standin.ts";

const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

function env(vars: Record<string, string>) {
  return { get: (name: string) => vars[name] };
}

const SA_FILES = {
  [`${SERVICE_ACCOUNT_DIR}/ca.crt`]: CA,
  [`${SERVICE_ACCOUNT_DIR}/token`]: "sa-token\n",
};

Deno.test("inClusterConnection() uses the service env vars and the service account files", async () => {
  const connection = await inClusterConnection(
    env({ KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" }),
    memoryFiles(SA_FILES),
  );
  assert.equal(connection.server, "https://10.96.0.1:443");
  assert.equal(connection.caPem, CA);
  assert.equal(
    connection.caSource,
    'the service account CA "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"',
  );
  assert.equal(connection.insecureSkipTlsVerify, false);
  assert.equal(connection.clientCertPem, null);
  assert.equal(await connection.token?.get(), "sa-token");
});

Deno.test("inClusterConnection() brackets an IPv6 service host", async () => {
  const connection = await inClusterConnection(
    env({ KUBERNETES_SERVICE_HOST: "fd00:10:96::1", KUBERNETES_SERVICE_PORT: "443" }),
    memoryFiles(SA_FILES),
  );
  assert.equal(connection.server, "https://[fd00:10:96::1]:443");
});

Deno.test("inClusterConnection() says to pass --kubeconfig outside a cluster", async () => {
  await assert.rejects(inClusterConnection(env({}), memoryFiles(SA_FILES)), {
    message: "Not running in a cluster: KUBERNETES_SERVICE_HOST is not set; pass --kubeconfig",
  });
  await assert.rejects(
    inClusterConnection(env({ KUBERNETES_SERVICE_HOST: "10.96.0.1" }), memoryFiles(SA_FILES)),
    {
      message: "Not running in a cluster: KUBERNETES_SERVICE_PORT is not set; pass --kubeconfig",
    },
  );
  await assert.rejects(
    inClusterConnection(
      env({ KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "https" }),
      memoryFiles(SA_FILES),
    ),
    { message: 'Cannot use KUBERNETES_SERVICE_PORT "https": not a port number' },
  );
});

Deno.test("inClusterConnection() names a missing service account file", async () => {
  const vars = env({ KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" });
  await assert.rejects(inClusterConnection(vars, memoryFiles({ "/sa/token": "t" }), "/sa"), {
    message: `Cannot read the service account CA "/sa/ca.crt": No such file or directory: ` +
      `'/sa/ca.crt'; is automountServiceAccountToken false?`,
  });
  await assert.rejects(inClusterConnection(vars, memoryFiles({ "/sa/ca.crt": CA }), "/sa"), {
    message: `Cannot read token file "/sa/token": No such file or directory: '/sa/token'; ` +
      `is automountServiceAccountToken false?`,
  });
});

Deno.test("inClusterConnection() connects to an HTTPS API with the mounted CA and token", async () => {
  const api = await startApiStandin({
    token: "sa-token",
    pods: [makePod({ name: "web-0", uid: "u1", nodeName: "node-1" })],
  });
  const saDir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${saDir}/ca.crt`, api.caPem!);
    await Deno.writeTextFile(`${saDir}/token`, "sa-token");
    const port = new URL(api.url).port;
    const connection = await inClusterConnection(
      env({ KUBERNETES_SERVICE_HOST: "127.0.0.1", KUBERNETES_SERVICE_PORT: port }),
      denoConnectionDeps,
      saDir,
    );
    const client = createKubeClient(connection, { timeoutMs: API_TIMEOUT_MS });
    try {
      assert.deepEqual((await client.listNodePods("node-1")).map((p) => p.uid), ["u1"]);
    } finally {
      client.close();
    }
  } finally {
    await Deno.remove(saDir, { recursive: true });
    await api.close();
  }
});
