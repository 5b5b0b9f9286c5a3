/**
 * An HTTP(S) stand-in of the Kubernetes API server, for unit tests, end-to-end tests, the
 * demo and the VM suite. Self-contained: Deno APIs, `openssl` for the certificates, and
 * `import type` only.
 *
 * It serves the few endpoints the agent uses with a real server's contract:
 *
 * | request                                                    | answer                          |
 * | ---------------------------------------------------------- | ------------------------------- |
 * | GET /api/v1/pods?fieldSelector=spec.nodeName=<node>        | PodList, filtered               |
 * | GET /api/v1/namespaces/{ns}/pods                           | PodList of the namespace        |
 * | GET /api/v1/namespaces/{ns}/pods/{name}                    | Pod, or 404 Status              |
 * | DELETE /api/v1/namespaces/{ns}/pods/{name}                 | 200 Pod with deletionTimestamp  |
 * |   (body DeleteOptions; `preconditions.uid` checked: 409)   |   kept in the store, terminating |
 * | POST /api/v1/namespaces/{ns}/pods/{name}/eviction          | 201 Status (429 via inject)     |
 * | PATCH /api/v1/namespaces/{ns}/pods/{name}/status           | 200 Pod; strategic merge of     |
 * |   (another `metadata.uid`: 422; other content types: 415) |   `status.conditions` by `type` |
 * | POST /apis/events.k8s.io/v1/namespaces/{ns}/events         | 201 Event, stored; 400/422      |
 * | GET /apis/events.k8s.io/v1/namespaces/{ns}/events          | EventList                       |
 *
 * A pod LIST honours `limit` and `continue` as a paging API server does: with `limit`, a page
 * of at most that many pods and, when more are left, `metadata.continue` (a token for the
 * rest of the same list: the pods that matched when its first page was read) and
 * `metadata.remainingItemCount`. A `continue` must come with the same namespace and
 * `fieldSelector` and without `resourceVersion` (400 otherwise, as a real server says); a
 * token that is not one of the stand-in's is a 400, and one made before
 * `expireContinueTokens()` a 410 Expired. (A real server whose watch cache serves
 * `resourceVersion=0` may ignore `limit` and send everything at once; the stand-in pages.)
 *
 * `?dryRun=All` validates without changing anything. Errors are real `Status` objects.
 * With `token` set, a request without `Authorization: Bearer <token>` gets 401. A test can
 * inject any status (or a hang) for the next N matching requests. Every request is
 * recorded with its parsed JSON body and the time it arrived.
 *
 * TLS (the default) uses a throw-away CA and a server certificate for 127.0.0.1/localhost,
 * made once per process with `openssl`; `caPem` is the CA. With `clientAuth`, the server
 * requires a client certificate signed by that CA (served by `node:https`, as `Deno.serve`
 * cannot ask for client certificates) and `clientCertPem`/`clientKeyPem` hold one.
 *
 * ```ts
 * const api = await startApiStandin({ pods: [makePod({ name: "a", uid: "u1", nodeName: "n1" })] });
 * try {
 *   // point the client at api.url with api.caPem ...
 * } finally {
 *   await api.close();
 * }
 * ```
 */
import type { EventsV1Event, V1OwnerReference, V1Pod, V1Status } from "@kubernetes/client-node";
import type { KubeConnection } from "../../src/act/kube_client.ts";

/** One request as the stand-in received it. */
export interface RecordedRequest {
  /** `GET`, `DELETE`, `POST`, ... */
  readonly method: string;
  /** URL path, still percent-encoded, e.g. `/api/v1/namespaces/default/pods/web-0`. */
  readonly path: string;
  /** The raw query with its `?`, or "" (e.g. `?fieldSelector=spec.nodeName%3Dn1`). */
  readonly search: string;
  /** Request headers, names lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body parsed as JSON; null when empty or not JSON (see `rawBody`). */
  readonly body: unknown;
  /** The body as received. */
  readonly rawBody: string;
  /** `performance.now()` when it arrived, ms. */
  readonly atMs: number;
}

/** Which requests an injection applies to; an omitted field matches everything. */
export interface RequestMatcher {
  /** HTTP method, any case. */
  readonly method?: string;
  /** Start of the URL path, e.g. `/api/v1/namespaces/default/pods/web-0`. */
  readonly pathPrefix?: string;
  /** Text the raw query must contain, e.g. `continue=` (a LIST's later pages). */
  readonly searchIncludes?: string;
}

/** A canned answer. Without `body`, an error status gets a matching `Status` body. */
export interface CannedResponse {
  /** 0: no fault, the real answer (keeps a sequence of injections in order). */
  readonly status: number;
  /** JSON-serialised; a string is sent as is. */
  readonly body?: unknown;
  /** Extra response headers (e.g. `Retry-After`, `Location`). */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Carry the request out first (the store changes, as a server that commits and then
   * fails would), then answer with this response instead of the real one.
   */
  readonly commit?: boolean;
  /** Send the status and headers, then break the body off mid-stream (a reset connection). */
  readonly brokenBody?: boolean;
  /** Never answer (after `commit`, if set): the client times out. */
  readonly hang?: boolean;
}

/** Options of {@linkcode startApiStandin}. */
export interface ApiStandinOptions {
  /** Serve HTTPS (default) or plain HTTP. */
  readonly tls?: boolean;
  /** Require a client certificate (mutual TLS); implies `tls`. */
  readonly clientAuth?: boolean;
  /** The pod store; used (and mutated) as given. Default empty. */
  readonly pods?: V1Pod[];
  /** Bearer token every request must carry; 401 otherwise. Default: none required. */
  readonly token?: string;
}

/** A running stand-in. */
export interface ApiStandin {
  /** Base URL, e.g. `https://127.0.0.1:41234`. */
  readonly url: string;
  /** PEM of the CA that signed the server certificate; null over plain HTTP. */
  readonly caPem: string | null;
  /** PEM client certificate the server accepts (with `clientAuth`); null otherwise. */
  readonly clientCertPem: string | null;
  /** PEM key of `clientCertPem`; null without `clientAuth`. */
  readonly clientKeyPem: string | null;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** The pod store (the array given in the options, if any). */
  readonly pods: V1Pod[];
  /** Events created through the API, as stored (with uid, name, resourceVersion). */
  readonly events: EventsV1Event[];
  /** Changes the required bearer token; null: none required. */
  setToken(token: string | null): void;
  /** Makes every continue token given out so far answer 410 Expired (etcd compaction). */
  expireContinueTokens(): void;
  /** Answers the next `times` requests that match with `response`, or never ("hang"). */
  inject(matcher: RequestMatcher, response: CannedResponse | "hang", times?: number): void;
  /** Releases hanging requests and stops the server. */
  close(): Promise<void>;
}

/** Starts a stand-in on 127.0.0.1 with a free port. */
export async function startApiStandin(options: ApiStandinOptions = {}): Promise<ApiStandin> {
  const clientAuth = options.clientAuth ?? false;
  const tls = clientAuth || (options.tls ?? true);
  const pods = options.pods ?? [];
  const events: EventsV1Event[] = [];
  const requests: RecordedRequest[] = [];
  const injections: { matcher: RequestMatcher; response: CannedResponse | "hang"; left: number }[] =
    [];
  const hanging = new Set<() => void>();
  let token = options.token ?? null;
  let resourceVersion = 1000;
  let closed = false;
  /** The lists being paged, by the id in their continue tokens. */
  const pagedLists = new Map<number, { readonly query: string; readonly items: V1Pod[] }>();
  let nextListId = 1;
  /** Lists with a smaller id than this have expired. */
  let firstLiveListId = 1;

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const rawBody = await request.text();
    const recorded: RecordedRequest = {
      method: request.method,
      path: url.pathname,
      search: url.search,
      headers: Object.fromEntries(request.headers),
      body: parseJson(rawBody),
      rawBody,
      atMs: performance.now(),
    };
    requests.push(recorded);

    const injection = injections.find((i) =>
      i.left > 0 &&
      (i.matcher.method === undefined ||
        i.matcher.method.toUpperCase() === request.method.toUpperCase()) &&
      (i.matcher.pathPrefix === undefined || url.pathname.startsWith(i.matcher.pathPrefix)) &&
      (i.matcher.searchIncludes === undefined || url.search.includes(i.matcher.searchIncludes))
    );
    if (injection !== undefined) {
      injection.left--;
      if (injection.response === "hang") {
        if (!closed) await new Promise<void>((resolve) => hanging.add(resolve));
        return failure(503, "ServiceUnavailable", "The stand-in is closing");
      }
      const { status, body, headers, commit, brokenBody } = injection.response;
      // Status 0: answer as the server would (a placeholder that keeps a sequence in order).
      if (status === 0) return route(request.method, url, recorded.body, rawBody);
      if (commit) route(request.method, url, recorded.body, rawBody);
      if (injection.response.hang) {
        if (!closed) await new Promise<void>((resolve) => hanging.add(resolve));
        return failure(503, "ServiceUnavailable", "The stand-in is closing");
      }
      let response: Response;
      if (brokenBody) {
        response = new Response(
          new ReadableStream({
            start(controller) {
              controller.enqueue(new TextEncoder().encode('{"kind":"Pod","metadata":'));
              controller.error(new Error("connection reset by the stand-in"));
            },
          }),
          { status, headers: { "content-type": "application/json" } },
        );
      } else if (body === undefined) {
        response = status >= 400
          ? failure(
            status,
            reasonOf(status),
            `Injected ${status} for ${request.method} ${url.pathname}`,
          )
          : new Response(null, { status });
      } else {
        response = typeof body === "string" ? new Response(body, { status }) : json(status, body);
      }
      for (const [name, value] of Object.entries(headers ?? {})) {
        response.headers.set(name, value);
      }
      return response;
    }

    if (token !== null && request.headers.get("authorization") !== `Bearer ${token}`) {
      return failure(401, "Unauthorized", "Unauthorized");
    }
    return route(
      request.method,
      url,
      recorded.body,
      rawBody,
      request.headers.get("content-type") ?? "",
    );
  }

  function route(
    method: string,
    url: URL,
    body: unknown,
    rawBody: string,
    contentType = "",
  ): Response {
    const dryRun = url.searchParams.getAll("dryRun");
    if (dryRun.some((d) => d !== "All")) {
      return failure(400, "BadRequest", `Unsupported dry run value: "${dryRun.join(",")}"`);
    }
    const isDryRun = dryRun.length > 0;
    if (rawBody !== "" && body === null) {
      return failure(400, "BadRequest", `The request body is not valid JSON`);
    }
    const segments = url.pathname.split("/").slice(1).map(decodeURIComponent);
    const p = segments.join("/");
    let match: RegExpMatchArray | null;

    if (p === "api/v1/pods") {
      if (method !== "GET") return methodNotAllowed();
      return listPods(null, url);
    }
    if ((match = p.match(/^api\/v1\/namespaces\/([^/]+)\/pods$/))) {
      if (method !== "GET") return methodNotAllowed();
      return listPods(match[1]!, url);
    }
    if ((match = p.match(/^api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/))) {
      const [namespace, name] = [match[1]!, match[2]!];
      if (method === "GET") {
        const pod = findPod(namespace, name);
        return pod === undefined ? podNotFound(name) : json(200, pod);
      }
      if (method === "DELETE") return deletePod(namespace, name, body, isDryRun);
      return methodNotAllowed();
    }
    if ((match = p.match(/^api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/status$/))) {
      if (method !== "PATCH") return methodNotAllowed();
      return patchPodStatus(match[1]!, match[2]!, body, contentType, isDryRun);
    }
    if ((match = p.match(/^api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/eviction$/))) {
      if (method !== "POST") return methodNotAllowed();
      return evictPod(match[1]!, match[2]!, body, isDryRun);
    }
    if ((match = p.match(/^apis\/events\.k8s\.io\/v1\/namespaces\/([^/]+)\/events$/))) {
      const namespace = match[1]!;
      if (method === "GET") {
        return json(200, {
          apiVersion: "events.k8s.io/v1",
          kind: "EventList",
          metadata: { resourceVersion: String(resourceVersion) },
          items: events.filter((e) => e.metadata?.namespace === namespace),
        });
      }
      if (method === "POST") return createEvent(namespace, body, isDryRun);
      return methodNotAllowed();
    }
    return failure(404, "NotFound", "the server could not find the requested resource");
  }

  function listPods(namespace: string | null, url: URL): Response {
    if (url.searchParams.has("labelSelector")) {
      return failure(400, "BadRequest", "labelSelector is not supported by the stand-in");
    }
    let items = pods.filter((pod) => namespace === null || pod.metadata?.namespace === namespace);
    const selector = url.searchParams.get("fieldSelector") ?? "";
    for (const term of selector.split(",").filter((t) => t !== "")) {
      const m = term.match(/^([^!=]+)(==|=|!=)(.*)$/);
      if (m === null) return failure(400, "BadRequest", `invalid selector: '${selector}'`);
      const [, field, op, value] = m as unknown as [string, string, string, string];
      const get = POD_FIELDS[field];
      if (get === undefined) {
        return failure(400, "BadRequest", `field label not supported: ${field}`);
      }
      items = items.filter((pod) => (get(pod) === value) === (op !== "!="));
    }
    const limitText = url.searchParams.get("limit");
    const limit = limitText === null || limitText === "" ? 0 : Number(limitText);
    if (!Number.isSafeInteger(limit) || limit < 0) {
      return failure(400, "BadRequest", `invalid limit: ${JSON.stringify(limitText)}`);
    }
    // What a continue token must be used with: the same list, other than the token.
    const query = `${namespace ?? ""}|${selector}`;
    let offset = 0;
    let listId = 0;
    const token = url.searchParams.get("continue");
    if (token !== null && token !== "") {
      if ((url.searchParams.get("resourceVersion") ?? "") !== "") {
        return failure(
          400,
          "BadRequest",
          "specifying resource version is not allowed when using continue",
        );
      }
      const decoded = decodeContinue(token);
      const list = decoded === null ? undefined : pagedLists.get(decoded.id);
      if (decoded !== null && decoded.id < firstLiveListId && decoded.id < nextListId) {
        return failure(
          410,
          "Expired",
          "The provided continue parameter is too old to display a consistent list result. " +
            "You can start a new list without the continue parameter.",
        );
      }
      if (decoded === null || list === undefined || list.query !== query) {
        return failure(400, "BadRequest", `continue key is not valid: ${token.slice(0, 80)}`);
      }
      items = list.items;
      offset = decoded.offset;
      listId = decoded.id;
    }
    const end = limit === 0 ? items.length : Math.min(items.length, offset + limit);
    const metadata: Record<string, unknown> = { resourceVersion: String(resourceVersion) };
    if (end < items.length) {
      if (listId === 0) {
        listId = nextListId++;
        pagedLists.set(listId, { query, items: [...items] });
      }
      metadata.continue = btoa(JSON.stringify({ id: listId, offset: end }));
      metadata.remainingItemCount = items.length - end;
    } else if (listId !== 0) {
      pagedLists.delete(listId);
    }
    return json(200, {
      apiVersion: "v1",
      kind: "PodList",
      metadata,
      items: offset === 0 && end === items.length ? items : items.slice(offset, end),
    });
  }

  /** A strategic merge patch of the status: conditions merge by `type`, as on a real server. */
  function patchPodStatus(
    namespace: string,
    name: string,
    body: unknown,
    contentType: string,
    dryRun: boolean,
  ): Response {
    if (contentType.split(";")[0]!.trim() !== "application/strategic-merge-patch+json") {
      return failure(
        415,
        "UnsupportedMediaType",
        `the body of the request was in an unknown format`,
      );
    }
    const patch = body as {
      metadata?: { uid?: unknown };
      status?: { conditions?: { type?: unknown }[] };
    } | null;
    if (patch === null || typeof patch !== "object") {
      return failure(400, "BadRequest", `The request body is not a patch`);
    }
    const pod = findPod(namespace, name);
    if (pod === undefined) return podNotFound(name);
    const uid = patch.metadata?.uid;
    if (uid !== undefined && uid !== pod.metadata?.uid) {
      // As the API server: the patched object fails validation, uid being immutable.
      return failure(
        422,
        "Invalid",
        `Pod "${name}" is invalid: metadata.uid: Invalid value: "${uid}": field is immutable`,
        { name, kind: "Pod" },
      );
    }
    const conditions = [...(pod.status?.conditions ?? [])];
    for (const condition of patch.status?.conditions ?? []) {
      if (typeof condition?.type !== "string") {
        return failure(422, "Invalid", `status.conditions[].type: Required value`);
      }
      const at = conditions.findIndex((c) => c.type === condition.type);
      const merged = { ...(at >= 0 ? conditions[at] : {}), ...condition } as typeof conditions[0];
      if (at >= 0) conditions[at] = merged;
      else conditions.push(merged);
    }
    if (dryRun) return json(200, { ...pod, status: { ...pod.status, conditions } });
    pod.status = { ...pod.status, conditions };
    pod.metadata = { ...pod.metadata, resourceVersion: String(++resourceVersion) };
    return json(200, pod);
  }

  function deletePod(namespace: string, name: string, body: unknown, dryRun: boolean): Response {
    const options = (body ?? {}) as {
      kind?: unknown;
      gracePeriodSeconds?: unknown;
      preconditions?: { uid?: unknown };
    };
    if (
      typeof options !== "object" ||
      (options.kind !== undefined && options.kind !== "DeleteOptions")
    ) {
      return failure(400, "BadRequest", `The request body is not a DeleteOptions`);
    }
    const pod = findPod(namespace, name);
    if (pod === undefined) return podNotFound(name);
    const uid = options.preconditions?.uid;
    if (uid !== undefined && uid !== null && uid !== pod.metadata?.uid) {
      return preconditionFailed(name, String(uid), pod.metadata?.uid ?? "");
    }
    const grace = typeof options.gracePeriodSeconds === "number"
      ? options.gracePeriodSeconds
      : pod.spec?.terminationGracePeriodSeconds ?? 30;
    return json(200, terminate(pod, grace, dryRun));
  }

  function evictPod(namespace: string, name: string, body: unknown, dryRun: boolean): Response {
    const eviction = body as {
      apiVersion?: unknown;
      kind?: unknown;
      metadata?: { name?: unknown; namespace?: unknown };
      deleteOptions?: { preconditions?: { uid?: unknown }; dryRun?: unknown };
    } | null;
    if (eviction === null || eviction.kind !== "Eviction" || eviction.apiVersion !== "policy/v1") {
      return failure(400, "BadRequest", `The request body is not a policy/v1 Eviction`);
    }
    if (eviction.metadata?.name !== name) {
      return failure(400, "BadRequest", "name in URL does not match name in Eviction object");
    }
    if (eviction.metadata?.namespace !== undefined && eviction.metadata.namespace !== namespace) {
      return failure(
        400,
        "BadRequest",
        "namespace in URL does not match namespace in Eviction object",
      );
    }
    const pod = findPod(namespace, name);
    if (pod === undefined) return podNotFound(name);
    const uid = eviction.deleteOptions?.preconditions?.uid;
    if (uid !== undefined && uid !== null && uid !== pod.metadata?.uid) {
      return preconditionFailed(name, String(uid), pod.metadata?.uid ?? "");
    }
    const bodyDryRun = Array.isArray(eviction.deleteOptions?.dryRun) &&
      eviction.deleteOptions.dryRun.includes("All");
    terminate(pod, pod.spec?.terminationGracePeriodSeconds ?? 30, dryRun || bodyDryRun);
    return json(201, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Success",
      code: 201,
    });
  }

  /** What deleting with a grace period does: the pod stays, terminating; 0 removes it. */
  function terminate(pod: V1Pod, graceSeconds: number, dryRun: boolean): V1Pod {
    const now = Date.now();
    const result: V1Pod = structuredClone(pod);
    const meta = result.metadata ??= {};
    if (meta.deletionTimestamp === undefined || graceSeconds === 0) {
      meta.deletionTimestamp = new Date(now + graceSeconds * 1000);
      meta.deletionGracePeriodSeconds = graceSeconds;
    }
    if (dryRun) return result;
    resourceVersion++;
    meta.resourceVersion = String(resourceVersion);
    const index = pods.indexOf(pod);
    if (graceSeconds === 0) pods.splice(index, 1);
    else {
      pod.metadata = meta;
    }
    return result;
  }

  function createEvent(namespace: string, body: unknown, dryRun: boolean): Response {
    const event = body as EventsV1Event & Record<string, unknown> | null;
    if (event === null || typeof event !== "object") {
      return failure(400, "BadRequest", "The request body is not an Event");
    }
    if (event.apiVersion !== "events.k8s.io/v1" || event.kind !== "Event") {
      return failure(400, "BadRequest", `The request body is not an events.k8s.io/v1 Event`);
    }
    const meta = event.metadata ?? {};
    if (meta.namespace !== undefined && meta.namespace !== namespace) {
      return failure(
        400,
        "BadRequest",
        "the namespace of the provided object does not match the namespace sent on the request",
      );
    }
    const eventTime = (event as Record<string, unknown>).eventTime;
    if (typeof eventTime === "string" && !MICRO_TIME.test(eventTime)) {
      return failure(
        400,
        "BadRequest",
        `Event in version "v1" cannot be handled as a Event: parsing time "${eventTime}" as ` +
          `"2006-01-02T15:04:05.000000Z07:00": eventTime needs exactly six fractional digits`,
      );
    }
    const causes: { field: string; reason: string; message: string }[] = [];
    const required = (field: string, ok: boolean) => {
      if (!ok) causes.push({ field, reason: "FieldValueRequired", message: "Required value" });
    };
    const raw = event as Record<string, unknown>;
    required("metadata.name", Boolean(meta.name || meta.generateName));
    required("eventTime", typeof eventTime === "string");
    required(
      "reportingController",
      typeof raw.reportingController === "string" && raw.reportingController !== "",
    );
    required(
      "reportingInstance",
      typeof raw.reportingInstance === "string" && raw.reportingInstance !== "",
    );
    required("action", typeof raw.action === "string" && raw.action !== "");
    required("reason", typeof raw.reason === "string" && raw.reason !== "");
    required("regarding", typeof raw.regarding === "object" && raw.regarding !== null);
    if (raw.type !== "Normal" && raw.type !== "Warning") {
      causes.push({
        field: "type",
        reason: "FieldValueNotSupported",
        message: `Unsupported value: ${
          JSON.stringify(raw.type ?? "")
        }: supported values: "Normal", "Warning"`,
      });
    }
    if (typeof raw.note === "string" && new TextEncoder().encode(raw.note).length > 1024) {
      causes.push({
        field: "note",
        reason: "FieldValueTooLong",
        message: "Too long: may not be more than 1024 bytes",
      });
    }
    if (causes.length > 0) {
      const name = String(meta.name ?? meta.generateName ?? "");
      const detail = causes.map((c) => `${c.field}: ${c.message}`).join(", ");
      return json(422, {
        ...statusBody(422, "Invalid", `Event.events.k8s.io "${name}" is invalid: ${detail}`),
        details: { name, group: "events.k8s.io", kind: "Event", causes },
      });
    }
    resourceVersion++;
    const stored = structuredClone(event) as EventsV1Event;
    stored.metadata = {
      ...meta,
      name: meta.name ?? `${meta.generateName}${Math.random().toString(36).slice(2, 7)}`,
      namespace,
      uid: crypto.randomUUID(),
      resourceVersion: String(resourceVersion),
      creationTimestamp: new Date(),
    };
    if (!dryRun) events.push(stored);
    return json(201, stored);
  }

  function findPod(namespace: string, name: string): V1Pod | undefined {
    return pods.find((p) => p.metadata?.namespace === namespace && p.metadata?.name === name);
  }

  let url: string;
  let stop: () => Promise<void>;
  const material = tls ? await certificates() : null;
  if (clientAuth && material !== null) {
    ({ url, stop } = await serveNodeMutualTls(handle, material));
  } else {
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: () => {},
      ...(material === null ? {} : { cert: material.serverCertPem, key: material.serverKeyPem }),
    }, handle);
    url = `${material === null ? "http" : "https"}://127.0.0.1:${server.addr.port}`;
    stop = () => server.shutdown();
  }

  return {
    url,
    caPem: material?.caPem ?? null,
    clientCertPem: clientAuth ? material?.clientCertPem ?? null : null,
    clientKeyPem: clientAuth ? material?.clientKeyPem ?? null : null,
    requests,
    pods,
    events,
    setToken(next) {
      token = next;
    },
    expireContinueTokens() {
      firstLiveListId = nextListId;
      pagedLists.clear();
    },
    inject(matcher, response, times = 1) {
      injections.push({ matcher, response, left: times });
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const release of hanging) release();
      hanging.clear();
      await stop();
    },
  };
}

/** Fields of a pod `makePod` fills in. */
export interface PodSpecLite {
  readonly name: string;
  /** Default "default". */
  readonly namespace?: string;
  readonly uid: string;
  readonly nodeName: string;
  readonly annotations?: Record<string, string>;
  readonly priority?: number;
  readonly terminationGracePeriodSeconds?: number;
  /** Set: the pod is already terminating. */
  readonly deletionTimestamp?: Date | string;
  /** `metadata.ownerReferences` (a kubelet's mirror pod: {@linkcode nodeOwner}). */
  readonly ownerReferences?: readonly V1OwnerReference[];
  readonly labels?: Record<string, string>;
  /** Running containers, name → container ID (`status.containerStatuses`, containerd). */
  readonly containerIds?: Record<string, string>;
}

/**
 * The owner reference a kubelet puts on the mirror pods it creates
 * (pkg/kubelet/pod/mirror_client.go): the Node, as controller.
 */
export function nodeOwner(nodeName: string): V1OwnerReference {
  return {
    apiVersion: "v1",
    kind: "Node",
    name: nodeName,
    uid: "9e0c7c2e-5d1a-4b8e-8f3c-0d6b2f1a7c11",
    controller: true,
  };
}

/** A running pod as the API server would return it. */
export function makePod(spec: PodSpecLite): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: spec.name,
      namespace: spec.namespace ?? "default",
      uid: spec.uid,
      resourceVersion: "1",
      creationTimestamp: new Date(),
      ...(spec.annotations === undefined ? {} : { annotations: { ...spec.annotations } }),
      ...(spec.ownerReferences === undefined
        ? {}
        : { ownerReferences: spec.ownerReferences.map((owner) => ({ ...owner })) }),
      ...(spec.labels === undefined ? {} : { labels: { ...spec.labels } }),
      ...(spec.deletionTimestamp === undefined ? {} : {
        deletionTimestamp: new Date(spec.deletionTimestamp),
        deletionGracePeriodSeconds: spec.terminationGracePeriodSeconds ?? 30,
      }),
    },
    spec: {
      nodeName: spec.nodeName,
      containers: [{ name: "app", image: "registry.k8s.io/pause:3.10" }],
      ...(spec.priority === undefined ? {} : { priority: spec.priority }),
      ...(spec.terminationGracePeriodSeconds === undefined
        ? {}
        : { terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds }),
    },
    status: {
      phase: "Running",
      ...(spec.containerIds === undefined ? {} : {
        containerStatuses: Object.entries(spec.containerIds).map(([name, id]) => ({
          name,
          containerID: `containerd://${id}`,
          image: "registry.k8s.io/pause:3.10",
          imageID: "",
          ready: true,
          restartCount: 0,
        })),
      }),
    },
  };
}

/** What {@linkcode writeKubeconfig} writes. */
export interface KubeconfigSpec {
  readonly server: string;
  /** CA PEM; null/omitted for plain HTTP. */
  readonly caPem?: string | null;
  readonly token?: string | null;
  readonly clientCertPem?: string | null;
  readonly clientKeyPem?: string | null;
  /** Context, cluster and user name. Default "standin". */
  readonly name?: string;
}

/** Writes `<dir>/kubeconfig` (mode 0600) for a stand-in and returns its path. */
export async function writeKubeconfig(dir: string, spec: KubeconfigSpec): Promise<string> {
  const name = spec.name ?? "standin";
  const q = (s: string) => JSON.stringify(s); // a JSON string is a YAML double-quoted scalar
  const b64 = (pem: string) => q(btoa(pem));
  const cluster = [`    server: ${q(spec.server)}`];
  if (spec.caPem) cluster.push(`    certificate-authority-data: ${b64(spec.caPem)}`);
  const user: string[] = [];
  if (spec.token) user.push(`    token: ${q(spec.token)}`);
  if (spec.clientCertPem) user.push(`    client-certificate-data: ${b64(spec.clientCertPem)}`);
  if (spec.clientKeyPem) user.push(`    client-key-data: ${b64(spec.clientKeyPem)}`);
  const text = [
    "apiVersion: v1",
    "kind: Config",
    `current-context: ${q(name)}`,
    "clusters:",
    `- name: ${q(name)}`,
    "  cluster:",
    ...cluster,
    "contexts:",
    `- name: ${q(name)}`,
    "  context:",
    `    cluster: ${q(name)}`,
    `    user: ${q(name)}`,
    "users:",
    `- name: ${q(name)}`,
    user.length === 0 ? "  user: {}" : "  user:",
    ...user,
    "",
  ].join("\n");
  const path = `${dir.replace(/\/+$/, "")}/kubeconfig`;
  await Deno.writeTextFile(path, text, { mode: 0o600 });
  return path;
}

/** A `Status` failure body as the API server sends it. */
export function statusBody(
  code: number,
  reason: string,
  message: string,
  details?: object,
): V1Status {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    code,
    ...(details === undefined ? {} : { details }),
  };
}

// ---- internals ----

const POD_FIELDS: Record<string, (pod: V1Pod) => string> = {
  "spec.nodeName": (pod) => pod.spec?.nodeName ?? "",
  "metadata.name": (pod) => pod.metadata?.name ?? "",
  "metadata.namespace": (pod) => pod.metadata?.namespace ?? "",
  "status.phase": (pod) => pod.status?.phase ?? "",
};

/** `metav1.MicroTime` wire format: RFC 3339 with exactly six fractional digits. */
const MICRO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/;

const REASONS: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  409: "Conflict",
  410: "Expired",
  415: "UnsupportedMediaType",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
  504: "Timeout",
};

function reasonOf(status: number): string {
  return REASONS[status] ?? "Unknown";
}

function failure(code: number, reason: string, message: string, details?: object): Response {
  return json(code, statusBody(code, reason, message, details));
}

function podNotFound(name: string): Response {
  return failure(404, "NotFound", `pods "${name}" not found`, { name, kind: "pods" });
}

function preconditionFailed(name: string, wanted: string, actual: string): Response {
  return failure(
    409,
    "Conflict",
    `Operation cannot be fulfilled on pods "${name}": Precondition failed: ` +
      `UID in precondition: ${wanted}, UID in object meta: ${actual}`,
    { name, kind: "pods" },
  );
}

function methodNotAllowed(): Response {
  return failure(
    405,
    "MethodNotAllowed",
    "the server does not allow this method on the requested resource",
  );
}

/** JSON as the API server writes it: timestamps in RFC 3339 with whole seconds. */
function json(status: number, body: unknown): Response {
  const text = JSON.stringify(body, function (this: Record<string, unknown>, key, value) {
    const raw = this[key];
    return raw instanceof Date ? raw.toISOString().replace(/\.\d{3}Z$/, "Z") : value;
  });
  return new Response(text, { status, headers: { "content-type": "application/json" } });
}

/** A continue token of the stand-in (base64 of `{"id":N,"offset":N}`), or null. */
function decodeContinue(token: string): { id: number; offset: number } | null {
  try {
    const value = JSON.parse(atob(token)) as { id?: unknown; offset?: unknown };
    const { id, offset } = value;
    return Number.isSafeInteger(id) && Number.isSafeInteger(offset) && (offset as number) >= 0
      ? { id: id as number, offset: offset as number }
      : null;
  } catch {
    return null;
  }
}

function parseJson(text: string): unknown {
  if (text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** PEM material of the throw-away PKI. */
interface Certificates {
  readonly caPem: string;
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
}

let certificatesOnce: Promise<Certificates> | null = null;
/** The openssl program; tests of the fallback point it at one that does not exist. */
let opensslCommand = "openssl";

/** For tests: use `command` for openssl and forget the certificates made so far. */
export function useOpensslCommandForTests(command: string): void {
  opensslCommand = command;
  certificatesOnce = null;
}

/**
 * A CA, a server certificate for 127.0.0.1/localhost and a client certificate, once. Made
 * with `openssl`; without it (a machine with only Deno), the throw-away PKI committed in
 * tests/fixtures/pki/ (valid until 2126), unless SOOMKILLER_REQUIRE_TOOLS=1 (CI) asks for
 * openssl itself (see tests/tools.ts).
 */
function certificates(): Promise<Certificates> {
  certificatesOnce ??= makeCertificates().catch((error) => {
    if (opensslMissing(error)) return fixtureCertificates();
    certificatesOnce = null;
    throw error;
  });
  return certificatesOnce;
}

const PKI_FIXTURES = new URL("../fixtures/pki/", import.meta.url);

/** True when `error` says openssl cannot run and the tests may do without it. */
function opensslMissing(error: unknown): boolean {
  const missing = error instanceof Deno.errors.NotFound ||
    (error instanceof Error && error.message.startsWith('Cannot run "openssl"'));
  return missing && Deno.env.get("SOOMKILLER_REQUIRE_TOOLS") !== "1";
}

async function fixtureCertificates(): Promise<Certificates> {
  const read = (file: string) => Deno.readTextFile(new URL(file, PKI_FIXTURES));
  return {
    caPem: await read("ca.pem"),
    serverCertPem: await read("server.pem"),
    serverKeyPem: await read("server.key"),
    clientCertPem: await read("client.pem"),
    clientKeyPem: await read("client.key"),
  };
}

const OPENSSL_CONFIG = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = api-standin
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
authorityKeyIdentifier = keyid
[client_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
`;

async function makeCertificates(): Promise<Certificates> {
  const dir = await Deno.makeTempDir({ prefix: "api_standin_pki_" });
  try {
    const cnf = `${dir}/openssl.cnf`;
    await Deno.writeTextFile(cnf, OPENSSL_CONFIG);
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    await openssl(dir, [
      "req",
      "-x509",
      "-config",
      cnf,
      "-extensions",
      "ca_ext",
      ...ec,
      "-days",
      "3650",
      "-subj",
      "/CN=api-standin-ca",
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
    ]);
    const leaf = async (name: string, subject: string, extensions: string) => {
      await openssl(dir, [
        "req",
        "-new",
        "-config",
        cnf,
        ...ec,
        "-subj",
        subject,
        "-keyout",
        `${name}.key`,
        "-out",
        `${name}.csr`,
      ]);
      await openssl(dir, [
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-set_serial",
        `0x${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`,
        "-days",
        "3650",
        "-extfile",
        cnf,
        "-extensions",
        extensions,
        "-out",
        `${name}.pem`,
      ]);
    };
    await leaf("server", "/CN=localhost", "server_ext");
    await leaf("client", "/O=system:masters/CN=api-standin-client", "client_ext");
    const read = (file: string) => Deno.readTextFile(`${dir}/${file}`);
    return {
      caPem: await read("ca.pem"),
      serverCertPem: await read("server.pem"),
      serverKeyPem: await read("server.key"),
      clientCertPem: await read("client.pem"),
      clientKeyPem: await read("client.key"),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function openssl(cwd: string, args: string[]): Promise<void> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(opensslCommand, { args, cwd, stdin: "null" }).output();
  } catch (error) {
    throw new Error(`Cannot run "openssl" for the API stand-in's certificates: ${error}`);
  }
  if (!output.success) {
    throw new Error(
      `Cannot make the API stand-in's certificates: "openssl ${args[0]}" failed: ` +
        new TextDecoder().decode(output.stderr).trim(),
    );
  }
}

/** Serves `handle` over HTTPS that requires a client certificate signed by the CA. */
async function serveNodeMutualTls(
  handle: (request: Request) => Promise<Response>,
  pki: Certificates,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const https = await import("node:https");
  const server = https.createServer({
    key: pki.serverKeyPem,
    cert: pki.serverCertPem,
    ca: pki.caPem,
    requestCert: true,
    rejectUnauthorized: true,
  }, (req, res) => {
    const chunks: Uint8Array[] = [];
    req.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    req.on("end", async () => {
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (value === undefined) continue;
        for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
      }
      const hasBody = req.method !== "GET" && req.method !== "HEAD";
      const request = new Request(`https://127.0.0.1${req.url ?? "/"}`, {
        method: req.method ?? "GET",
        headers,
        body: hasBody ? new Blob(chunks as BlobPart[]) : undefined,
      });
      let response: Response;
      try {
        response = await handle(request);
      } catch (error) {
        response = failure(500, "InternalError", `The stand-in failed: ${error}`);
      }
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(new Uint8Array(await response.arrayBuffer()));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    url: `https://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A CA that signed nothing the stand-in serves: a client trusting it must fail TLS. */
export async function makeUnrelatedCaPem(): Promise<string> {
  const dir = await Deno.makeTempDir();
  try {
    const { success } = await new Deno.Command(opensslCommand, {
      args: [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-subj",
        "/CN=other-ca",
        "-days",
        "1",
        "-keyout",
        `${dir}/k.pem`,
        "-out",
        `${dir}/ca.pem`,
      ],
      stdout: "null",
      stderr: "null",
    }).output();
    if (!success) throw new Error("openssl could not make a CA");
    return await Deno.readTextFile(`${dir}/ca.pem`);
  } catch (error) {
    if (opensslMissing(error)) {
      return await Deno.readTextFile(new URL("other-ca.pem", PKI_FIXTURES));
    }
    throw error;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** How a client reaches this stand-in: its URL and CA, and a static bearer token. */
export function standinConnection(
  api: Pick<ApiStandin, "url" | "caPem">,
  token: string | null = null,
): KubeConnection {
  return {
    server: api.url,
    caPem: api.caPem,
    insecureSkipTlsVerify: false,
    clientCertPem: null,
    clientKeyPem: null,
    token: token === null ? null : { get: () => Promise.resolve(token), invalidate() {} },
  };
}
