/**
 * The API's reads of pods: the node's pod LIST (each item checked and mapped to a
 * {@linkcode PodMeta}, a malformed one left out) and the readiness probe.
 */
import type { V1Pod, V1PodList } from "@kubernetes/client-node";
import type { PodMeta } from "../decide/pod_meta.ts";
import { KubeApiError } from "./kube_api.ts";
import { isDns1123Label, isDns1123Subdomain, isObject } from "./kube_names.ts";
import { type Send, statusDetail } from "./kube_transport.ts";

/** Pods per LIST page: a normal node (at most 500 pods) is one request. */
export const LIST_PAGE_SIZE = 500;

/** Pages of one LIST before the client gives up (500,000 pods at the default page size). */
const MAX_LIST_PAGES = 1000;

/**
 * GET /api/v1/pods?fieldSelector=spec.nodeName%3D<node>, in pages of `pageSize` (`limit`,
 * then `continue`); throws KubeApiError. `onSkippedItems` hears why each left-out item was
 * left out, once for the whole list.
 *
 * Each page is parsed, reduced to PodMeta records and dropped before the next is fetched:
 * the peak is bounded by a page, not the node. A node of up to `pageSize` pods is one
 * request. The first page asks for `resourceVersion=0` (served from the API server's watch
 * cache; a server whose cache ignores `limit` there answers with everything in one page);
 * the next carry only the server's continue token, which holds the snapshot they read (a
 * server refuses `resourceVersion` with `continue`). A 410 on a continue token (expired,
 * e.g. after etcd compaction) restarts the list from scratch, once: pages of two snapshots
 * are never mixed; a second 410 fails the LIST.
 */
export async function listNodePods(
  send: Send,
  nodeName: string,
  onSkippedItems: (reasons: readonly string[]) => void,
  pageSize: number = LIST_PAGE_SIZE,
): Promise<PodMeta[]> {
  const base = `/api/v1/pods?fieldSelector=${
    encodeURIComponent(`spec.nodeName=${nodeName}`)
  }&limit=${pageSize}`;
  const what = `Cannot list pods on node "${nodeName}"`;
  for (let restarts = 0;; restarts++) {
    const pods: PodMeta[] = [];
    const skipped: string[] = [];
    let token: string | null = null;
    for (let page = 1;; page++) {
      const path: string = token === null
        ? `${base}&resourceVersion=0`
        : `${base}&continue=${encodeURIComponent(token)}`;
      const { status, body, retryAfterMs } = await send("GET", path);
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
          `${what}${at}: the server is still paging after ${page} pages of ${pageSize} (${
            next === token ? "the same continue token twice" : "too many"
          })`,
          status,
        );
      }
      token = next;
    }
  }
}

/**
 * One cheap authenticated call, `GET /api/v1/namespaces/{ns}/pods?limit=1`, for the startup
 * readiness check; throws KubeApiError.
 */
export async function checkConnectivity(send: Send, namespace: string): Promise<void> {
  if (!isDns1123Label(namespace)) {
    throw new KubeApiError(
      `Cannot check the API: namespace ${JSON.stringify(namespace)} is not a DNS-1123 label`,
      null,
      { sent: false },
    );
  }
  const { status, body, retryAfterMs } = await send(
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
    ...nonEmpty("labels", stringMap((meta as Record<string, unknown>).labels)),
    ...nonEmpty("containerNames", containerNames((pod as V1Pod).status)),
  };
}

/** `{ [key]: map }`, or nothing when the map is empty (PodMeta's optional fields). */
function nonEmpty<K extends string>(
  key: K,
  map: Record<string, string>,
): { [k in K]?: Record<string, string> } {
  return (Object.keys(map).length === 0 ? {} : { [key]: map }) as {
    [k in K]?: Record<string, string>;
  };
}

/** A map of strings (labels), its non-string values dropped. */
function stringMap(raw: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(raw)) return out;
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof value === "string") out[key] = value;
  }
  return out;
}

/**
 * Container names by the ID in their cgroup (`containerd://<id>` → `<id>`), init and
 * ephemeral containers included: the per-container metrics' `container` label.
 */
function containerNames(status: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(status)) return out;
  const s = status as Record<string, unknown>;
  for (const list of [s.containerStatuses, s.initContainerStatuses, s.ephemeralContainerStatuses]) {
    if (!Array.isArray(list)) continue;
    for (const item of list) {
      if (!isObject(item)) continue;
      const { name, containerID } = item as Record<string, unknown>;
      if (typeof name !== "string" || typeof containerID !== "string") continue;
      const id = containerID.replace(/^[a-z-]+:\/\//, "");
      if (id !== "") out[id] = name;
    }
  }
  return out;
}
