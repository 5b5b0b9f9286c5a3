/**
 * The "agent" permission set of deno.json, as `deno task start` and the compiled binary
 * use it: reads of the /host mounts, the service-account and config directories only;
 * a handful of environment variables; no write, no subprocess.
 */
import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname;

async function runUnderAgentSet(args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-P=agent", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

Deno.test("the agent permission set reads only the /host mounts and its config, writes and runs nothing", async () => {
  const { code, stdout, stderr } = await runUnderAgentSet(
    ["tests/fixtures/probes/permission_probe.ts"],
    { HOME: "/root", NODE_NAME: "node-a" },
  );
  assert.equal(code, 0, stderr);
  const results = JSON.parse(stdout.trim().split("\n").at(-1)!);
  assert.deepEqual(results, {
    "/etc/shadow": "denied",
    "/etc/passwd": "denied",
    "/host": "denied",
    "/host/etc/shadow": "denied",
    "/proc/self/status": "denied",
    "/host/proc/self/status": "denied",
    // Allowed paths: missing on a test machine, but not refused.
    "/host/proc/vmstat": "NotFound",
    "/host/sys/fs/cgroup/cgroup.controllers": "NotFound",
    "/etc/kube-soomkiller/kubeconfig": "NotFound",
    "write /tmp": "denied",
    "run": "denied",
    // Variables outside the allowlist read as unset, never as an error.
    "env HOME": "undefined",
    "env NODE_NAME": "node-a",
  });
});

Deno.test("the agent under its permission set says what to mount when the host view is missing", async () => {
  const { code, stdout } = await runUnderAgentSet(
    ["src/main.ts", "--metrics-addr="],
    { NODE_NAME: "node-a" },
  );
  assert.equal(code, 1);
  assert.match(stdout, /mount the host's \/sys\/fs\/cgroup at \\"\/host\/sys\/fs\/cgroup\\"/);
  assert.match(stdout, /mount the host's \/proc at \\"\/host\/proc\\"/);
});

Deno.test("the agent under its permission set names the path Deno refused outside the /host mounts", async () => {
  const { code, stdout } = await runUnderAgentSet(
    ["src/main.ts", "--metrics-addr=", "--proc-root=/etc", "--cgroup-root=/etc"],
    { NODE_NAME: "node-a" },
  );
  assert.equal(code, 1);
  assert.match(stdout, /Cannot read \\"\/etc\/vmstat\\": Deno denied the read/);
  assert.match(stdout, /permission set in deno\.json allows the \/host mounts/);
});
