/**
 * Keeps the bench code from rotting: the scan-versus-floor path once on a 5-pod tree, and
 * the table on its figures. Fast (well under 2 s); the real figures come from `deno task bench`.
 */
import assert from "node:assert/strict";
import { microRows, renderTable } from "./run.ts";
import { sampleTogether } from "./sampler.ts";
import { scanMeasure } from "./suites.ts";
import { buildSyntheticNode } from "./synthetic_node.ts";

Deno.test("the scan and its floor read the same 5-pod tree and give sane medians", async () => {
  const node = await buildSyntheticNode({ pods: 5, containersPerPod: 3, swappingPods: 2 });
  try {
    const measure = await scanMeasure(node.tree.root);
    assert.equal(measure.footprint.pods, 5);
    assert.equal(measure.footprint.errors, 0);
    // 6 files per pod (memory.stat included: anon refaults exist on every kernel ≥ 5.9), 4 per
    // container, and memory.stat of the 2 containers with swap in use (their footprint).
    assert.equal(measure.footprint.files.length, 5 * 6 + 15 * 4 + 2);
    assert.ok(measure.footprint.dirListings >= 5, "discovery lists the pod directories");
    assert.equal(await measure.scan(), 5);
    assert.ok((await measure.floor()) > 0, "the floor read some text");

    const [scan, floor] = await sampleTogether([measure.scan, measure.floor], {
      minTimeMs: 50,
      minSamples: 3,
      sampleUs: 200,
    });
    for (const timing of [scan!, floor!]) {
      assert.ok(Number.isFinite(timing.medianUs) && timing.medianUs > 0, `${timing.medianUs}`);
      assert.ok(timing.medianUs < 1_000_000, "a 5-pod scan takes far less than a second");
      assert.ok(timing.p10Us <= timing.medianUs && timing.medianUs <= timing.p90Us);
      assert.ok(timing.samples >= 3);
    }

    const rows = microRows({
      results: [{
        suite: "scan",
        id: "scan",
        label: "scan",
        subject: scan!,
        floorLabel: "floor",
        floor: floor!,
        targetRatio: 1.5,
        syncFloor: null,
        cpu: null,
      }],
      facts: {},
    });
    assert.equal(rows.length, 1);
    assert.match(rows[0]!.ratio, /^\d+\.\d\d×$/);
    assert.match(rows[0]!.result, /^(pass|MISS)$/);
    assert.match(renderTable(rows), /^measure .*\n-+.*\nscan /);
  } finally {
    await node.dispose();
  }
});
