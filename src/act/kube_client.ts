import type { PodMeta } from "../decide/pod_meta.ts";

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

/** The slice of the Kubernetes API the agent uses. */
export interface KubeApi {
  /** GET /api/v1/pods?fieldSelector=spec.nodeName%3D<node>; throws KubeApiError. */
  listNodePods(nodeName: string): Promise<PodMeta[]>;
  /** DELETE with `preconditions.uid`, no grace override. Never throws. */
  deletePod(ref: PodRef): Promise<DeleteResult>;
}

/** A failed API call, with the HTTP code (null: timeout, network or TLS). */
export class KubeApiError extends Error {
  readonly code: number | null;
  constructor(message: string, code: number | null) {
    super(message);
    this.name = "KubeApiError";
    this.code = code;
  }
}
