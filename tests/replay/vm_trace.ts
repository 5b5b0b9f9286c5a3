/**
 * Turns a trace from the VM suite's in-guest sampler (tests/vm/) into the
 * `kube-soomkiller record` format, so real-kernel runs become replay fixtures:
 *   deno run -A tests/replay/vm_trace.ts tests/vm/traces/6.12-baseline-leak.jsonl out.jsonl "note"
 */
import type { PodMeta } from "../../src/decide/pod_meta.ts";
import type { PodStats } from "../../src/sense/pod_stats.ts";
import { formatTraceLine, TRACE_VERSION, type TraceLine } from "../../src/replay/trace.ts";

interface VmContainer {
  id: string;
  swapCurrent: number;
  swapMax: number | null;
  memoryCurrent: number;
  memoryMax: number | null;
}
interface VmPod {
  name: string;
  uid: string;
  swapCurrent: number;
  memoryCurrent: number;
  memoryMax: number | null;
  someAvg10: number;
  fullAvg10: number;
  oomKill: number;
  pswpin?: number;
  pswpout?: number;
  containers: VmContainer[];
}
interface VmTick {
  tMs: number;
  pswpin: number;
  pswpout: number;
  swapTotalKiB: number;
  swapFreeKiB: number;
  pods: VmPod[];
}

/** The VM's guest: 512 MiB of RAM. */
const VM_MEMORY_BYTES = 512 << 20;

export function convertVmTrace(
  text: string,
  options: { note: string; graceSeconds: number; namespace?: string },
): string {
  const ticks = text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as VmTick);
  const out: TraceLine[] = [{
    kind: "header",
    version: TRACE_VERSION,
    pollIntervalMs: 1000,
    nodeName: "vm-node",
    startedAt: "2026-11-28T00:00:00.000Z",
    note: options.note,
  }];
  const named = new Map<string, PodMeta>();
  for (const tick of ticks) {
    const fresh = tick.pods.filter((pod) => !named.has(pod.uid));
    for (const pod of fresh) {
      named.set(pod.uid, {
        uid: pod.uid,
        namespace: options.namespace ?? "vm",
        name: pod.name,
        nodeName: "vm-node",
        terminating: false,
        mirrorOfUid: null,
        priority: null,
        terminationGracePeriodSeconds: options.graceSeconds,
        annotations: {},
      });
    }
    if (fresh.length > 0) out.push({ kind: "pods", tMs: tick.tMs, pods: [...named.values()] });
    const pods: PodStats[] = tick.pods
      .filter((pod) => pod.swapCurrent > 0 || pod.oomKill > 0)
      .map((pod) => ({
        uid: pod.uid,
        cgroupPath: `/host/sys/fs/cgroup/kubepods.slice/pod-${pod.uid}`,
        qosClass: "burstable",
        swapCurrentBytes: pod.swapCurrent,
        memoryCurrentBytes: pod.memoryCurrent,
        memoryMaxBytes: pod.memoryMax,
        fullAvg10Percent: pod.fullAvg10,
        someAvg10Percent: pod.someAvg10,
        oomKillCount: pod.oomKill,
        containers: pod.containers.map((c) => ({
          id: c.id,
          swapCurrentBytes: c.swapCurrent,
          swapMaxBytes: c.swapMax,
          memoryCurrentBytes: c.memoryCurrent,
          memoryMaxBytes: c.memoryMax,
        })),
        ...(pod.pswpin === undefined || pod.pswpout === undefined
          ? {}
          : { swapIo: { swapInPages: pod.pswpin, swapOutPages: pod.pswpout } }),
      }));
    out.push({
      kind: "tick",
      tMs: tick.tMs,
      swapInPages: tick.pswpin,
      swapOutPages: tick.pswpout,
      meminfo: {
        memTotalBytes: VM_MEMORY_BYTES,
        memAvailableBytes: 0,
        swapTotalBytes: tick.swapTotalKiB * 1024,
        swapFreeBytes: tick.swapFreeKiB * 1024,
      },
      pods,
    });
  }
  return out.map((line) => formatTraceLine(line) + "\n").join("");
}

if (import.meta.main) {
  const [input, output, note = "", grace = "15"] = Deno.args;
  if (!input || !output) {
    console.error("Usage: vm_trace.ts <vm-trace.jsonl> <out.jsonl> [note] [grace seconds]");
    Deno.exit(2);
  }
  const text = convertVmTrace(await Deno.readTextFile(input), {
    note,
    graceSeconds: Number(grace),
  });
  await Deno.writeTextFile(output, text);
}
