// Dockerfile.distroless: a deno compile build stage and a distroless final stage. The
// image cannot be built here (no Docker engine, and deno compile downloads denort), so
// this checks the file's structure and runs the compile step's shell with a stand-in
// `deno` that records its arguments.

import assert from "node:assert/strict";
import { REPO_ROOT, runCommand } from "./k8s_schema.ts";

type Instruction = { keyword: string; args: string };
type Stage = { from: string; name?: string; instructions: Instruction[] };

const DOCKERFILE = await Deno.readTextFile(`${REPO_ROOT}Dockerfile.distroless`);

/** Splits a Dockerfile into stages of instructions; comments dropped, continuations joined. */
function parseDockerfile(text: string): Stage[] {
  const lines = text.split("\n").filter((l) => !/^\s*#/.test(l));
  const joined = lines.join("\n").replace(/\\\n/g, " ");
  const stages: Stage[] = [];
  for (const line of joined.split("\n")) {
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const keyword = m[1]!.toUpperCase();
    const args = m[2]!.trim();
    if (keyword === "FROM") {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      assert.ok(from, `unparsable FROM: ${args}`);
      stages.push({ from: from[1]!, name: from[2], instructions: [] });
    } else {
      assert.ok(stages.length > 0, `${keyword} before FROM`);
      stages.at(-1)!.instructions.push({ keyword, args });
    }
  }
  return stages;
}

const stages = parseDockerfile(DOCKERFILE);
const build = stages[0]!;
const final = stages.at(-1)!;
const runs = build.instructions.filter((i) => i.keyword === "RUN").map((i) => i.args);
const compileRun = runs.find((r) => r.includes("deno compile"));

Deno.test("Dockerfile.distroless has a build stage on the pinned Deno image and a final stage on distroless cc nonroot", () => {
  assert.equal(stages.length, 2);
  assert.equal(build.name, "build");
  assert.match(build.from, /^denoland\/deno:\d+\.\d+\.\d+$/, "pinned Deno version");
  assert.equal(final.from, "gcr.io/distroless/cc-debian12:nonroot");
  assert.ok(!final.from.includes("debug"), "the :debug variants carry a shell");
});

Deno.test("the final stage runs as nonroot with an exec-form ENTRYPOINT and has no shell to run anything with", () => {
  const keywords = final.instructions.map((i) => i.keyword);
  for (const forbidden of ["RUN", "SHELL", "CMD", "ADD"]) {
    assert.ok(!keywords.includes(forbidden), `no ${forbidden} in the final stage`);
  }
  const users = final.instructions.filter((i) => i.keyword === "USER").map((i) => i.args);
  assert.equal(users.length, 1);
  assert.match(users[0]!, /^(nonroot|65532)(:(nonroot|65532))?$/);
  const entrypoints = final.instructions.filter((i) => i.keyword === "ENTRYPOINT");
  assert.equal(entrypoints.length, 1);
  const entrypoint = JSON.parse(entrypoints[0]!.args); // throws on shell form
  assert.ok(Array.isArray(entrypoint) && entrypoint.length === 1);
  // The ENTRYPOINT is the binary the build stage compiled.
  const copy = final.instructions.find((i) => i.keyword === "COPY")!;
  const [, from, source, dest] = /^--from=(\S+)\s+(\S+)\s+(\S+)$/.exec(copy.args)!;
  assert.equal(from, build.name);
  assert.equal(dest, entrypoint[0]);
  assert.ok(compileRun?.includes(`--output ${source}`), `compile writes ${source}`);
});

Deno.test("the build stage installs the locked dependencies, then compiles src/main.ts with the agent permission set", async () => {
  const installIndex = runs.findIndex((r) => /^deno install --frozen$/.test(r));
  assert.ok(installIndex >= 0, "RUN deno install --frozen");
  assert.ok(compileRun, "a RUN with deno compile");
  assert.ok(runs.indexOf(compileRun) > installIndex);
  assert.match(compileRun, /deno compile -P=agent /);
  assert.match(compileRun, /src\/main\.ts$/);
  const copies = build.instructions.filter((i) => i.keyword === "COPY").map((i) => i.args);
  assert.ok(copies.includes("deno.json deno.lock ./"));
  const denoJson = JSON.parse(await Deno.readTextFile(`${REPO_ROOT}deno.json`));
  assert.ok(denoJson.permissions?.agent, 'deno.json defines the "agent" permission set');
  assert.match(
    denoJson.tasks.compile,
    /deno compile -P=agent /,
    "the compile task uses the same set",
  );
});

async function compileFor(targetArch: string): Promise<{ code: number; args: string }> {
  const dir = await Deno.makeTempDir({ prefix: "soomkiller-docker-" });
  try {
    await Deno.writeTextFile(`${dir}/deno`, `#!/bin/sh\nprintf '%s\\n' "$*" > "${dir}/args"\n`);
    await Deno.chmod(`${dir}/deno`, 0o755);
    const out = await runCommand("sh", ["-c", compileRun!], {
      env: { PATH: `${dir}:/usr/bin:/bin`, TARGETARCH: targetArch },
    });
    const args = await Deno.readTextFile(`${dir}/args`).catch(() => "");
    return { code: out.code, args: args.trim() };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the compile step picks the deno compile target from TARGETARCH and refuses others", async () => {
  const amd64 = await compileFor("amd64");
  assert.equal(amd64.code, 0);
  assert.equal(
    amd64.args,
    "compile -P=agent --v8-flags=--lite-mode --no-code-cache --frozen --target x86_64-unknown-linux-gnu --output /out/kube-soomkiller src/main.ts",
  );
  const arm64 = await compileFor("arm64");
  assert.equal(arm64.code, 0);
  assert.match(arm64.args, /--target aarch64-unknown-linux-gnu /);
  const other = await compileFor("s390x");
  assert.notEqual(other.code, 0);
  assert.equal(other.args, "", "deno compile is not run");
});

Deno.test("Dockerfile.distroless documents the expected image size", () => {
  const comments = DOCKERFILE.split("\n").filter((l) => l.startsWith("#")).map((l) =>
    l.slice(1).trim()
  )
    .join(" ");
  assert.match(comments, /distroless\/cc-debian12 is about \d+ MB/);
  assert.match(comments, /compiled binary, about \d+-\d+ MB/);
});
