/**
 * The agent's Kubernetes API client: {@linkcode createKubeClient} puts together the
 * transport (kube_transport.ts: TLS, timeouts, body caps, Retry-After, the 401 retry), the
 * pod reads (pod_list.ts), the pod writes and Events (pod_writes.ts) and the status patch
 * (disruption_target.ts).
 *
 * Errors say what to do: a missing RBAC verb, the CA that failed to verify the server, the
 * timeout in seconds. The API's types live in kube_api.ts and are re-exported here, so
 * callers import the client and its vocabulary from one place.
 */
import type { KubeApi, KubeConnection } from "./kube_api.ts";
import { patchPodStatusWith } from "./disruption_target.ts";
import { checkConnectivity, LIST_PAGE_SIZE, listNodePods } from "./pod_list.ts";
import { createEvent, deletePod, evictPod, getPod } from "./pod_writes.ts";
import { createTransport } from "./kube_transport.ts";

export type {
  CreateEventResult,
  DeleteOptions,
  DeleteResult,
  EvictResult,
  KubeApi,
  KubeConnection,
  PatchStatusResult,
  PodReadResult,
  PodRef,
  TokenSource,
} from "./kube_api.ts";
export { KubeApiError } from "./kube_api.ts";
export { isDns1123Label, isDns1123Subdomain } from "./kube_names.ts";
export { parseRetryAfter, redactUrl } from "./kube_transport.ts";
export { LIST_PAGE_SIZE } from "./pod_list.ts";

/** Options of {@linkcode createKubeClient}. */
export interface KubeClientOptions {
  /** Per-request timeout, headers and body, ms (main.ts: config.ts's API_TIMEOUT_MS). */
  readonly timeoutMs: number;
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
  /** Pods per LIST page (`limit`). Default {@linkcode LIST_PAGE_SIZE} (500). */
  readonly listPageSize?: number;
}

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

/** Creates a client; throws KubeApiError (code null) for a bad server URL or bad PEM. */
export function createKubeClient(
  connection: KubeConnection,
  options: KubeClientOptions,
): KubeClient {
  const onSkippedItems = options.onSkippedItems ?? (() => {});
  const listPageSize = options.listPageSize ?? LIST_PAGE_SIZE;
  const transport = createTransport(connection, {
    timeoutMs: options.timeoutMs,
    maxResponseBytes: options.maxResponseBytes ?? MAX_RESPONSE_BYTES,
    allowInsecureHttp: options.allowInsecureHttp ?? false,
    onRequest: options.onRequest ?? (() => {}),
  });
  const send = transport.send;
  return {
    listNodePods: (nodeName) => listNodePods(send, nodeName, onSkippedItems, listPageSize),
    deletePod: (ref, deleteOptions) => deletePod(send, ref, deleteOptions),
    evictPod: (ref) => evictPod(send, ref),
    createEvent: (namespace, event) => createEvent(send, namespace, event),
    patchPodStatus: (ref, patch) => patchPodStatusWith(send, ref, patch),
    getPod: (ref) => getPod(send, ref),
    checkConnectivity: (namespace) => checkConnectivity(send, namespace),
    close: () => transport.close(),
  };
}
