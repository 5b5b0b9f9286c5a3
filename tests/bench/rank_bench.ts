/** `deno bench -A tests/bench/rank_bench.ts`: see suites.ts; `deno task bench` reports medians. */
import { registerBenches, SUITES } from "./suites.ts";

await registerBenches(SUITES.rank);
