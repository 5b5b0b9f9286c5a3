/**
 * The `DisruptionTarget` pod condition, set before a DELETE (delete mode; the Eviction API
 * sets it itself). The kubelet, the Eviction API and the taint manager mark the pods they
 * terminate this way, and a Job's `podFailurePolicy` can then ignore or count the failure
 * (`onPodConditions: [{type: DisruptionTarget}]`) instead of charging its `backoffLimit`.
 *
 * One `PATCH /api/v1/namespaces/{ns}/pods/{name}/status` (strategic merge: the conditions
 * list merges by `type`, so the kubelet's own conditions stay). The patch carries
 * `metadata.uid`: for a re-created pod of the same name the API server refuses it (422,
 * `metadata.uid` is immutable), so a new pod is never marked.
 * A failed patch is logged and never blocks the DELETE; dry-run sends neither.
 */
import type { Logger } from "../observe/log.ts";
import type { Candidate } from "../decide/select.ts";
import type { KubeApi, PatchStatusResult, PodRef } from "./kube_api.ts";

/** The condition type Kubernetes gives pods it disrupts (GA in 1.31). */
export const DISRUPTION_TARGET = "DisruptionTarget";
/** Our reason; Kubernetes' own are e.g. `EvictionByEvictionAPI`, `TerminationByKubelet`. */
export const DISRUPTION_REASON = "SoftOOMKill";
/**
 * How long the DELETE waits for the patch, ms. A slow API server must not eat into the
 * pod's grace period: after this the DELETE goes out and the patch finishes on its own.
 */
export const DISRUPTION_PATCH_WAIT_MS = 2_000;

/** The patch's content type: `conditions` merge by `type` instead of being replaced. */
export const STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json";

/** What a status PATCH came to (defined with the other API results in kube_api.ts). */
export type { PatchStatusResult };

/** The body of the status patch (`metadata.uid` doubles as a precondition). */
export interface DisruptionTargetPatch {
  readonly metadata: { readonly uid: string };
  readonly status: {
    readonly conditions: readonly [{
      readonly type: typeof DISRUPTION_TARGET;
      readonly status: "True";
      readonly reason: string;
      readonly message: string;
      readonly lastTransitionTime: string;
    }];
  };
}

/** The condition message: why, with the victim's own figures. Pure. */
export function disruptionMessage(victim: Candidate, trigger: string | undefined): string {
  const MiB = 1024 * 1024;
  const stats = victim.stats;
  const own = victim.swapIoPagesPerSecond === undefined
    ? ""
    : `, own swap I/O ${Math.round(victim.swapIoPagesPerSecond)} pages/s`;
  const why = trigger === undefined ? "" : ` (trigger ${trigger})`;
  return `kube-soomkiller deleted this pod before the kernel could OOM-kill it${why}: ` +
    `swap ${(stats.swapCurrentBytes / MiB).toFixed(1)} MiB, memory.pressure full avg10 ` +
    `${stats.fullAvg10Percent}%${own}`;
}

/** The strategic merge patch that adds the condition. Pure. */
export function disruptionTargetPatch(
  uid: string,
  message: string,
  at: Date,
): DisruptionTargetPatch {
  return {
    metadata: { uid },
    status: {
      conditions: [{
        type: DISRUPTION_TARGET,
        status: "True",
        reason: DISRUPTION_REASON,
        message,
        // metav1.Time: seconds precision.
        lastTransitionTime: at.toISOString().replace(/\.\d{3}Z$/, "Z"),
      }],
    },
  };
}

/** One HTTP exchange of the client (kube_transport.ts `Send`): status and parsed JSON body. */
export type Exchange = (
  method: string,
  pathAndQuery: string,
  body: unknown,
  contentType: string,
) => Promise<{ readonly status: number; readonly body: unknown }>;

/** Sends the status patch through the client's `exchange`. Never throws. */
export async function patchPodStatusWith(
  exchange: Exchange,
  ref: PodRef,
  patch: object,
): Promise<PatchStatusResult> {
  const path = `/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/pods/` +
    `${encodeURIComponent(ref.name)}/status`;
  let status: number;
  let body: unknown;
  try {
    ({ status, body } = await exchange("PATCH", path, patch, STRATEGIC_MERGE_PATCH));
  } catch (error) {
    const code = (error as { code?: unknown })?.code;
    return {
      kind: "failed",
      code: typeof code === "number" ? code : null,
      message: error instanceof Error ? error.message : String(error),
    };
  }
  if (status >= 200 && status <= 299) return { kind: "patched", code: status };
  const s = body as { reason?: unknown; message?: unknown } | null;
  const detail = `HTTP ${status}` +
    (typeof s?.reason === "string" && s.reason !== "" ? ` ${s.reason}` : "") +
    (typeof s?.message === "string" && s.message !== "" ? `: ${s.message}` : "");
  const message = status === 403
    ? `RBAC forbids patch pods/status: grant verb "patch" on "pods/status" to the agent's ` +
      `service account: ${detail}`
    : detail;
  return { kind: "failed", code: status, message };
}

/** What markDisruptionTarget() needs; `log` and `clock` come with the agent's deps. */
export interface DisruptionTargetDeps {
  readonly kube: KubeApi;
  readonly log?: Logger;
  readonly clock?: { wallTime(): Date };
}

/**
 * Marks the victim `DisruptionTarget` before its DELETE. Never throws, and waits at most
 * `waitMs` for the API: a failure (RBAC, a 422 for a re-created pod) is logged and
 * returned; a slow answer returns null and is logged when it fails later. Null too when the
 * API has no `patchPodStatus`.
 */
export async function markDisruptionTarget(
  victim: Candidate,
  ref: PodRef,
  trigger: string | undefined,
  deps: DisruptionTargetDeps,
  waitMs = DISRUPTION_PATCH_WAIT_MS,
): Promise<PatchStatusResult | null> {
  if (deps.kube.patchPodStatus === undefined) return null;
  const at = deps.clock?.wallTime() ?? new Date();
  const patch = disruptionTargetPatch(ref.uid, disruptionMessage(victim, trigger), at);
  const pod = `${ref.namespace}/${ref.name}`;
  const sent = deps.kube.patchPodStatus(ref, patch).catch((error): PatchStatusResult => ({
    kind: "failed",
    code: null,
    message: String(error),
  }));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), waitMs);
  });
  const result = await Promise.race([sent, late]);
  clearTimeout(timer);
  if (result === null) {
    deps.log?.warn(
      "Condition DisruptionTarget on pod {pod} not confirmed within {waitSeconds} s: deleting now",
      { pod, waitSeconds: waitMs / 1000 },
    );
    sent.then((late) => {
      if (late.kind === "failed") warnFailed(deps, pod, late);
    });
    return null;
  }
  if (result.kind === "failed") warnFailed(deps, pod, result);
  return result;
}

function warnFailed(
  deps: DisruptionTargetDeps,
  pod: string,
  result: Extract<PatchStatusResult, { kind: "failed" }>,
): void {
  deps.log?.warn(
    "Cannot set condition DisruptionTarget on pod {pod} before deleting it (deleting anyway): {error}",
    { pod, code: result.code, error: result.message },
  );
}
