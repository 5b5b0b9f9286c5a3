// Issue 21: a replay speaks one vocabulary and one unit. Its actions are simulated, so the
// agent's own log says "would delete … → dry-run" as the summary does, posts no Event, and
// the kernel's kills are named like the actions' victims; sizes in MiB, growth in MiB/s.
import assert from "node:assert/strict";
import { DEFAULTS } from "../../src/config.ts";
import { formatReplay, replay } from "../../src/replay/replay.ts";
import { parseTrace } from "../../src/replay/trace.ts";
import { RecordingLog } from "../fakes/recording_log.ts";

async function fixture(name: string) {
  const path = new URL(`../fixtures/traces/${name}`, import.meta.url);
  return parseTrace(await Deno.readTextFile(path), name);
}

// Two traces the defaults act on: the headroom trigger (the leak) and the swap-io rule (the
// 7.3 thrasher at full avg10 50 %).
for (const trace of ["6.12-leak.jsonl", "7.3-thrash.jsonl"]) {
  Deno.test(`replay of ${trace}: the agent's debug log and the summary say the same (would delete, no Event sent)`, async () => {
    const log = new RecordingLog();
    const result = await replay(
      await fixture(trace),
      { ...DEFAULTS, nodeName: "vm-node" },
      log.logger,
    );
    assert.ok(result.actions.length > 0);
    const decisions = log.lines.filter((l) => "outcome" in l.properties);
    assert.ok(decisions.length > 0);
    for (const line of decisions) {
      assert.match(String(line.properties.action), /^would (delete|evict)$/, line.text);
      assert.equal(line.properties.outcome, "dry-run", line.text);
      assert.doesNotMatch(line.text, /→ "?deleted/);
    }
    assert.deepEqual(log.matching(/^Event .* recorded/), [], "no Event is sent by a replay");
    const text = formatReplay(result);
    assert.doesNotMatch(text, /MB\/s|kernel OOM kill recorded in pod [0-9a-f-]{36}/);
  });
}

Deno.test("replay names a kernel OOM kill as it names victims, and gives growth in MiB/s", async () => {
  const text = formatReplay(
    await replay(await fixture("6.12-pg-small-swap.jsonl"), {
      ...DEFAULTS,
      nodeName: "vm-node",
    }, new RecordingLog().logger),
  );
  assert.match(
    text,
    /^ +\+65\.6s {2}kernel OOM kill recorded in e2e\/postgres \(oom_kill \+14\)$/m,
  );
  assert.match(
    text,
    /would delete e2e\/postgres {2}swap 45\.6\/128\.0 MiB .*growth \d+\.\d\d MiB\/s/,
  );
});
