/**
 * The real Agent on a fake clock, against a node whose pods' swap the test sets and the
 * HTTP API stand-in (plain HTTP) holding those pods. Shared by the agent-level tests that
 * script the pods' swap tick by tick (tests/agent_scope_test.ts,
 * tests/agent_api_budget_test.ts).
 */
import type { V1Pod } from "@kubernetes/client-node";
import { createKubeClient } from "../../src/act/kube_client.ts";
import { Agent } from "../../src/agent.ts";
import type { Config } from "../../src/config.ts";
import type { Meminfo } from "../../src/sense/meminfo.ts";
import type { NodeSensor } from "../../src/sense/node_sensor.ts";
import type { PodScan } from "../../src/sense/pod_scan.ts";
import type { PodStats } from "../../src/sense/pod_stats.ts";
import { AGENT_TEST_CONFIG } from "./agent_config.ts";
import { standinConnection, startApiStandin } from "./api_standin.ts";
import { FakeClock } from "./fake_clock.ts";
import { RecordingLog } from "./recording_log.ts";

const GiB = 1 << 30;

/** The figures of a {@link PodSwapNode} that the tests tell apart. */
export interface PodSwapNodeOptions {
  /** The node's swap size (MemInfo SwapTotal). */
  readonly swapTotalBytes: number;
  /** vmstat pswpout, constant. */
  readonly swapOutPages: number;
}

/**
 * A node whose pods' swap the test sets (`pods`); the node's swap in use follows them, and
 * its swap-in counter grows at `swapIoPagesPerSecond` of fake-clock time.
 */
export class PodSwapNode implements NodeSensor {
  swapIoPagesPerSecond = 0;
  pods: PodStats[] = [];
  #pages = 1_000_000;
  #lastMs: number | null = null;
  constructor(readonly clock: FakeClock, readonly options: PodSwapNodeOptions) {}
  readSwapIo() {
    const nowMs = this.clock.monotonicMs();
    if (this.#lastMs !== null) {
      this.#pages += this.swapIoPagesPerSecond * (nowMs - this.#lastMs) / 1000;
    }
    this.#lastMs = nowMs;
    return Promise.resolve({
      swapInPages: this.#pages,
      swapOutPages: this.options.swapOutPages,
      oomKills: 0,
    });
  }
  readMeminfo(): Promise<Meminfo> {
    // The node's swap in use is the pods' (a move of 1 MiB makes the agent walk the pods).
    const usedBytes = this.pods.reduce((sum, pod) => sum + pod.swapCurrentBytes, 0);
    return Promise.resolve({
      memTotalBytes: 8 * GiB,
      memAvailableBytes: 4 * GiB,
      swapTotalBytes: this.options.swapTotalBytes,
      swapFreeBytes: this.options.swapTotalBytes - usedBytes,
    });
  }
  scanPods(): Promise<PodScan> {
    return Promise.resolve({ pods: [...this.pods], errors: [] });
  }
  recheckSwapBytes(cgroupPath: string) {
    const pod = this.pods.find((p) => p.cgroupPath === cgroupPath);
    return Promise.resolve(pod ? pod.swapCurrentBytes : "gone" as const);
  }
}

/**
 * A {@link PodSwapNode}, the stand-in holding `pods` (its store, as given), a client with a
 * 500 ms timeout, and an Agent with {@link AGENT_TEST_CONFIG} and `config` over it. The
 * caller drives the ticks (`agent.tick()`, then `clock.advance(config.pollIntervalMs)`);
 * `await using` closes the client and the stand-in.
 */
export async function startAgentHarness(
  pods: V1Pod[],
  config: Partial<Config>,
  nodeOptions: PodSwapNodeOptions,
) {
  const clock = new FakeClock(0);
  const node = new PodSwapNode(clock, nodeOptions);
  const api = await startApiStandin({ tls: false, pods });
  const kube = createKubeClient(standinConnection(api), {
    timeoutMs: 500,
    allowInsecureHttp: true,
  });
  const log = new RecordingLog();
  const full: Config = { ...AGENT_TEST_CONFIG, ...config };
  // Jitter fixed at its lowest for a reproducible schedule (half the nominal delay).
  const agent = new Agent(full, { sensor: node, clock, kube, log: log.logger, random: () => 0 });
  return {
    clock,
    node,
    api,
    log,
    agent,
    /** AGENT_TEST_CONFIG with the test's `config` over it: what the agent runs with. */
    config: full,
    async [Symbol.asyncDispose]() {
      kube.close();
      await api.close();
    },
  };
}
