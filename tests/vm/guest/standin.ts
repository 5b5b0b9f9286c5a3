// API stand-in that plays kubelet + API server inside the VM (loopback only).
// Lists the scenario's pods, deletes/evicts them by signalling the processes in their
// container cgroups (SIGTERM, grace period, SIGKILL), stores Events, and records
// everything it did for the result file.

export interface StandinPod {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly graceSeconds: number;
  readonly containerCgroups: readonly string[];
  readonly containerId: string;
  readonly limitMiB: number;
  readonly requestMiB: number;
  /** Set when the workload has been started. */
  startedAt?: string;
  /** The container's stop signal (its image's STOPSIGNAL; default SIGTERM). */
  stopSignal?: Deno.Signal;
  /** The container's init process: the stop signal goes to it alone, as containerd does. */
  mainPid?: number;
  deletionTimestamp?: string;
  deleteRequests: DeleteRecord[];
  sigtermAtMs: number | null;
  sigkillAtMs: number | null;
  gone: boolean;
}

/** One DELETE or eviction the agent sent for a pod. */
export interface DeleteRecord {
  atMs: number;
  via: string;
  status: number;
  /** `preconditions.uid` of the request, null when absent. */
  preconditionUid: string | null;
  /** `gracePeriodSeconds` of the request, null when absent (the pod's own is used). */
  gracePeriodSeconds: number | null;
}

interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure" | "Success";
  message?: string;
  reason?: string;
  details?: Record<string, unknown>;
  code: number;
}

function status(
  code: number,
  reason: string,
  message: string,
  details?: Record<string, unknown>,
): Status {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: code < 300 ? "Success" : "Failure",
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

function json(body: unknown, code: number): Response {
  return new Response(JSON.stringify(body), {
    status: code,
    headers: { "content-type": "application/json" },
  });
}

const EVENT_TIME_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

export class ApiStandin {
  readonly pods = new Map<string, StandinPod>(); // key ns/name
  readonly events: unknown[] = [];
  readonly requests: { atMs: number; method: string; path: string; status: number }[] = [];
  readonly problems: string[] = [];
  firstRequestAtMs: number | null = null;
  private server: Deno.HttpServer | null = null;
  private resourceVersion = 1000;

  constructor(
    private readonly token: string,
    private readonly nodeName: string,
    /** ms on the scenario clock. */
    private readonly now: () => number,
    private readonly say: (line: string) => void,
  ) {}

  add(pod: StandinPod) {
    this.pods.set(`${pod.namespace}/${pod.name}`, pod);
  }

  start(port: number, cert: string, key: string) {
    this.server = Deno.serve(
      { hostname: "127.0.0.1", port, cert, key, onListen: () => {} },
      (req) => this.handle(req),
    );
  }

  async stop() {
    await this.server?.shutdown();
  }

  podJson(p: StandinPod): Record<string, unknown> {
    return {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: p.name,
        namespace: p.namespace,
        uid: p.uid,
        resourceVersion: String(this.resourceVersion),
        creationTimestamp: "2026-01-01T00:00:00Z",
        labels: { app: p.name },
        ...(p.deletionTimestamp
          ? { deletionTimestamp: p.deletionTimestamp, deletionGracePeriodSeconds: p.graceSeconds }
          : {}),
      },
      spec: {
        nodeName: this.nodeName,
        terminationGracePeriodSeconds: p.graceSeconds,
        containers: [{
          name: "main",
          image: "e2e/workload:1",
          resources: {
            requests: { memory: `${p.requestMiB}Mi` },
            limits: { memory: `${p.limitMiB}Mi` },
          },
        }],
      },
      status: {
        phase: "Running",
        qosClass: "Burstable",
        ...(p.startedAt ? { startTime: p.startedAt } : {}),
        containerStatuses: [{
          name: "main",
          containerID: `containerd://${p.containerId}`,
          ready: true,
          restartCount: 0,
          image: "e2e/workload:1",
          imageID: "",
          state: { running: { startedAt: p.startedAt ?? "2026-01-01T00:00:00Z" } },
        }],
      },
    };
  }

  private async handle(req: Request): Promise<Response> {
    const t = this.now();
    if (this.firstRequestAtMs === null) this.firstRequestAtMs = t;
    const url = new URL(req.url);
    let res: Response;
    try {
      res = await this.route(req, url);
    } catch (e) {
      res = json(status(500, "InternalError", `Stand-in error: ${e}`), 500);
    }
    this.requests.push({
      atMs: Math.round(t),
      method: req.method,
      path: url.pathname + url.search,
      status: res.status,
    });
    this.say(`api ${req.method} ${url.pathname}${url.search} -> ${res.status}`);
    return res;
  }

  private async route(req: Request, url: URL): Promise<Response> {
    const auth = req.headers.get("authorization");
    if (auth !== `Bearer ${this.token}`) {
      return json(status(401, "Unauthorized", "Unauthorized"), 401);
    }
    const parts = url.pathname.split("/").filter(Boolean);
    const rec = (via: string, code: number, pre: unknown, grace: unknown): DeleteRecord => ({
      atMs: Math.round(this.now()),
      via,
      status: code,
      preconditionUid: typeof pre === "string" ? pre : null,
      gracePeriodSeconds: typeof grace === "number" ? grace : null,
    });
    // GET /api/v1/pods
    if (req.method === "GET" && url.pathname === "/api/v1/pods") {
      const sel = url.searchParams.get("fieldSelector") ?? "";
      const m = sel.match(/spec\.nodeName=([^,]+)/);
      const items = [...this.pods.values()].filter((p) =>
        !p.gone && (!m || m[1] === this.nodeName)
      );
      this.resourceVersion++;
      return json({
        kind: "PodList",
        apiVersion: "v1",
        metadata: { resourceVersion: String(this.resourceVersion) },
        items: items.map((p) => this.podJson(p)),
      }, 200);
    }
    // GET /api/v1/namespaces/{ns}/pods (the agent's connectivity check lists with limit=1)
    if (
      req.method === "GET" && parts.length === 5 && parts[0] === "api" && parts[1] === "v1" &&
      parts[2] === "namespaces" && parts[4] === "pods"
    ) {
      const ns = parts[3]!;
      const limit = Number(url.searchParams.get("limit") ?? "0");
      let items = [...this.pods.values()].filter((p) => !p.gone && p.namespace === ns);
      if (limit > 0) items = items.slice(0, limit);
      return json({
        kind: "PodList",
        apiVersion: "v1",
        metadata: { resourceVersion: String(this.resourceVersion) },
        items: items.map((p) => this.podJson(p)),
      }, 200);
    }
    // /api/v1/namespaces/{ns}/pods/{name}[/eviction]
    if (
      parts[0] === "api" && parts[1] === "v1" && parts[2] === "namespaces" && parts[4] === "pods" &&
      parts[5]
    ) {
      const ns = parts[3]!;
      const name = parts[5]!;
      const pod = this.pods.get(`${ns}/${name}`);
      const notFound = () =>
        json(status(404, "NotFound", `pods "${name}" not found`, { name, kind: "pods" }), 404);
      if (parts.length === 6 && req.method === "GET") {
        return pod && !pod.gone ? json(this.podJson(pod), 200) : notFound();
      }
      if (parts.length === 6 && req.method === "DELETE") {
        const body = await readJson(req);
        const dryRun = url.searchParams.get("dryRun") === "All" || arrayHas(body?.dryRun, "All");
        if (!pod || pod.gone) return notFound();
        const pre = (body?.preconditions as { uid?: string } | undefined)?.uid;
        if (pre !== undefined && pre !== pod.uid) {
          pod.deleteRequests.push(rec("delete", 409, pre, body?.gracePeriodSeconds));
          return json(
            status(
              409,
              "Conflict",
              `Operation cannot be fulfilled on Pod "${name}": Precondition failed: UID in precondition: ${pre}, UID in object meta: ${pod.uid}`,
              { name, kind: "pods" },
            ),
            409,
          );
        }
        if (dryRun) return json(this.podJson(pod), 200);
        pod.deleteRequests.push(rec("delete", 200, pre, body?.gracePeriodSeconds));
        const grace = typeof body?.gracePeriodSeconds === "number"
          ? body.gracePeriodSeconds as number
          : pod.graceSeconds;
        this.terminate(pod, grace);
        return json(this.podJson(pod), 200);
      }
      if (parts.length === 7 && parts[6] === "eviction" && req.method === "POST") {
        const body = await readJson(req);
        if (!pod || pod.gone) return notFound();
        const opts = (body?.deleteOptions ?? {}) as {
          preconditions?: { uid?: string };
          gracePeriodSeconds?: number;
          dryRun?: string[];
        };
        const pre = opts.preconditions?.uid;
        if (pre !== undefined && pre !== pod.uid) {
          pod.deleteRequests.push(rec("eviction", 409, pre, opts.gracePeriodSeconds));
          return json(
            status(
              409,
              "Conflict",
              `Precondition failed: UID in precondition: ${pre}, UID in object meta: ${pod.uid}`,
            ),
            409,
          );
        }
        if (url.searchParams.get("dryRun") === "All" || arrayHas(opts.dryRun, "All")) {
          return json(status(201, "", ""), 201);
        }
        pod.deleteRequests.push(rec("eviction", 201, pre, opts.gracePeriodSeconds));
        this.terminate(
          pod,
          typeof opts.gracePeriodSeconds === "number" ? opts.gracePeriodSeconds : pod.graceSeconds,
        );
        return json({
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Success",
          code: 201,
        }, 201);
      }
    }
    // Events (events.k8s.io/v1 and core/v1)
    if (
      req.method === "POST" && (
        (parts[0] === "apis" && parts[1] === "events.k8s.io" && parts[2] === "v1" &&
          parts[5] === "events") ||
        (parts[0] === "api" && parts[1] === "v1" && parts[4] === "events")
      )
    ) {
      const body = await readJson(req);
      if (!body) return json(status(400, "BadRequest", "Event body is not JSON"), 400);
      const problems: string[] = [];
      if (parts[0] === "apis") {
        if (typeof body.eventTime !== "string" || !EVENT_TIME_RE.test(body.eventTime)) {
          problems.push(`eventTime "${body.eventTime}"`);
        }
        for (const k of ["type", "reason", "action", "reportingController", "reportingInstance"]) {
          if (!body[k]) problems.push(`missing ${k}`);
        }
        const reg = body.regarding as { uid?: string } | undefined;
        if (!reg?.uid) problems.push("regarding.uid missing");
        if (typeof body.note === "string" && body.note.length > 1024) problems.push("note > 1024");
      }
      if (problems.length) {
        this.problems.push(`event: ${problems.join(", ")}`);
        return json(status(422, "Invalid", `Event is invalid: ${problems.join(", ")}`), 422);
      }
      const meta = (body.metadata ?? {}) as Record<string, unknown>;
      const stored = {
        ...body,
        metadata: {
          ...meta,
          name: meta.name ?? `e2e.${this.events.length}`,
          uid: crypto.randomUUID(),
        },
      };
      this.events.push({ atMs: Math.round(this.now()), event: stored });
      return json(stored, 201);
    }
    return json(status(404, "NotFound", `the server could not find the requested resource`), 404);
  }

  /** Kubelet part: SIGTERM every process of the pod, SIGKILL what is left after grace. */
  private terminate(pod: StandinPod, graceSeconds: number) {
    if (pod.deletionTimestamp) return; // already terminating
    pod.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    const t0 = this.now();
    pod.sigtermAtMs = Math.round(t0);
    const stop = pod.stopSignal ?? "SIGTERM";
    let n: number;
    if (pod.mainPid !== undefined) {
      n = 1;
      try {
        Deno.kill(pod.mainPid, stop);
      } catch { /* exited */ }
    } else n = this.signalAll(pod, stop);
    this.say(`standin: ${stop} ${pod.name} (${n} pids), grace ${graceSeconds}s`);
    const tick = setInterval(() => {
      if (this.pids(pod).length === 0) {
        clearInterval(tick);
        pod.gone = true;
        return;
      }
      if (this.now() - t0 >= graceSeconds * 1000) {
        clearInterval(tick);
        pod.sigkillAtMs = Math.round(this.now());
        const k = this.signalAll(pod, "SIGKILL");
        this.say(`standin: SIGKILL ${pod.name} (${k} pids) after grace`);
        pod.gone = true;
      }
    }, 200);
  }

  pids(pod: StandinPod): number[] {
    const out: number[] = [];
    for (const cg of pod.containerCgroups) {
      try {
        for (const l of Deno.readTextFileSync(`${cg}/cgroup.procs`).split("\n")) {
          if (l.trim()) out.push(Number(l));
        }
      } catch { /* gone */ }
    }
    return out;
  }

  private signalAll(pod: StandinPod, sig: Deno.Signal): number {
    const pids = this.pids(pod);
    for (const pid of pids) {
      try {
        Deno.kill(pid, sig);
      } catch { /* exited */ }
    }
    return pids.length;
  }
}

async function readJson(req: Request): Promise<Record<string, unknown> | null> {
  const text = await req.text();
  if (!text.trim()) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function arrayHas(v: unknown, s: string): boolean {
  return Array.isArray(v) && v.includes(s);
}
