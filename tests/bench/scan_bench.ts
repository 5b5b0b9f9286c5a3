/** `deno bench -A tests/bench/scan_bench.ts`: see suites.ts; `deno task bench` reports medians. */
import { registerBenches, SUITES } from "./suites.ts";

await registerBenches(SUITES.scan);
await registerBenches(SUITES.scan613);
