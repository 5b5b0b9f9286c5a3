/**
 * Reading back the pods of writes whose outcome was unknown (5xx, timeout, broken answer):
 * gone or terminating → the write took effect (it stays in kill-once); the same uid still
 * running → it did not, and the pod may be chosen again (after the cooldown that the write
 * started). A failed read is tried again next tick, logged once per streak.
 */
import { forgetAction, type KillOnceState } from "../decide/kill_once.ts";
import type { UnconfirmedWrite } from "../decide/agent_state.ts";
import type { DecisionLog } from "../observe/decision_log.ts";
import type { KubeApi } from "./kube_client.ts";

/** The part of the loop's state a read-back settles. */
export interface WritesInDoubt {
  readonly unconfirmed: ReadonlyMap<string, UnconfirmedWrite>;
  readonly killOnce: KillOnceState;
}

/** One GET per write in doubt (no call when there is none); returns what is left in doubt. */
export async function confirmUnknownWrites(
  state: WritesInDoubt,
  kube: Pick<KubeApi, "getPod">,
  journal: Pick<DecisionLog, "readBack" | "readBackFailed">,
  nowMs: number,
): Promise<WritesInDoubt> {
  if (state.unconfirmed.size === 0) return state;
  const unconfirmed = new Map(state.unconfirmed);
  let killOnce = state.killOnce;
  for (const [uid, write] of state.unconfirmed) {
    const pod = `${write.ref.namespace}/${write.ref.name}`;
    if (kube.getPod === undefined) {
      unconfirmed.delete(uid);
      continue;
    }
    const read = await kube.getPod(write.ref);
    if (read.kind === "failed") {
      const failedReads = write.failedReads + 1;
      unconfirmed.set(uid, { ...write, failedReads });
      journal.readBackFailed(uid, { pod, action: write.action, failedReads }, read.message, nowMs);
      continue;
    }
    unconfirmed.delete(uid);
    if (read.kind === "running") killOnce = forgetAction(killOnce, uid);
    journal.readBack(uid, { pod, action: write.action, podUid: write.ref.uid }, read.kind);
  }
  return { unconfirmed, killOnce };
}
