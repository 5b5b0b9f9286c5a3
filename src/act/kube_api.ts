/**
 * The vocabulary of the agent's Kubernetes API: what it calls ({@linkcode KubeApi}), what each
 * call comes to, and where the server is ({@linkcode KubeConnection}). Types only, plus the
 * error class; the HTTP client is kube_client.ts, which re-exports all of this.
 */
import type { PodMeta, PodRef } from "../decide/pod_meta.ts";

/** Identifies one pod incarnation (its home is decide/pod_meta.ts, below act/). */
export type { PodRef };

/** 404: the pod is already gone. */
export type WriteGone = { readonly kind: "gone"; readonly code: 404 };

/** 409: `preconditions.uid` failed, the name now belongs to a new pod (left alone). */
export type WriteConflict = {
  readonly kind: "conflict";
  readonly code: 409;
  readonly message: string;
};

/**
 * The server may have acted: a 5xx, a timeout or a lost connection after the request was
 * sent, a broken or unexpected 2xx body (204, not JSON). Treat as possibly done and read
 * the pod back before trying anything else.
 */
export type WriteUnknown = {
  readonly kind: "unknown";
  readonly code: number | null;
  readonly message: string;
};

/**
 * Refused outright (4xx, or nothing was sent): code null when no request went out.
 * `retryAfterMs`: the server's Retry-After, when it sent one.
 */
export type WriteFailed = {
  readonly kind: "failed";
  readonly code: number | null;
  readonly message: string;
  readonly retryAfterMs?: number;
};

/** What a DELETE came to. */
export type DeleteResult =
  /** 200/202: the pod is terminating with its own grace period. */
  | { readonly kind: "deleted"; readonly code: number }
  | WriteGone
  | WriteConflict
  | WriteUnknown
  | WriteFailed;

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
  | WriteGone
  | WriteConflict
  | WriteUnknown
  | WriteFailed;

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

/** What a status PATCH came to (act/disruption_target.ts). */
export type PatchStatusResult =
  | { readonly kind: "patched"; readonly code: number }
  /** Code null for a timeout or a network/TLS error. */
  | { readonly kind: "failed"; readonly code: number | null; readonly message: string };
