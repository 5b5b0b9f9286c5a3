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
  /**
   * The server may have acted: a 5xx, a timeout or a lost connection after the request was
   * sent, a broken or unexpected 2xx body (204, not JSON). Treat as possibly done and read
   * the pod back before trying anything else.
   */
  | { readonly kind: "unknown"; readonly code: number | null; readonly message: string }
  /**
   * Refused outright (4xx, or nothing was sent): code null when no request went out.
   * `retryAfterMs`: the server's Retry-After, when it sent one.
   */
  | {
    readonly kind: "failed";
    readonly code: number | null;
    readonly message: string;
    readonly retryAfterMs?: number;
  };

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
  /** The server may have acted (see {@linkcode DeleteResult}). */
  | { readonly kind: "unknown"; readonly code: number | null; readonly message: string }
  /** Refused outright (4xx, or nothing was sent); `retryAfterMs` as for a DELETE. */
  | {
    readonly kind: "failed";
    readonly code: number | null;
    readonly message: string;
    readonly retryAfterMs?: number;
  };

/** What reading one pod back came to (after a write whose outcome is unknown). */
export type PodReadResult =
  /** 404, or the name now belongs to another uid: the pod acted on is gone. */
  | { readonly kind: "gone" }
  /** Same uid, `deletionTimestamp` set: the delete or eviction took effect. */
  | { readonly kind: "terminating" }
  /** Same uid, no `deletionTimestamp`: the write did not happen. */
  | { readonly kind: "running" }
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
  /**
   * GET one pod, to learn what a write with an unknown outcome did. Never throws. Optional:
   * without it an unknown outcome counts as done (never retried).
   */
  getPod?(ref: PodRef): Promise<PodReadResult>;
}

/** What an Event POST came to. */
export type CreateEventResult =
  | { readonly kind: "created"; readonly code: number }
  /** Code null for a timeout or a network/TLS error. */
  | { readonly kind: "failed"; readonly code: number | null; readonly message: string };

/** A failed API call, with the HTTP code (null: timeout, network or TLS). */
export class KubeApiError extends Error {
  readonly code: number | null;
  /** The server's `Retry-After`, ms, when it sent one (429, 503). */
  readonly retryAfterMs: number | null;
  /**
   * False when the request certainly never reached the server (bad settings, a closed
   * client, an unreadable token, a refused connection or a failed TLS handshake).
   */
  readonly sent: boolean;
  constructor(
    message: string,
    code: number | null,
    options: { retryAfterMs?: number | null; sent?: boolean } = {},
  ) {
    super(message);
    this.name = "KubeApiError";
    this.code = code;
    this.retryAfterMs = options.retryAfterMs ?? null;
    this.sent = options.sent ?? code !== null;
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
  /**
   * Called when a LIST left out malformed items, with why for each (e.g. `item 3: not an
   * object`). The other pods are returned.
   */
  readonly onSkippedItems?: (reasons: readonly string[]) => void;
  /**
   * Accept an `http://` server (the token goes over the network in clear text). Default
   * false: only https.
   */
  readonly allowInsecureHttp?: boolean;
  /** Largest response body read, bytes; a larger one fails the call. Default 16 MiB. */
  readonly maxResponseBytes?: number;
  /** Pods per LIST page (`limit`). Default {@linkcode LIST_PAGE_SIZE}. */
  readonly listPageSize?: number;
}

/** Pods per LIST page: a normal node (at most 500 pods) is one request. */
export const LIST_PAGE_SIZE = 500;

/** Pages of one LIST before the client gives up (500,000 pods at the default page size). */
const MAX_LIST_PAGES = 1000;

/** Default {@linkcode KubeClientOptions.maxResponseBytes}: a node's PodList is far smaller. */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

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
  /** `Retry-After` in ms, when sent. */
  readonly retryAfterMs: number | null;
}

/** Creates a client; throws KubeApiError (code null) for a bad server URL or bad PEM. */
export function createKubeClient(
  connection: KubeConnection,
  options: KubeClientOptions = {},
): KubeClient {
  const timeoutMs = options.timeoutMs ?? API_TIMEOUT_MS;
  const maxResponseBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
  const onRequest = options.onRequest ?? (() => {});
  const onSkippedItems = options.onSkippedItems ?? (() => {});
  const listPageSize = options.listPageSize ?? LIST_PAGE_SIZE;
  const server = parseServer(connection.server, options.allowInsecureHttp ?? false);
  const caSource = connection.caSource ??
    (connection.caPem === null ? "the system trust store" : "the configured CA");
  const httpClient = createTlsClient(connection, caSource);
  let closed = false;

  /**
   * One HTTP exchange with its own timeout; the body is read to the end (at most
   * `maxResponseBytes`). Redirects are errors: a 3xx is returned as is, never followed.
   */
  async function exchangeOnce(
    method: string,
    pathAndQuery: string,
    body: unknown,
    token: string | null,
    contentType = "application/json",
  ): Promise<Exchange> {
    if (closed) {
      throw new KubeApiError(`Cannot call the API server: the client is closed`, null, {
        sent: false,
      });
    }
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
        redirect: "manual",
      });
      status = response.status;
      const text = await readCapped(response, maxResponseBytes, `${method} "${pathAndQuery}"`);
      return {
        status,
        body: parseJson(text),
        retryAfterMs: parseRetryAfter(response.headers.get("retry-after")),
      };
    } catch (error) {
      if (error instanceof KubeApiError) throw error;
      if (abort.signal.aborted) {
        throw new KubeApiError(
          `${method} "${pathAndQuery}" timed out after ${formatSeconds(timeoutMs)}`,
          null,
          { sent: true },
        );
      }
      const message = describeNetworkError(server, error, caSource, connection);
      // A refused connection or a failed handshake sent nothing; anything else may have.
      const sent = status !== null || !NOT_SENT.test(errorMessage(error));
      throw new KubeApiError(message, status, { sent });
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

  /**
   * The node's pods, read in pages of `listPageSize` (`limit`, then `continue`), each page
   * parsed, reduced to PodMeta records and dropped before the next is fetched: the peak
   * is bounded by a page, not the node. A node of up to `listPageSize` pods is one request.
   * The first page asks for `resourceVersion=0` (served from the API server's watch cache;
   * a server whose cache ignores `limit` there answers with everything in one page); the
   * next carry only the server's continue token, which holds the snapshot they read. A 410
   * on a continue token (expired, typically after 5 min of etcd compaction) restarts the
   * list from scratch, once: pages of two snapshots are never mixed.
   */
  async function listNodePods(nodeName: string): Promise<PodMeta[]> {
    const base = `/api/v1/pods?fieldSelector=${
      encodeURIComponent(`spec.nodeName=${nodeName}`)
    }&limit=${listPageSize}`;
    const what = `Cannot list pods on node "${nodeName}"`;
    for (let restarts = 0;; restarts++) {
      const pods: PodMeta[] = [];
      const skipped: string[] = [];
      let token: string | null = null;
      for (let page = 1;; page++) {
        const path: string = token === null
          ? `${base}&resourceVersion=0`
          : `${base}&continue=${encodeURIComponent(token)}`;
        const { status, body, retryAfterMs } = await exchange("GET", path);
        const at = page === 1 ? "" : ` (page ${page})`;
        if (status === 410 && token !== null) {
          if (restarts >= 1) {
            throw new KubeApiError(
              `${what}: the continue token expired again (${
                statusDetail(status, body)
              }) after the list was restarted`,
              status,
            );
          }
          break; // From scratch: pages of two snapshots are never mixed.
        }
        if (status < 200 || status > 299) {
          if (status === 403) {
            throw new KubeApiError(
              `RBAC forbids list pods: grant verb "list" on "pods" (all namespaces) to the ` +
                `agent's service account: ${statusDetail(status, body)}`,
              status,
            );
          }
          throw new KubeApiError(`${what}${at}: ${statusDetail(status, body)}`, status, {
            retryAfterMs,
          });
        }
        const list = body as Partial<V1PodList> | null;
        const items = list?.items;
        if (!Array.isArray(items)) {
          throw new KubeApiError(`${what}${at}: the response is not a PodList`, status);
        }
        // One malformed item costs that pod, never the node: it is left out and counted.
        for (const item of items) {
          const pod = toPodMeta(item, nodeName);
          if (typeof pod === "string") skipped.push(pod);
          else pods.push(pod);
        }
        // `continue` on the wire (`_continue` in the client library's model).
        const next = (list?.metadata as Record<string, unknown> | undefined)?.["continue"];
        if (next === undefined || next === null || next === "") {
          if (skipped.length > 0) onSkippedItems(skipped);
          return pods;
        }
        if (typeof next !== "string") {
          throw new KubeApiError(
            `${what}${at}: metadata.continue is not a string but ${
              JSON.stringify(next)?.slice(0, 80)
            }`,
            status,
          );
        }
        if (next === token || page >= MAX_LIST_PAGES) {
          throw new KubeApiError(
            `${what}${at}: the server is still paging after ${page} pages of ` +
              `${listPageSize} (${next === token ? "the same continue token twice" : "too many"})`,
            status,
          );
        }
        token = next;
      }
    }
  }

  async function deletePod(ref: PodRef, options: DeleteOptions = {}): Promise<DeleteResult> {
    const invalid = invalidRef(ref);
    if (invalid !== null) return { kind: "failed", code: null, message: invalid };
    const path = `/api/v1/namespaces/${ref.namespace}/pods/${ref.name}` +
      (options.dryRun ? "?dryRun=All" : "");
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
      return writeError(error, `Cannot delete ${what}`);
    }
    const { status, body } = result;
    if (status === 200 || status === 202) {
      if (isObject(body)) return { kind: "deleted", code: status };
      return {
        kind: "unknown",
        code: status,
        message: `Delete of ${what} answered HTTP ${status} without a JSON object: it may ` +
          `have happened`,
      };
    }
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
    return answerOfWrite(status, body, `Cannot delete ${what}`, result.retryAfterMs);
  }

  async function evictPod(ref: PodRef): Promise<EvictResult> {
    const invalid = invalidRef(ref);
    if (invalid !== null) return { kind: "failed", code: null, message: invalid };
    const path = `/api/v1/namespaces/${ref.namespace}/pods/${ref.name}/eviction`;
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
      return writeError(error, `Cannot evict ${what}`);
    }
    const { status, body } = result;
    if (status === 200 || status === 201) {
      if (isObject(body)) return { kind: "evicted", code: status };
      return {
        kind: "unknown",
        code: status,
        message: `Eviction of ${what} answered HTTP ${status} without a JSON object: it may ` +
          `have happened`,
      };
    }
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
    return answerOfWrite(status, body, `Cannot evict ${what}`, result.retryAfterMs);
  }

  async function getPod(ref: PodRef): Promise<PodReadResult> {
    const invalid = invalidRef(ref);
    if (invalid !== null) return { kind: "failed", code: null, message: invalid };
    const what = `pod "${ref.namespace}/${ref.name}"`;
    let result: Exchange;
    try {
      result = await exchange("GET", `/api/v1/namespaces/${ref.namespace}/pods/${ref.name}`);
    } catch (error) {
      const code = error instanceof KubeApiError ? error.code : null;
      return { kind: "failed", code, message: `Cannot read ${what}: ${errorMessage(error)}` };
    }
    const { status, body } = result;
    if (status === 404) return { kind: "gone" };
    if (status !== 200 || !isObject(body)) {
      return {
        kind: "failed",
        code: status,
        message: `Cannot read ${what}: ${statusDetail(status, body)}`,
      };
    }
    const meta = (body as V1Pod).metadata;
    if (meta?.uid !== ref.uid) return { kind: "gone" };
    return meta.deletionTimestamp !== undefined && meta.deletionTimestamp !== null
      ? { kind: "terminating" }
      : { kind: "running" };
  }

  async function createEvent(namespace: string, event: object): Promise<CreateEventResult> {
    if (!isDns1123Label(namespace)) {
      return {
        kind: "failed",
        code: null,
        message: `Cannot create an Event: namespace ${JSON.stringify(namespace)} is not a ` +
          `DNS-1123 label`,
      };
    }
    const path = `/apis/events.k8s.io/v1/namespaces/${namespace}/events`;
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
    if (!isDns1123Label(namespace)) {
      throw new KubeApiError(
        `Cannot check the API: namespace ${JSON.stringify(namespace)} is not a DNS-1123 label`,
        null,
        { sent: false },
      );
    }
    const { status, body, retryAfterMs } = await exchange(
      "GET",
      `/api/v1/namespaces/${namespace}/pods?limit=1`,
    );
    if (status < 200 || status > 299) {
      throw new KubeApiError(
        `Cannot list pods in namespace "${namespace}": ${statusDetail(status, body)}`,
        status,
        { retryAfterMs },
      );
    }
  }

  return {
    listNodePods,
    deletePod,
    evictPod,
    createEvent,
    patchPodStatus: (ref, patch) => patchPodStatusWith(exchange, ref, patch),
    getPod,
    checkConnectivity,
    close() {
      if (closed) return;
      closed = true;
      httpClient?.close();
    },
  };
}

/**
 * Maps one item of a PodList; a string (why) when it cannot be one of this node's pods: not
 * an object, no valid name, namespace or uid, or `spec.nodeName` naming another node.
 * Malformed optional fields (a non-string annotation, a non-numeric priority) are dropped
 * field by field.
 */
function toPodMeta(pod: unknown, nodeName: string): PodMeta | string {
  if (!isObject(pod)) return "not an object";
  const meta = (pod as V1Pod).metadata as unknown;
  if (!isObject(meta)) return "no metadata";
  const { uid, name, namespace } = meta as Record<string, unknown>;
  if (typeof uid !== "string" || uid === "") return "no metadata.uid";
  if (typeof name !== "string" || !isDns1123Subdomain(name)) {
    return `metadata.name ${JSON.stringify(name)?.slice(0, 80)} is not a DNS-1123 subdomain`;
  }
  if (typeof namespace !== "string" || !isDns1123Label(namespace)) {
    return `metadata.namespace ${JSON.stringify(namespace)?.slice(0, 80)} is not a DNS-1123 label`;
  }
  const spec = isObject((pod as V1Pod).spec) ? (pod as V1Pod).spec! : {};
  const listedNode = (spec as Record<string, unknown>).nodeName;
  if (listedNode !== undefined && listedNode !== null && listedNode !== nodeName) {
    return `${namespace}/${name} is on node ${JSON.stringify(listedNode).slice(0, 80)}, not ` +
      `${JSON.stringify(nodeName)}`;
  }
  const rawAnnotations = (meta as Record<string, unknown>).annotations;
  const annotations: Record<string, string> = {};
  if (isObject(rawAnnotations)) {
    for (const [key, value] of Object.entries(rawAnnotations as Record<string, unknown>)) {
      if (typeof value === "string") annotations[key] = value;
    }
  }
  const deletion = (meta as Record<string, unknown>).deletionTimestamp;
  const priority = (spec as Record<string, unknown>).priority;
  const grace = (spec as Record<string, unknown>).terminationGracePeriodSeconds;
  return {
    uid,
    namespace,
    name,
    nodeName,
    terminating: deletion !== undefined && deletion !== null,
    mirrorOfUid: annotations["kubernetes.io/config.mirror"] ?? null,
    priority: typeof priority === "number" && Number.isFinite(priority) ? priority : null,
    terminationGracePeriodSeconds: typeof grace === "number" && Number.isFinite(grace) && grace >= 0
      ? grace
      : null,
    annotations,
  };
}

function isObject(value: unknown): value is object {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A Kubernetes namespace: a DNS-1123 label (RFC 1123), at most 63 characters. */
export function isDns1123Label(text: string): boolean {
  return text.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(text);
}

/** A Kubernetes pod name: a DNS-1123 subdomain, at most 253 characters. */
export function isDns1123Subdomain(text: string): boolean {
  return text.length <= 253 &&
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(text);
}

/** Why a pod reference cannot become a path (`..`, a slash, upper case), or null. */
function invalidRef(ref: PodRef): string | null {
  if (!isDns1123Label(ref.namespace)) {
    return `Refusing to build a path for namespace ${
      JSON.stringify(ref.namespace).slice(0, 80)
    }: not a DNS-1123 label`;
  }
  if (!isDns1123Subdomain(ref.name)) {
    return `Refusing to build a path for pod name ${
      JSON.stringify(ref.name).slice(0, 80)
    }: not a DNS-1123 subdomain`;
  }
  return null;
}

/** A write that threw: unknown when it may have reached the server, failed otherwise. */
function writeError(error: unknown, prefix: string): DeleteResult & EvictResult {
  const code = error instanceof KubeApiError ? error.code : null;
  const sent = error instanceof KubeApiError ? error.sent : true;
  const message = `${prefix}: ${errorMessage(error)}`;
  return sent
    ? { kind: "unknown", code, message: `${message} (it may have happened)` }
    : { kind: "failed", code, message };
}

/** The rest of a write's answers: 5xx and odd 2xx are unknown, 3xx and 4xx refusals. */
function answerOfWrite(
  status: number,
  body: unknown,
  prefix: string,
  retryAfterMs: number | null,
): DeleteResult & EvictResult {
  const detail = statusDetail(status, body);
  if (status >= 300 && status <= 399) {
    return {
      kind: "failed",
      code: status,
      message: `${prefix}: ${detail}: the API server answered with a redirect, which is never ` +
        `followed (check the server URL)`,
    };
  }
  if (status >= 400 && status <= 499) {
    return {
      kind: "failed",
      code: status,
      message: `${prefix}: ${detail}`,
      ...(retryAfterMs === null ? {} : { retryAfterMs }),
    };
  }
  return { kind: "unknown", code: status, message: `${prefix}: ${detail} (it may have happened)` };
}

/** Reads a body to the end, failing once it passes `limit` bytes. */
async function readCapped(response: Response, limit: number, what: string): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel();
    throw new KubeApiError(
      `${what}: the response of ${declared} bytes is over the ${limit}-byte limit`,
      response.status,
    );
  }
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw new KubeApiError(
        `${what}: the response is over the ${limit}-byte limit`,
        response.status,
      );
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/** `Retry-After` (seconds or an HTTP date) in ms; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number = Date.now()): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^\d{1,9}$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

/**
 * Network errors that mean no request reached the server: those of the connect phase
 * (reqwest's "(Connect)": TCP connect, DNS, the TLS handshake). Any other error, e.g. a
 * reset or a TLS close after the request went out, may follow a committed write.
 */
const NOT_SENT = /\(Connect\)|connection refused|failed to lookup address|dns error/i;

/**
 * Checks the server URL and drops a trailing slash. `http://` only with
 * `allowInsecureHttp` (the bearer token would cross the network in clear text); a URL with
 * `user:pass@` is refused and never repeated with its password.
 */
function parseServer(server: string, allowInsecureHttp: boolean): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new KubeApiError(
      `Cannot use API server ${
        JSON.stringify(redactUrl(server))
      }: not a URL (expected https://host:port)`,
      null,
      { sent: false },
    );
  }
  if (url.username !== "" || url.password !== "") {
    throw new KubeApiError(
      `Cannot use API server "${redactUrl(server)}": credentials in the URL are not ` +
        `supported (use a token or a client certificate)`,
      null,
      { sent: false },
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new KubeApiError(`Cannot use API server "${server}": the scheme must be https`, null, {
      sent: false,
    });
  }
  if (url.protocol === "http:" && !allowInsecureHttp) {
    throw new KubeApiError(
      `Cannot use API server "${server}": plain http:// would send the bearer token in clear ` +
        `text; use https://, or pass --allow-insecure-http if you accept that`,
      null,
      { sent: false },
    );
  }
  if (url.search !== "" || url.hash !== "") {
    throw new KubeApiError(`Cannot use API server "${server}": it has a query or fragment`, null, {
      sent: false,
    });
  }
  return server.replace(/\/+$/, "");
}

/** A URL for a message, with any `user:pass@` replaced by `***@`. */
export function redactUrl(server: string): string {
  return server.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, "$1***@");
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
