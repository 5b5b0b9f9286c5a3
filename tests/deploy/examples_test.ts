// deploy/examples: the stress-test rig (MariaDB that swaps, sysbench load, a K3s VM with
// encrypted swap, skaffold). What is checked is what makes the rig demonstrate anything:
// MariaDB gets swap and has a real grace period, the load reaches it, the VM's kubelet
// allows swap, and skaffold's paths point at real files.

import assert from "node:assert/strict";
import { SHELLCHECK, tool } from "../tools.ts";
import {
  DEPLOY_DIR,
  type Doc,
  parseQuantity,
  parseYamlDocs,
  readYamlDoc,
  readYamlDocs,
  REPO_ROOT,
  runCommand,
} from "./k8s_schema.ts";

const EXAMPLES = `${DEPLOY_DIR}examples/`;
const SCRIPT = `${EXAMPLES}k3s-multipass.sh`;

const mariadbDocs = await readYamlDocs(`${EXAMPLES}mariadb.yaml`);
const statefulSet = mariadbDocs.find((d) => d.kind === "StatefulSet")!;
const secret = mariadbDocs.find((d) => d.kind === "Secret")!;
const service = mariadbDocs.find((d) => d.kind === "Service")!;
const sysbench = await readYamlDoc(`${EXAMPLES}sysbench.yaml`);

function onlyContainer(workload: Doc): Doc {
  const containers = workload.spec.template.spec.containers as Doc[];
  assert.equal(containers.length, 1);
  return containers[0]!;
}

const shellcheck = tool(SHELLCHECK);

Deno.test("MariaDB is Burstable with a 512Mi limit, so LimitedSwap gives it swap, and has a 60 s grace period", () => {
  const c = onlyContainer(statefulSet);
  const { requests, limits } = c.resources;
  assert.equal(limits.memory, "512Mi");
  assert.ok(
    parseQuantity(requests.memory) < parseQuantity(limits.memory),
    "memory request < limit: Burstable (LimitedSwap gives swap to Burstable pods only)",
  );
  assert.ok(parseQuantity(requests.memory) > 0, "a memory request: LimitedSwap sizes swap from it");
  assert.equal(statefulSet.spec.template.spec.terminationGracePeriodSeconds, 60);
  assert.deepEqual(statefulSet.spec.template.spec.nodeSelector, { swap: "enabled" });
});

Deno.test("MariaDB's buffer pool is larger than its memory limit, so a filled pool must swap", () => {
  const c = onlyContainer(statefulSet);
  const arg = (c.args as string[]).find((a) => a.startsWith("--innodb-buffer-pool-size="));
  assert.ok(arg, "--innodb-buffer-pool-size is set");
  const m = /=(\d+)([KMG])$/.exec(arg)!;
  const pool = Number(m[1]) * 1024 ** ({ K: 1, M: 2, G: 3 }[m[2] as "K" | "M" | "G"]); // MariaDB: binary units
  assert.ok(
    pool > parseQuantity(c.resources.limits.memory),
    `${arg} vs limit ${c.resources.limits.memory}`,
  );
});

Deno.test("MariaDB and sysbench agree on the service, database, user and secret", () => {
  const db = onlyContainer(statefulSet);
  const load = onlyContainer(sysbench);
  const dbEnv = new Map((db.env as Doc[]).map((e) => [e.name, e]));
  const loadEnv = new Map((load.env as Doc[]).map((e) => [e.name, e]));
  const script = (load.args as string[]).join("\n");

  assert.equal(statefulSet.spec.serviceName, service.metadata.name);
  assert.equal(service.spec.clusterIP, "None", "headless: mariadb-0.mariadb resolves");
  assert.ok(
    script.includes(`--mysql-host=${statefulSet.metadata.name}-0.${service.metadata.name}`),
  );
  assert.ok(script.includes(`--mysql-db=${dbEnv.get("MARIADB_DATABASE")!.value}`));
  assert.ok(script.includes(`--mysql-user=${dbEnv.get("MARIADB_USER")!.value}`));
  const dbPassword = dbEnv.get("MARIADB_PASSWORD")!.valueFrom.secretKeyRef;
  const loadPassword = loadEnv.get("MYSQL_PASSWORD")!.valueFrom.secretKeyRef;
  assert.deepEqual(loadPassword, dbPassword);
  for (const ref of [dbPassword, dbEnv.get("MARIADB_ROOT_PASSWORD")!.valueFrom.secretKeyRef]) {
    assert.equal(ref.name, secret.metadata.name);
    assert.ok(ref.key in secret.stringData, `secret key "${ref.key}" exists`);
  }
});

Deno.test("sysbench runs oltp_read_write with 32 threads: prepare once, then run in a loop", async () => {
  const c = onlyContainer(sysbench);
  assert.match(c.image, /^severalnines\/sysbench(:|$)/);
  assert.deepEqual(c.command, ["/bin/sh", "-c"]);
  const script = (c.args as string[])[0]!;
  assert.match(script, /while true; do/);
  assert.match(script, /sysbench oltp_read_write \$opts --threads=8 prepare/);
  assert.match(script, /sysbench oltp_read_write \$opts --threads=\$THREADS --time=\d+/);
  const env = new Map((c.env as Doc[]).map((e) => [e.name, e.value]));
  assert.equal(env.get("THREADS"), "32");
  // The script is valid POSIX sh.
  const out = await runCommand("sh", ["-n", "-c", script]);
  assert.equal(out.code, 0, out.stderr);
});

Deno.test("k3s-multipass.sh is executable and valid bash", async () => {
  const info = await Deno.stat(SCRIPT);
  assert.ok((info.mode! & 0o111) !== 0, "executable");
  const text = await Deno.readTextFile(SCRIPT);
  assert.ok(text.startsWith("#!/usr/bin/env bash\n"));
  assert.match(text, /^set -euo pipefail$/m);
  const syntax = await runCommand("bash", ["-n", SCRIPT]);
  assert.equal(syntax.code, 0, syntax.stderr);
});

Deno.test("k3s-multipass.sh is clean under shellcheck", { ignore: shellcheck.skip }, async () => {
  const lint = await runCommand("shellcheck", [SCRIPT]);
  assert.equal(lint.code, 0, lint.stdout);
});

Deno.test("k3s-multipass.sh sets up plain dm-crypt swap keyed from /dev/urandom, with crypttab's swap option", async () => {
  const text = await Deno.readTextFile(SCRIPT);
  const crypttab = /echo "(cryptswap \S+ \/dev\/urandom (\S+))" >>\/etc\/crypttab/.exec(text);
  assert.ok(crypttab, "a crypttab line with a /dev/urandom key");
  const options = crypttab[2]!.split(",");
  assert.ok(options.includes("swap"), "swap: mkswap on every open");
  assert.ok(options.includes("plain"), "plain mode: no LUKS header, a fresh key each boot");
  assert.ok(options.some((o) => o.startsWith("cipher=")));
  assert.match(text, /echo "\/dev\/mapper\/cryptswap none swap defaults 0 0" >>\/etc\/fstab/);
});

Deno.test("k3s-multipass.sh starts k3s with --fail-swap-on=false and a LimitedSwap kubelet config, and labels the node swap=enabled", async () => {
  const text = await Deno.readTextFile(SCRIPT);
  const heredoc = (tag: string) => {
    const m = new RegExp(`<<'${tag}'\\n([\\s\\S]*?)\\n${tag}\\n`).exec(text);
    assert.ok(m, `heredoc ${tag}`);
    return parseYamlDocs(m[1]!, tag)[0]!;
  };
  const kubelet = heredoc("KUBELET");
  assert.equal(kubelet.apiVersion, "kubelet.config.k8s.io/v1beta1");
  assert.equal(kubelet.kind, "KubeletConfiguration");
  assert.equal(kubelet.failSwapOn, false);
  assert.deepEqual(kubelet.memorySwap, { swapBehavior: "LimitedSwap" });
  const k3s = heredoc("K3S");
  assert.ok(k3s["kubelet-arg"].includes("fail-swap-on=false"));
  assert.ok(k3s["kubelet-arg"].includes("config=/etc/rancher/k3s/kubelet-swap.yaml"));
  assert.match(text, /cat >\/etc\/rancher\/k3s\/kubelet-swap\.yaml <<'KUBELET'/);
  // NodeSwap only where it is needed (off by default before 1.30; the gate goes away after GA).
  assert.match(
    text,
    /if \[ "\$minor" -lt 30 \][^\n]*\n[^\n]*\n\s*printf 'featureGates:\\n {2}NodeSwap: true\\n'/,
  );
  assert.match(text, /kubectl label node "\$node" swap=enabled --overwrite/);
});

Deno.test("skaffold.yaml builds the DaemonSet's image from Dockerfile.distroless and deploys deploy/ and the examples", async () => {
  const skaffold = await readYamlDoc(`${EXAMPLES}skaffold.yaml`);
  assert.equal(skaffold.apiVersion, "skaffold/v4beta11");
  assert.equal(skaffold.kind, "Config");
  const [artifact, ...more] = skaffold.build.artifacts as Doc[];
  assert.equal(more.length, 0);
  const ds = await readYamlDoc(`${DEPLOY_DIR}base/daemonset.yaml`);
  const image = ds.spec.template.spec.containers[0].image as string;
  assert.equal(
    artifact!.image,
    image.slice(0, image.lastIndexOf(":")),
    "skaffold replaces the DaemonSet's image",
  );
  // Skaffold resolves paths from where it runs: the repository root.
  const exists = async (path: string) =>
    (await Deno.stat(`${REPO_ROOT}${path}`).catch(() => null)) !== null;
  assert.ok(await exists(`${artifact!.context}/${artifact!.docker.dockerfile}`));
  assert.equal(artifact!.docker.dockerfile, "Dockerfile.distroless");
  const paths = skaffold.manifests.kustomize.paths as string[];
  assert.deepEqual(paths, ["deploy", "deploy/examples"]);
  for (const path of paths) assert.ok(await exists(`${path}/kustomization.yaml`), path);
  const armed = (skaffold.profiles as Doc[]).find((p) => p.name === "armed")!;
  assert.deepEqual(armed.patches, [
    { op: "replace", path: "/manifests/kustomize/paths/0", value: "deploy/overlays/armed" },
  ]);
  assert.ok(await exists("deploy/overlays/armed/kustomization.yaml"));
});
