/** Plain records for decision tests: a pod as the API shows it and as its cgroup reads. */
import type { PodMeta } from "../../src/decide/pod_meta.ts";
import type { PodStats } from "../../src/sense/pod_stats.ts";

/** A running pod on node-a, 30 s grace, in `default` unless `extra` says otherwise. */
export function podMeta(uid: string, name: string, extra: Partial<PodMeta> = {}): PodMeta {
  return {
    uid,
    namespace: "default",
    name,
    nodeName: "node-a",
    terminating: false,
    mirrorOfUid: null,
    priority: null,
    terminationGracePeriodSeconds: 30,
    annotations: {},
    ...extra,
  };
}

/** A Burstable pod cgroup at a 64 MiB limit with `swapBytes` of swap and full avg10. */
export function podStats(
  uid: string,
  swapBytes: number,
  fullAvg10Percent: number,
  extra: Partial<PodStats> = {},
): PodStats {
  return {
    uid,
    cgroupPath: `/cg/pod${uid}`,
    qosClass: "burstable",
    swapCurrentBytes: swapBytes,
    memoryCurrentBytes: 64 << 20,
    memoryMaxBytes: 64 << 20,
    fullAvg10Percent,
    someAvg10Percent: fullAvg10Percent,
    oomKillCount: 0,
    containers: [],
    ...extra,
  };
}
