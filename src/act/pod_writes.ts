/**
 * The API's writes to pods (DELETE, the Eviction API), the read-back of a pod after a write
 * whose outcome is unknown, and Events. None throws: every outcome is a result value.
 *
 * DELETE and eviction share {@linkcode writePod}: the same preconditions, the same reading
 * of 404, 409, 403, 3xx, 4xx and 5xx; an eviction adds its refusals (429, and the 500 of
 * more than one PodDisruptionBudget).
 */
import type { V1Pod } from "@kubernetes/client-node";
import {
  type CreateEventResult,
  type DeleteOptions,
  type DeleteResult,
  type EvictResult,
  KubeApiError,
  type PodReadResult,
  type PodRef,
} from "./kube_api.ts";
import { invalidRef, isDns1123Label, isObject } from "./kube_names.ts";
import { errorMessage, type Exchange, type Send, statusDetail } from "./kube_transport.ts";

/** The answers a DELETE and an eviction share. */
type WriteAnswer = Exclude<DeleteResult, { kind: "deleted" }>;

/** What tells a DELETE from an eviction, for {@linkcode writePod}. */
interface PodWrite<Done> {
  readonly method: "DELETE" | "POST";
  readonly path: string;
  readonly body: object;
  /** The verb of `Cannot <verb> pod "ns/name"`. */
  readonly verb: "delete" | "evict";
  /** The noun of `<Noun> of pod "ns/name" answered HTTP 200 without a JSON object`. */
  readonly noun: "Delete" | "Eviction";
  /** The 2xx codes of success. */
  readonly doneCodes: readonly number[];
  readonly done: (code: number) => Done;
  /** What RBAC forbids, e.g. `delete pods: grant verb "delete" on "pods"`. */
  readonly rbac: string;
  /** Answers of this write only, checked after success (eviction: 429, 500); null: none. */
  readonly refusal?: (status: number, detail: string, what: string) => Done | null;
}

/**
 * Sends one write with the pod's uid as precondition and reads the answer. Never throws.
 * 200-class with a JSON object: done; without one: unknown (it may have happened).
 */
async function writePod<Done>(
  send: Send,
  ref: PodRef,
  write: PodWrite<Done>,
): Promise<Done | WriteAnswer> {
  const invalid = invalidRef(ref);
  if (invalid !== null) return { kind: "failed", code: null, message: invalid };
  const what = `pod "${ref.namespace}/${ref.name}"`;
  const prefix = `Cannot ${write.verb} ${what}`;
  let result: Exchange;
  try {
    result = await send(write.method, write.path, write.body);
  } catch (error) {
    return writeError(error, prefix);
  }
  const { status, body } = result;
  if (write.doneCodes.includes(status)) {
    if (isObject(body)) return write.done(status);
    return {
      kind: "unknown",
      code: status,
      message: `${write.noun} of ${what} answered HTTP ${status} without a JSON object: it ` +
        `may have happened`,
    };
  }
  const detail = statusDetail(status, body);
  const refused = write.refusal?.(status, detail, what) ?? null;
  if (refused !== null) return refused;
  if (status === 404) return { kind: "gone", code: 404 };
  if (status === 409) return { kind: "conflict", code: 409, message: detail };
  if (status === 403) {
    return {
      kind: "failed",
      code: status,
      message: `RBAC forbids ${write.rbac} to the agent's service account: ${detail}`,
    };
  }
  return answerOfWrite(status, body, prefix, result.retryAfterMs);
}

/** DELETE with `preconditions.uid`, no grace override. Never throws. */
export function deletePod(
  send: Send,
  ref: PodRef,
  options: DeleteOptions = {},
): Promise<DeleteResult> {
  return writePod(send, ref, {
    method: "DELETE",
    path: `/api/v1/namespaces/${ref.namespace}/pods/${ref.name}` +
      (options.dryRun ? "?dryRun=All" : ""),
    body: { apiVersion: "v1", kind: "DeleteOptions", preconditions: { uid: ref.uid } },
    verb: "delete",
    noun: "Delete",
    doneCodes: [200, 202],
    done: (code) => ({ kind: "deleted", code }),
    rbac: `delete pods: grant verb "delete" on "pods"`,
  });
}

/**
 * POST a `policy/v1` Eviction with `deleteOptions.preconditions.uid`, no grace override;
 * PodDisruptionBudgets are honoured by the API server. Never throws.
 */
export function evictPod(send: Send, ref: PodRef): Promise<EvictResult> {
  return writePod<EvictResult>(send, ref, {
    method: "POST",
    path: `/api/v1/namespaces/${ref.namespace}/pods/${ref.name}/eviction`,
    body: {
      apiVersion: "policy/v1",
      kind: "Eviction",
      metadata: { name: ref.name, namespace: ref.namespace },
      deleteOptions: { preconditions: { uid: ref.uid } },
    },
    verb: "evict",
    noun: "Eviction",
    doneCodes: [200, 201],
    done: (code) => ({ kind: "evicted", code }),
    rbac: `create pods/eviction: grant verb "create" on "pods/eviction"`,
    refusal: evictionRefusal,
  });
}

/** The Eviction API's refusals: a PodDisruptionBudget allows none now, or two select the pod. */
function evictionRefusal(status: number, detail: string, what: string): EvictResult | null {
  if (status === 429) {
    return { kind: "blocked", code: 429, message: `Eviction of ${what} blocked: ${detail}` };
  }
  if (status === 500 && /more than one PodDisruptionBudget/i.test(detail)) {
    return {
      kind: "blocked",
      code: 500,
      message: `Cannot evict ${what}: more than one PodDisruptionBudget selects it and the ` +
        `Eviction API refuses such pods; leave one budget per pod or use ` +
        `--termination-mode=delete: ${detail}`,
    };
  }
  return null;
}

/** GET one pod, to learn what a write with an unknown outcome did. Never throws. */
export async function getPod(send: Send, ref: PodRef): Promise<PodReadResult> {
  const invalid = invalidRef(ref);
  if (invalid !== null) return { kind: "failed", code: null, message: invalid };
  const what = `pod "${ref.namespace}/${ref.name}"`;
  let result: Exchange;
  try {
    result = await send("GET", `/api/v1/namespaces/${ref.namespace}/pods/${ref.name}`);
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

/** POST /apis/events.k8s.io/v1/namespaces/{ns}/events (body: act/events.ts). Never throws. */
export async function createEvent(
  send: Send,
  namespace: string,
  event: object,
): Promise<CreateEventResult> {
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
    result = await send("POST", path, event);
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
