// The agent's `deno run` flags (V8 and code cache) are those of deno.json's `start` task
// everywhere the agent is started or built: `deno task compile`, the Dockerfile's compile
// step, the VM suite's guest and the bench (tests/bench/README.md: what they save in RSS).

import assert from "node:assert/strict";
import { productionRunFlags } from "../bench/footprint.ts";
import { REPO_ROOT } from "./k8s_schema.ts";

const CONFIG = JSON.parse(await Deno.readTextFile(`${REPO_ROOT}deno.json`)) as {
  tasks: Record<string, string>;
};

Deno.test("the start task runs the agent with the lean flags, the bench reads them from it", async () => {
  assert.equal(
    CONFIG.tasks.start,
    "deno run -P=agent --v8-flags=--lite-mode --no-code-cache src/main.ts",
  );
  assert.deepEqual(await productionRunFlags(), ["--v8-flags=--lite-mode", "--no-code-cache"]);
});

Deno.test("deno task compile, the Dockerfile and the VM guest use the start task's flags", async () => {
  const flags = await productionRunFlags();
  const compiles = CONFIG.tasks.compile!.split("&&").map((c) => c.trim());
  assert.equal(compiles.length, 2);
  const dockerfile = await Deno.readTextFile(`${REPO_ROOT}Dockerfile.distroless`);
  const dockerCompile = dockerfile.split("\n").find((l) => /^\s*&& deno compile /.test(l));
  assert.ok(dockerCompile !== undefined);
  const guest = await Deno.readTextFile(`${REPO_ROOT}tests/vm/guest/node.ts`);
  for (const flag of flags) {
    for (const compile of compiles) {
      assert.ok(compile.split(" ").includes(flag), `deno task compile lacks ${flag}: ${compile}`);
    }
    assert.ok(dockerCompile.split(" ").includes(flag), `the Dockerfile lacks ${flag}`);
    // Both the agent and the recorder the guest starts.
    assert.equal(guest.split(`"${flag}",`).length - 1, 2, `the VM guest lacks ${flag}`);
  }
});
