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

/**
 * Items one LIST may bring, all pages together, before it fails: a node runs at most a few
 * hundred pods (the kubelet's default `maxPods` is 110), so more is a broken or hostile
 * server, and keeping it would grow the agent's memory with every page.
 */
export const MAX_LIST_ITEMS = 5_000;

/** Longest continue token accepted, characters (a real one is a few hundred). */
const MAX_CONTINUE_TOKEN_CHARS = 8_192;

/**
 * GET /api/v1/pods?fieldSelector=spec.nodeName%3D<node>, in pages of `pageSize` (`limit`,
 * then `continue`); throws KubeApiError. `onSkippedItems` hears why each left-out item was
 * left out, once for the whole list.
 *
 * Each page is parsed, reduced to PodMeta records and dropped before the next is fetched,
 * and whatever the server sends, one LIST keeps at most {@linkcode MAX_LIST_ITEMS} items
 * (more fails the LIST), each UID once (a duplicate is left out and reported), in at most
 * `ceil(MAX_LIST_ITEMS / pageSize) + 1` pages, and a continue token seen before in the same
 * list fails it (a server paging in a circle). A node of up to `pageSize` pods is one
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
  const maxPages = Math.ceil(MAX_LIST_ITEMS / pageSize) + 1;
  for (let restarts = 0;; restarts++) {
    const pods = new Map<string, PodMeta>();
    const skipped: string[] = [];
    const tokens = new Set<string>();
    let items = 0;
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
      const pageItems = list?.items;
      if (!Array.isArray(pageItems)) {
        throw new KubeApiError(`${what}${at}: the response is not a PodList`, status);
      }
      items += pageItems.length;
      if (items > MAX_LIST_ITEMS) {
        throw new KubeApiError(
          `${what}${at}: the server sent ${items} pods so far, more than the ${MAX_LIST_ITEMS} ` +
            `one node can hold (pages of ${pageSize} asked for): the list is dropped`,
          status,
        );
      }
      // One malformed item costs that pod, never the node: it is left out and counted.
      for (const item of pageItems) {
        const pod = toPodMeta(item, nodeName);
        if (typeof pod === "string") skipped.push(pod);
        else if (pods.has(pod.uid)) {
          skipped.push(`${pod.namespace}/${pod.name}: uid ${pod.uid} listed twice, kept once`);
        } else pods.set(pod.uid, pod);
      }
      // `continue` on the wire (`_continue` in the client library's model).
      const next = (list?.metadata as Record<string, unknown> | undefined)?.["continue"];
      if (next === undefined || next === null || next === "") {
        if (skipped.length > 0) onSkippedItems(skipped);
        return [...pods.values()];
      }
      if (typeof next !== "string") {
        throw new KubeApiError(
          `${what}${at}: metadata.continue is not a string but ${
            JSON.stringify(next)?.slice(0, 80)
          }`,
          status,
        );
      }
      if (next.length > MAX_CONTINUE_TOKEN_CHARS) {
        throw new KubeApiError(
          `${what}${at}: metadata.continue is ${next.length} characters long (at most ` +
            `${MAX_CONTINUE_TOKEN_CHARS})`,
          status,
        );
      }
      if (tokens.has(next) || page >= maxPages) {
        throw new KubeApiError(
          `${what}${at}: the server is still paging after ${page} pages of ${pageSize} (${
            tokens.has(next)
              ? next === token ? "the same continue token twice" : "a continue token seen before"
              : "too many"
          })`,
          status,
        );
      }
      tokens.add(next);
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
 * an object, no valid name, namespace or uid, or `spec.nodeName` missing or naming another
 * node.
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
  // The fieldSelector promises this node's pods: an item that does not say so is not one.
  if (listedNode !== nodeName) {
    return listedNode === undefined || listedNode === null
      ? `${namespace}/${name} has no spec.nodeName`
      : `${namespace}/${name} is on node ${JSON.stringify(listedNode).slice(0, 80)}, not ` +
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
    mirrorOfUid: kubeletMirrorOf(meta as Record<string, unknown>, annotations, nodeName),
    priority: typeof priority === "number" && Number.isFinite(priority) ? priority : null,
    terminationGracePeriodSeconds: typeof grace === "number" && Number.isFinite(grace) && grace >= 0
      ? grace
      : null,
    annotations,
    ...nonEmpty("labels", stringMap((meta as Record<string, unknown>).labels)),
    ...nonEmpty("containerNames", containerNames((pod as V1Pod).status)),
  };
}

/** The annotation the kubelet puts on a static pod's mirror pod: the static pod's UID. */
const MIRROR_ANNOTATION = "kubernetes.io/config.mirror";

/**
 * The static pod UID a mirror pod stands for, when the pod looks like one this node's
 * kubelet made; null otherwise (the pod is then judged as the ordinary pod it is).
 *
 * Any tenant may create a pod with the mirror annotation, so the annotation alone proves
 * nothing. The kubelet's mirror client (kubernetes/kubernetes
 * pkg/kubelet/pod/mirror_client.go, `CreateMirrorPod`) copies the static pod, sets
 * `kubernetes.io/config.mirror` to the static pod's hash (its UID,
 * pkg/kubelet/config/common.go) and, since MirrorPodNodeRestriction (KEP 1314, on in every
 * kubelet since 1.17), one owner reference `{apiVersion: v1, kind: Node, name: <node>, uid:
 * <node uid>, controller: true}`, which the NodeRestriction admission plugin requires of
 * mirror pods. A static pod's name is its manifest's name plus `-<nodeName>`
 * (pkg/kubelet/config/common.go `generatePodName`). All three are required here. They are
 * not proof either (a tenant can copy them; the node's UID is not checked: that would need
 * `get nodes`), which is why a mirror claim never replaces a pod the API lists under the
 * claimed UID (decide/pod_meta.ts `indexByCgroupUid`).
 */
function kubeletMirrorOf(
  meta: Record<string, unknown>,
  annotations: Readonly<Record<string, string>>,
  nodeName: string,
): string | null {
  const claimed = annotations[MIRROR_ANNOTATION];
  if (claimed === undefined || claimed === "") return null;
  const name = meta.name as string;
  if (!name.endsWith(`-${nodeName.toLowerCase()}`)) return null;
  const owners = meta.ownerReferences;
  if (!Array.isArray(owners)) return null;
  const byNode = owners.some((owner) =>
    isObject(owner) && (owner as Record<string, unknown>).apiVersion === "v1" &&
    (owner as Record<string, unknown>).kind === "Node" &&
    (owner as Record<string, unknown>).name === nodeName &&
    (owner as Record<string, unknown>).controller === true
  );
  return byNode ? claimed : null;
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
