/**
 * Samples every suite of suites.ts (subject and floor in alternating rounds) and prints one
 * JSON object with the medians on stdout. Run by run.ts as its own process, so that the
 * footprint run and the orchestrator's heap stay out of the figures.
 *
 * `deno run -A tests/bench/micro.ts [--quick] [suite …]`
 */
import { cpuPerCallUs, sampleTogether, type Timing } from "./sampler.ts";
import { SUITES } from "./suites.ts";

/** One measured pair, as run.ts reads it. */
export interface MicroResult {
  readonly suite: string;
  readonly id: string;
  readonly label: string;
  readonly subject: Timing;
  readonly floorLabel: string | null;
  readonly floor: Timing | null;
  readonly targetRatio: number | null;
  /** The same files read with `Deno.readTextFileSync`, when the pair has it. */
  readonly syncFloor: Timing | null;
  /** CPU time per call (all threads), µs, when the pair asks for it. */
  readonly cpu: {
    readonly subjectUs: number;
    readonly floorUs: number | null;
    readonly syncFloorUs: number | null;
  } | null;
}

/** All pairs plus each suite's facts. */
export interface MicroReport {
  readonly results: MicroResult[];
  readonly facts: Record<string, Record<string, number | string>>;
}

/** Runs the named suites (all by default). */
export async function runMicro(
  names: readonly string[] = Object.keys(SUITES),
  quick = false,
): Promise<MicroReport> {
  const results: MicroResult[] = [];
  const facts: Record<string, Record<string, number | string>> = {};
  for (const name of names) {
    const setup = SUITES[name as keyof typeof SUITES];
    if (setup === undefined) throw new Error(`Unknown suite "${name}"`);
    const suite = await setup();
    try {
      for (const pair of suite.pairs) {
        const fns = [pair.subject, pair.floor, pair.syncFloor ?? null];
        const present = fns.filter((fn) => fn !== null);
        const timings = await sampleTogether(present, {
          minTimeMs: quick ? 400 : 2_000,
          minSamples: quick ? 7 : 25,
        });
        const [subject, floor, syncFloor] = fns.map((fn) =>
          fn === null ? null : timings[present.indexOf(fn)]!
        );
        const cpuMs = quick ? 500 : 1_500;
        const cpu = pair.measureCpu
          ? {
            subjectUs: await cpuPerCallUs(pair.subject, cpuMs),
            floorUs: pair.floor === null ? null : await cpuPerCallUs(pair.floor, cpuMs),
            syncFloorUs: pair.syncFloor ? await cpuPerCallUs(pair.syncFloor, cpuMs) : null,
          }
          : null;
        results.push({
          suite: name,
          id: pair.id,
          label: pair.label,
          subject: subject!,
          floorLabel: pair.floorLabel,
          floor: floor ?? null,
          targetRatio: pair.targetRatio,
          syncFloor: syncFloor ?? null,
          cpu,
        });
      }
      facts[name] = suite.facts();
    } finally {
      await suite.dispose();
    }
  }
  return { results, facts };
}

if (import.meta.main) {
  const quick = Deno.args.includes("--quick");
  const names = Deno.args.filter((a) => !a.startsWith("--"));
  const report = await runMicro(names.length > 0 ? names : undefined, quick);
  console.log(JSON.stringify(report));
}
