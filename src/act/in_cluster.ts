/**
 * The in-cluster connection: the API server from the service environment variables the
 * kubelet sets in every container, the CA and the rotated token from the mounted
 * service-account directory.
 */
import type { KubeConnection } from "./kube_client.ts";
import { type ConnectionDeps, fileTokenSource } from "./token_source.ts";

/** Where the kubelet mounts the pod's service-account token, CA and namespace. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** The slice of `Deno.env` this reads. */
export interface EnvReader {
  get(name: string): string | undefined;
}

/**
 * Builds the in-cluster connection. Reads `ca.crt` and checks that `token` is readable
 * now, so a pod without a mounted service account fails at start with a clear error.
 */
export async function inClusterConnection(
  env: EnvReader,
  deps: ConnectionDeps,
  saDir: string = SERVICE_ACCOUNT_DIR,
): Promise<KubeConnection> {
  const { readTextFile } = deps;
  const host = env.get("KUBERNETES_SERVICE_HOST")?.trim();
  if (!host) {
    throw new Error(
      "Not running in a cluster: KUBERNETES_SERVICE_HOST is not set; pass --kubeconfig",
    );
  }
  const port = env.get("KUBERNETES_SERVICE_PORT")?.trim();
  if (!port) {
    throw new Error(
      "Not running in a cluster: KUBERNETES_SERVICE_PORT is not set; pass --kubeconfig",
    );
  }
  if (!/^[0-9]{1,5}$/.test(port)) {
    throw new Error(`Cannot use KUBERNETES_SERVICE_PORT "${port}": not a port number`);
  }
  const server = `https://${
    host.includes(":") && !host.startsWith("[") ? `[${host}]` : host
  }:${port}`;

  const caPath = `${saDir}/ca.crt`;
  let caPem: string;
  try {
    caPem = await readTextFile(caPath);
  } catch (error) {
    throw new Error(
      `Cannot read the service account CA "${caPath}": ${describe(error)}; ` +
        `is automountServiceAccountToken false?`,
    );
  }

  const tokenPath = `${saDir}/token`;
  const token = fileTokenSource(tokenPath, deps);
  try {
    await token.get();
  } catch (error) {
    throw new Error(`${describe(error)}; is automountServiceAccountToken false?`);
  }

  return {
    server,
    caPem,
    caSource: `the service account CA "${caPath}"`,
    insecureSkipTlsVerify: false,
    clientCertPem: null,
    clientKeyPem: null,
    token,
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
