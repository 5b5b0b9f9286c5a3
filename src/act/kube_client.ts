/**
 * The agent's Kubernetes API client: `fetch` plus `Deno.createHttpClient` for TLS, no
 * client library at run time (`@kubernetes/client-node` is imported for its types only).
 *
 * Every request has a timeout, every response body is consumed, a 401 re-reads the token
 * and retries once, and errors say what to do: a missing RBAC verb, the CA that failed
 * to verify the server, the timeout in seconds.
 */
import type { V1Pod, V1PodList, V1Status } from "@kubernetes/client-node";
import type { PodMeta } from "../decide/pod_meta.ts";
import { API_TIMEOUT_MS } from "../config.ts";
import { patchPodStatusWith, type PatchStatusResult } from "./disruption_target.ts";

/** Identifies one pod incarnation: a re-created pod of the same name has another uid. */
export interface PodRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

/** What a DELETE came to. */
export type DeleteResult =
  /** 200/202: the pod is terminating with its own grace period. */
  | { readonly kind: "deleted"; readonly code: number }
  /** 404: already gone. */
  | { readonly kind: "gone"; readonly code: 404 }
  /** 409: `preconditions.uid` failed, the name now belongs to a new pod (left alone). */
  | { readonly kind: "conflict"; readonly code: 409; readonly message: string }
  /** Anything else: code null for a timeout or a network/TLS error. */
  | { readonly kind: "failed"; readonly code: number | null; readonly message: string };

/** What an eviction (`POST …/pods/{name}/eviction`) came to. */
export type EvictResult =
  /** 200/201: the pod is being deleted with its own grace period. */
  | { readonly kind: "evicted"; readonly code: number }
  /**
   * The Eviction API refuses this pod now: 429 (a PodDisruptionBudget allows no disruption,
   * or the server asks to back off), or 500 when more than one PodDisruptionBudget selects
   * it (the API refuses those until the budgets are fixed).
   */
  | { readonly kind: "blocked"; readonly code: 429 | 500; readonly message: string }
  /** 404: already gone. */
  | { readonly kind: "gone"; readonly code: 404 }
  /** 409: `preconditions.uid` failed, the name now belongs to a new pod (left alone). */
  | { readonly kind: "conflict"; readonly code: 409; readonly message: string }
  /** Anything else: code null for a timeout or a network/TLS error. */
  | { readonly kind: "failed"; readonly code: number | null; readonly message: string };

/** Options of one DELETE. */
export interface DeleteOptions {
  /** Server-side dry run (`?dryRun=All`): validated and authorised, nothing deleted. */
  readonly dryRun?: boolean;
}

/** The slice of the Kubernetes API the agent uses. */
export interface KubeApi {
  /** GET /api/v1/pods?fieldSelector=spec.nodeName%3D<node>; throws KubeApiError. */
  listNodePods(nodeName: string): Promise<PodMeta[]>;
  /** DELETE with `preconditions.uid`, no grace override. Never throws. */
  deletePod(ref: PodRef, options?: DeleteOptions): Promise<DeleteResult>;
  /**
   * POST a `policy/v1` Eviction with `deleteOptions.preconditions.uid`, no grace override;
   * PodDisruptionBudgets are honoured by the API server. Never throws.
   */
  evictPod(ref: PodRef): Promise<EvictResult>;
  /** POST /apis/events.k8s.io/v1/namespaces/{ns}/events (body: act/events.ts). Never throws. */
  createEvent(namespace: string, event: object): Promise<CreateEventResult>;
  /**
   * PATCH /api/v1/namespaces/{ns}/pods/{name}/status, strategic merge (act/disruption_target.ts).
   * Optional: an API without it sets no condition. Never throws.
   */
  patchPodStatus?(ref: PodRef, patch: object): Promise<PatchStatusResult>;
}

/** What an Event POST came to. */
export type CreateEventResult =
  | { readonly kind: "created"; readonly code: number }
  /** Code null for a timeout or a network/TLS error. */
  | { readonly kind: "failed"; readonly code: number | null; readonly message: string };

/** A failed API call, with the HTTP code (null: timeout, network or TLS). */
export class KubeApiError extends Error {
  readonly code: number | null;
  constructor(message: string, code: number | null) {
    super(message);
    this.name = "KubeApiError";
    this.code = code;
  }
}

/** A bearer token that can change (projected service-account tokens are rotated). */
export interface TokenSource {
  /** The current token; may be cached. Null: send no Authorization header. */
  get(): Promise<string | null>;
  /** Drop any cached token: the next get() re-reads it (called on a 401). */
  invalidate(): void;
}

/** Where the API server is and how to authenticate to it (in-cluster or a kubeconfig). */
export interface KubeConnection {
  /** Base URL, `https://host:port` or `http://host:port`, no trailing path. */
  readonly server: string;
  /** PEM CA bundle that signs the server's certificate; null: the system trust store. */
  readonly caPem: string | null;
  /** Where `caPem` came from, for TLS error messages (e.g. a file path). */
  readonly caSource?: string;
  /**
   * The kubeconfig's `insecure-skip-tls-verify`. Deno's fetch cannot skip verification
   * for one client (only the process-wide `--unsafely-ignore-certificate-errors` flag can),
   * so this only changes the hint given when verification fails.
   */
  readonly insecureSkipTlsVerify: boolean;
  /** PEM client certificate (chain) for mutual TLS; null: none. */
  readonly clientCertPem: string | null;
  /** PEM private key of `clientCertPem`. */
  readonly clientKeyPem: string | null;
  /** Bearer token; null: none. */
  readonly token: TokenSource | null;
}

/** Options of {@linkcode createKubeClient}. */
export interface KubeClientOptions {
  /** Per-request timeout, headers and body, ms. Default API_TIMEOUT_MS (10 s). */
  readonly timeoutMs?: number;
  /** Called once per HTTP exchange with the verb and the status (null: no response). */
  readonly onRequest?: (verb: string, code: number | null) => void;
}

/** A KubeApi backed by HTTP; close() releases its TLS client. */
export type KubeClient = KubeApi & {
  /**
   * One cheap authenticated call, `GET /api/v1/namespaces/{ns}/pods?limit=1`, for the
   * startup readiness check; throws KubeApiError.
   */
  checkConnectivity(namespace: string): Promise<void>;
  close(): void;
};

/** One completed exchange: the status and the parsed JSON body (null if not JSON). */
interface Exchange {
  readonly status: number;
  readonly body: unknown;
}

/** Creates a client; throws KubeApiError (code null) for a bad server URL or bad PEM. */
export function createKubeClient(
  connection: KubeConnection,
  options: KubeClientOptions = {},
): KubeClient {
  const timeoutMs = options.timeoutMs ?? API_TIMEOUT_MS;
  const onRequest = options.onRequest ?? (() => {});
  const server = parseServer(connection.server);
  const caSource = connection.caSource ??
    (connection.caPem === null ? "the system trust store" : "the configured CA");
  const httpClient = createTlsClient(connection, caSource);
  let closed = false;

  /** One HTTP exchange with its own timeout; the body is always read to the end. */
  async function exchangeOnce(
    method: string,
    pathAndQuery: string,
    body: unknown,
    token: string | null,
    contentType = "application/json",
  ): Promise<Exchange> {
    if (closed) throw new KubeApiError(`Cannot call the API server: the client is closed`, null);
    const headers = new Headers({ "Accept": "application/json", "User-Agent": "kube-soomkiller" });
    if (token !== null) headers.set("Authorization", `Bearer ${token}`);
    if (body !== undefined) headers.set("Content-Type", contentType);
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    let status: number | null = null;
    try {
      const response = await fetch(`${server}${pathAndQuery}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: abort.signal,
        client: httpClient,
      });
      status = response.status;
      const text = await response.text();
      return { status, body: parseJson(text) };
    } catch (error) {
      if (abort.signal.aborted) {
        throw new KubeApiError(
          `${method} "${pathAndQuery}" timed out after ${formatSeconds(timeoutMs)}`,
          null,
        );
      }
      throw new KubeApiError(describeNetworkError(server, error, caSource, connection), null);
    } finally {
      clearTimeout(timer);
      onRequest(method, status);
    }
  }

  /** An exchange with the token; on 401 the token is re-read and the request sent once more. */
  async function exchange(
    method: string,
    pathAndQuery: string,
    body?: unknown,
    contentType?: string,
  ) {
    const tokens = connection.token;
    const token = await readToken(tokens);
    const first = await exchangeOnce(method, pathAndQuery, body, token, contentType);
    if (first.status !== 401 || tokens === null) return first;
    tokens.invalidate();
    return await exchangeOnce(method, pathAndQuery, body, await readToken(tokens), contentType);
  }

  async function listNodePods(nodeName: string): Promise<PodMeta[]> {
    const query = `fieldSelector=${encodeURIComponent(`spec.nodeName=${nodeName}`)}` +
      `&resourceVersion=0`;
    const { status, body } = await exchange("GET", `/api/v1/pods?${query}`);
    if (status < 200 || status > 299) {
      if (status === 403) {
        throw new KubeApiError(
          `RBAC forbids list pods: grant verb "list" on "pods" (all namespaces) to the agent's ` +
            `service account: ${statusDetail(status, body)}`,
          status,
        );
      }
      throw new KubeApiError(
        `Cannot list pods on node "${nodeName}": ${statusDetail(status, body)}`,
        status,
      );
    }
    const items = (body as Partial<V1PodList> | null)?.items;
    if (!Array.isArray(items)) {
      throw new KubeApiError(
        `Cannot list pods on node "${nodeName}": the response is not a PodList`,
        status,
      );
    }
    const pods: PodMeta[] = [];
    for (const item of items) {
      const pod = toPodMeta(item, nodeName);
      if (pod !== null) pods.push(pod);
    }
    return pods;
  }

  async function deletePod(ref: PodRef, options: DeleteOptions = {}): Promise<DeleteResult> {
    const path = `/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/pods/` +
      encodeURIComponent(ref.name) + (options.dryRun ? "?dryRun=All" : "");
    const deleteOptions = {
      apiVersion: "v1",
      kind: "DeleteOptions",
      preconditions: { uid: ref.uid },
    };
    const what = `pod "${ref.namespace}/${ref.name}"`;
    let result: Exchange;
    try {
      result = await exchange("DELETE", path, deleteOptions);
    } catch (error) {
      const code = error instanceof KubeApiError ? error.code : null;
      return { kind: "failed", code, message: `Cannot delete ${what}: ${errorMessage(error)}` };
    }
    const { status, body } = result;
    if (status === 200 || status === 202) return { kind: "deleted", code: status };
    if (status === 404) return { kind: "gone", code: 404 };
    if (status === 409) {
      return { kind: "conflict", code: 409, message: statusDetail(status, body) };
    }
    if (status === 403) {
      return {
        kind: "failed",
        code: status,
        message: `RBAC forbids delete pods: grant verb "delete" on "pods" to the agent's ` +
          `service account: ${statusDetail(status, body)}`,
      };
    }
    return {
      kind: "failed",
      code: status,
      message: `Cannot delete ${what}: ${statusDetail(status, body)}`,
    };
  }

  async function evictPod(ref: PodRef): Promise<EvictResult> {
    const path = `/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/pods/` +
      `${encodeURIComponent(ref.name)}/eviction`;
    const eviction = {
      apiVersion: "policy/v1",
      kind: "Eviction",
      metadata: { name: ref.name, namespace: ref.namespace },
      deleteOptions: { preconditions: { uid: ref.uid } },
    };
    const what = `pod "${ref.namespace}/${ref.name}"`;
    let result: Exchange;
    try {
      result = await exchange("POST", path, eviction);
    } catch (error) {
      const code = error instanceof KubeApiError ? error.code : null;
      return { kind: "failed", code, message: `Cannot evict ${what}: ${errorMessage(error)}` };
    }
    const { status, body } = result;
    if (status === 200 || status === 201) return { kind: "evicted", code: status };
    if (status === 429) {
      return {
        kind: "blocked",
        code: 429,
        message: `Eviction of ${what} blocked: ${statusDetail(status, body)}`,
      };
    }
    if (status === 404) return { kind: "gone", code: 404 };
    if (status === 409) {
      return { kind: "conflict", code: 409, message: statusDetail(status, body) };
    }
    const detail = statusDetail(status, body);
    if (status === 500 && /more than one PodDisruptionBudget/i.test(detail)) {
      return {
        kind: "blocked",
        code: 500,
        message: `Cannot evict ${what}: more than one PodDisruptionBudget selects it and the ` +
          `Eviction API refuses such pods; leave one budget per pod or use ` +
          `--termination-mode=delete: ${detail}`,
      };
    }
    if (status === 403) {
      return {
        kind: "failed",
        code: status,
        message: `RBAC forbids create pods/eviction: grant verb "create" on "pods/eviction" to ` +
          `the agent's service account: ${detail}`,
      };
    }
    return { kind: "failed", code: status, message: `Cannot evict ${what}: ${detail}` };
  }

  async function createEvent(namespace: string, event: object): Promise<CreateEventResult> {
    const path = `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/events`;
    let result: Exchange;
    try {
      result = await exchange("POST", path, event);
    } catch (error) {
      const code = error instanceof KubeApiError ? error.code : null;
      return { kind: "failed", code, message: `Cannot create an Event: ${errorMessage(error)}` };
    }
    const { status, body } = result;
    if (status >= 200 && status <= 299) return { kind: "created", code: status };
    const hint = status === 403
      ? `RBAC forbids create events: grant verb "create" on "events" (events.k8s.io) to the ` +
        `agent's service account: `
      : "Cannot create an Event: ";
    return { kind: "failed", code: status, message: hint + statusDetail(status, body) };
  }

  async function checkConnectivity(namespace: string): Promise<void> {
    const { status, body } = await exchange(
      "GET",
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods?limit=1`,
    );
    if (status < 200 || status > 299) {
      throw new KubeApiError(
        `Cannot list pods in namespace "${namespace}": ${statusDetail(status, body)}`,
        status,
      );
    }
  }

  return {
    listNodePods,
    deletePod,
    evictPod,
    createEvent,
    patchPodStatus: (ref, patch) => patchPodStatusWith(exchange, ref, patch),
    checkConnectivity,
    close() {
      if (closed) return;
      closed = true;
      httpClient?.close();
    },
  };
}

/** Maps one item of a PodList; null when it lacks the identity fields. */
function toPodMeta(pod: V1Pod, nodeName: string): PodMeta | null {
  const meta = pod.metadata;
  if (!meta?.uid || !meta.name || !meta.namespace) return null;
  const annotations = meta.annotations ?? {};
  return {
    uid: meta.uid,
    namespace: meta.namespace,
    name: meta.name,
    nodeName: pod.spec?.nodeName ?? nodeName,
    terminating: meta.deletionTimestamp !== undefined && meta.deletionTimestamp !== null,
    mirrorOfUid: annotations["kubernetes.io/config.mirror"] ?? null,
    priority: pod.spec?.priority ?? null,
    terminationGracePeriodSeconds: pod.spec?.terminationGracePeriodSeconds ?? null,
    annotations,
  };
}

/** Checks the server URL and drops a trailing slash. */
function parseServer(server: string): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new KubeApiError(
      `Cannot use API server "${server}": not a URL (expected https://host:port)`,
      null,
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new KubeApiError(`Cannot use API server "${server}": the scheme must be https`, null);
  }
  if (url.search !== "" || url.hash !== "") {
    throw new KubeApiError(`Cannot use API server "${server}": it has a query or fragment`, null);
  }
  return server.replace(/\/+$/, "");
}

/** A Deno HttpClient when a CA or a client certificate is given; undefined otherwise. */
function createTlsClient(
  connection: KubeConnection,
  caSource: string,
): Deno.HttpClient | undefined {
  const { caPem, clientCertPem, clientKeyPem } = connection;
  if ((clientCertPem === null) !== (clientKeyPem === null)) {
    throw new KubeApiError(
      `Cannot use the client certificate: ${
        clientCertPem === null ? "a key is given without a certificate" : "the key is missing"
      }`,
      null,
    );
  }
  if (caPem !== null && !caPem.includes("-----BEGIN CERTIFICATE-----")) {
    // Deno accepts a CA without certificates silently and then fails every handshake.
    throw new KubeApiError(`Cannot use the CA from ${caSource}: no PEM certificate found`, null);
  }
  if (caPem === null && clientCertPem === null) return undefined;
  const caCerts = caPem === null ? [] : [caPem];
  try {
    return clientCertPem !== null && clientKeyPem !== null
      ? Deno.createHttpClient({ caCerts, cert: clientCertPem, key: clientKeyPem })
      : Deno.createHttpClient({ caCerts });
  } catch (error) {
    throw new KubeApiError(
      `Cannot use the ${clientCertPem !== null ? "client certificate" : "CA"}: ${
        errorMessage(error)
      }`,
      null,
    );
  }
}

async function readToken(tokens: TokenSource | null): Promise<string | null> {
  if (tokens === null) return null;
  try {
    return await tokens.get();
  } catch (error) {
    throw new KubeApiError(`Cannot read the bearer token: ${errorMessage(error)}`, null);
  }
}

/** `HTTP 409 Conflict: <Status.message>`, from a Status body when there is one. */
function statusDetail(code: number, body: unknown): string {
  const status = body as Partial<V1Status> | null;
  const reason = typeof status?.reason === "string" && status.reason !== ""
    ? ` ${status.reason}`
    : "";
  const message = typeof status?.message === "string" && status.message !== ""
    ? `: ${status.message}`
    : "";
  return `HTTP ${code}${reason}${message}`;
}

/** A fetch failure in words, naming the CA for certificate errors. */
function describeNetworkError(
  server: string,
  error: unknown,
  caSource: string,
  connection: KubeConnection,
): string {
  const raw = errorMessage(error);
  const detail = tlsDetail(raw);
  const prefix = `Cannot reach the API server "${server}"`;
  if (/invalid peer certificate/i.test(raw)) {
    const hint = connection.insecureSkipTlsVerify
      ? `; insecure-skip-tls-verify cannot be honoured per client in Deno: give the cluster's ` +
        `CA or run with --unsafely-ignore-certificate-errors`
      : "";
    return `${prefix}: TLS verification against ${caSource} failed: ${detail}${hint}`;
  }
  if (/fatal alert: CertificateRequired/i.test(raw)) {
    return `${prefix}: TLS handshake failed: the server requires a client certificate (${detail})`;
  }
  if (/fatal alert/i.test(raw)) {
    const check = connection.clientCertPem === null ? "" : " (check the client certificate)";
    return `${prefix}: TLS handshake failed: the server refused it${check}: ${detail}`;
  }
  if (/certificate|tls|handshake/i.test(raw)) return `${prefix}: TLS handshake failed: ${detail}`;
  return `${prefix}: ${detail}`;
}

/** The interesting tail of a rustls error ("invalid peer certificate: UnknownIssuer"). */
function tlsDetail(detail: string): string {
  const match = detail.match(/\(Connect\):\s*(.*)$/);
  return match?.[1] ?? detail;
}

/** The message of an error, including the cause Deno's fetch hides it in. */
function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause.message : null;
  return cause ?? error.message;
}

function parseJson(text: string): unknown {
  if (text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}
