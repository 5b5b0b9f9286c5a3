// deploy/: every manifest parses and matches the Kubernetes schemas, the kustomizations
// list every manifest and build, and the agent's DaemonSet and RBAC have exactly the
// security properties the design asks for.

import assert from "node:assert/strict";
import { KUBECTL, tool } from "../tools.ts";
import {
  DEPLOY_DIR,
  describe,
  type Doc,
  isKubernetesObject,
  listFiles,
  parseYamlDocs,
  readYamlDoc,
  readYamlDocs,
  REPO_ROOT,
  runCommand,
  unknownFields,
  validateSchema,
} from "./k8s_schema.ts";

const kubectl = tool(KUBECTL);

const yamlFiles = (await listFiles(DEPLOY_DIR)).filter((p) => /\.ya?ml$/.test(p));
const relative = (path: string) => path.replace(REPO_ROOT, "");

/** The objects of the agent's base install, by kind (one of each). */
async function baseObjects(): Promise<Record<string, Doc>> {
  const byKind: Record<string, Doc> = {};
  for (const file of ["namespace", "serviceaccount", "clusterrole", "clusterrolebinding"]) {
    const doc = await readYamlDoc(`${DEPLOY_DIR}base/${file}.yaml`);
    byKind[doc.kind] = doc;
  }
  byKind.DaemonSet = await readYamlDoc(`${DEPLOY_DIR}base/daemonset.yaml`);
  return byKind;
}

function agentContainer(ds: Doc): Doc {
  const containers = ds.spec.template.spec.containers as Doc[];
  assert.equal(containers.length, 1, "the agent pod has exactly one container");
  return containers[0]!;
}

async function denoJson(): Promise<Doc> {
  return JSON.parse(await Deno.readTextFile(`${REPO_ROOT}deno.json`));
}

Deno.test("every YAML file under deploy/ parses, and every Kubernetes object in it matches its schema with no unknown field", async () => {
  assert.ok(yamlFiles.length >= 15, `found only ${yamlFiles.length} YAML files`);
  let objects = 0;
  for (const file of yamlFiles) {
    const docs = await readYamlDocs(file);
    assert.ok(docs.length > 0, `"${relative(file)}" holds no document`);
    for (const doc of docs) {
      assert.equal(
        typeof doc.apiVersion,
        "string",
        `a document in "${relative(file)}" has no apiVersion`,
      );
      assert.equal(typeof doc.kind, "string", `a document in "${relative(file)}" has no kind`);
      if (!isKubernetesObject(doc)) continue;
      objects++;
      validateSchema(doc);
      assert.deepEqual(unknownFields(doc), [], `${describe(doc)} in "${relative(file)}"`);
    }
  }
  assert.ok(objects >= 13, `found only ${objects} Kubernetes objects`);
});

Deno.test("unknownFields() reports a misspelt field that the schema validation lets through", async () => {
  const ds = await readYamlDoc(`${DEPLOY_DIR}base/daemonset.yaml`);
  const sc = agentContainer(ds).securityContext;
  sc.readOnlyRootFileSystem = sc.readOnlyRootFilesystem;
  delete sc.readOnlyRootFilesystem;
  validateSchema(ds); // the OpenAPI schema allows additional properties
  assert.deepEqual(unknownFields(ds), [
    "spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem",
  ]);
});

Deno.test("parseYamlDocs() reads YAML 1.1 like kubectl, so the schema check catches an unquoted yes", () => {
  const [doc] = parseYamlDocs(
    "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: x\n  labels:\n    a: yes\n",
    "t",
  );
  assert.equal(doc!.metadata.labels.a, true);
  assert.throws(() => validateSchema(doc!), /labels/);
  assert.throws(() => parseYamlDocs("a: 1\na: 2\n", "dup"), /Cannot parse "dup"/);
});

Deno.test("each kustomization under deploy/ lists every manifest in its directory, and every entry exists", async () => {
  const dirs = new Set(yamlFiles.map((p) => p.slice(0, p.lastIndexOf("/"))));
  for (const dir of dirs) {
    const rel = relative(dir) || ".";
    const names = yamlFiles.filter((p) => p.slice(0, p.lastIndexOf("/")) === dir).map((p) =>
      p.slice(dir.length + 1)
    );
    assert.ok(
      names.includes("kustomization.yaml"),
      `"${rel}" has YAML files but no kustomization.yaml`,
    );
    const k = await readYamlDoc(`${dir}/kustomization.yaml`);
    assert.match(k.apiVersion, /^kustomize\.config\.k8s\.io\//);
    const entries = [...(k.resources ?? []), ...(k.components ?? [])] as string[];
    // Manifests are the YAML files that hold Kubernetes objects (not skaffold.yaml).
    const manifests: string[] = [];
    for (const name of names) {
      if (name === "kustomization.yaml") continue;
      const docs = await readYamlDocs(`${dir}/${name}`);
      if (docs.every(isKubernetesObject)) manifests.push(name);
      else assert.ok(docs.every((d) => !isKubernetesObject(d)), `"${rel}/${name}" mixes kinds`);
    }
    const listedFiles = entries.filter((e) => /\.ya?ml$/.test(e)).sort();
    assert.deepEqual(listedFiles, manifests.sort(), `"${rel}/kustomization.yaml" resources`);
    for (const entry of entries.filter((e) => !/\.ya?ml$/.test(e))) {
      const target = `${dir}/${entry}`;
      assert.ok(
        (await Deno.stat(`${target}/kustomization.yaml`).catch(() => null))?.isFile,
        `"${rel}/kustomization.yaml" refers to "${entry}", which has no kustomization.yaml`,
      );
    }
  }
  // The install entry point: `kubectl apply -k deploy/`.
  assert.deepEqual((await readYamlDoc(`${DEPLOY_DIR}kustomization.yaml`)).resources, ["base"]);
});

Deno.test("kubectl kustomize builds every kustomization, and what it renders matches the schemas", {
  ignore: kubectl.skip,
}, async () => {
  const build = async (dir: string) => {
    const out = await runCommand("kubectl", ["kustomize", `${DEPLOY_DIR}${dir}`]);
    assert.equal(out.code, 0, `kubectl kustomize deploy/${dir}: ${out.stderr}`);
    const docs = parseYamlDocs(out.stdout, `kustomize build deploy/${dir}`);
    for (const doc of docs) {
      validateSchema(doc);
      assert.deepEqual(unknownFields(doc), [], describe(doc));
    }
    return docs;
  };
  const argsOf = (docs: Doc[]) =>
    agentContainer(docs.find((d) => d.kind === "DaemonSet")!).args as string[];
  const kinds = (docs: Doc[]) => docs.map((d) => d.kind).sort();

  const plain = await build("");
  assert.deepEqual(kinds(plain), [
    "ClusterRole",
    "ClusterRoleBinding",
    "DaemonSet",
    "Namespace",
    "ResourceQuota",
    "ServiceAccount",
  ]);
  assert.ok(argsOf(plain).includes("--dry-run=true"));

  const armed = await build("overlays/armed");
  assert.deepEqual(kinds(armed), kinds(plain));
  assert.ok(argsOf(armed).includes("--dry-run=false"));
  assert.ok(!argsOf(armed).includes("--dry-run=true"));
  assert.deepEqual(argsOf(armed).slice(1), argsOf(plain).slice(1), "only --dry-run changes");

  const scoped = await build("overlays/armed-node-scoped");
  assert.deepEqual(
    kinds(scoped),
    [...kinds(plain), "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"].sort(),
  );
  assert.ok(argsOf(scoped).includes("--dry-run=false"));

  const monitored = await build("overlays/monitored");
  assert.deepEqual(kinds(monitored), [...kinds(plain), "PodMonitor", "PrometheusRule"].sort());
  assert.ok(argsOf(monitored).includes("--dry-run=true"));

  const examples = await build("examples");
  assert.deepEqual(kinds(examples), [
    "Deployment",
    "Namespace",
    "Secret",
    "Service",
    "StatefulSet",
  ]);
});

Deno.test(
  "the armed overlay refuses to build when --dry-run=true is no longer the first argument",
  {
    ignore: kubectl.skip,
  },
  async () => {
    const tmp = await Deno.makeTempDir({ prefix: "soomkiller-deploy-" });
    try {
      await runCommand("cp", ["-r", `${DEPLOY_DIR}base`, `${DEPLOY_DIR}overlays`, tmp]);
      const dsPath = `${tmp}/base/daemonset.yaml`;
      const text = await Deno.readTextFile(dsPath);
      const swapped = text.replace(
        "- --dry-run=true\n            - --proc-root=/host/proc",
        "- --proc-root=/host/proc\n            - --dry-run=true",
      );
      assert.notEqual(swapped, text, "the test's edit of daemonset.yaml no longer applies");
      await Deno.writeTextFile(dsPath, swapped);
      const out = await runCommand("kubectl", ["kustomize", `${tmp}/overlays/armed`]);
      assert.notEqual(out.code, 0, "the armed overlay built against a reordered argument list");
      assert.match(out.stderr, /test/i);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
);

Deno.test("the agent's pod runs unprivileged: non-root, read-only root, no privilege escalation, no capabilities, RuntimeDefault seccomp, no host namespaces", async () => {
  const { DaemonSet: ds } = await baseObjects();
  const pod = ds!.spec.template.spec;
  for (const hostNamespace of ["hostPID", "hostNetwork", "hostIPC"]) {
    assert.notEqual(pod[hostNamespace], true, `${hostNamespace} must not be true`);
  }
  assert.equal(pod.initContainers, undefined, "no init containers");
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.ok(pod.securityContext.runAsUser > 0, "runAsUser is a non-root UID");
  assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault");

  const c = agentContainer(ds!);
  const sc = c.securityContext;
  assert.notEqual(sc.privileged, true);
  assert.equal(sc.allowPrivilegeEscalation, false);
  assert.equal(sc.readOnlyRootFilesystem, true);
  assert.equal(sc.runAsNonRoot, true);
  assert.deepEqual(sc.capabilities, { drop: ["ALL"] }, "drops ALL and adds none");
  assert.equal(sc.seccompProfile.type, "RuntimeDefault");
  assert.equal(sc.runAsUser ?? pod.securityContext.runAsUser, 65532, "distroless nonroot UID");
});

Deno.test("the agent reads the host through exactly two read-only hostPath mounts: /proc at /host/proc, /sys/fs/cgroup at /host/sys/fs/cgroup", async () => {
  const { DaemonSet: ds } = await baseObjects();
  const pod = ds!.spec.template.spec;
  const volumes = pod.volumes as Doc[];
  const hostPaths = volumes.filter((v) => v.hostPath !== undefined);
  assert.equal(hostPaths.length, volumes.length, "every volume is a hostPath volume");
  const mounts = agentContainer(ds!).volumeMounts as Doc[];
  const mountOf = (hostPath: string) => {
    const volume = hostPaths.find((v) => v.hostPath.path === hostPath);
    assert.ok(volume, `no hostPath volume for "${hostPath}"`);
    assert.equal(volume.hostPath.type, "Directory");
    const mount = mounts.filter((m) => m.name === volume.name);
    assert.equal(mount.length, 1, `volume "${volume.name}" is mounted once`);
    return mount[0]!;
  };
  const proc = mountOf("/proc");
  const cgroup = mountOf("/sys/fs/cgroup");
  assert.equal(hostPaths.length, 2);
  assert.deepEqual(
    [proc.mountPath, proc.readOnly, cgroup.mountPath, cgroup.readOnly],
    ["/host/proc", true, "/host/sys/fs/cgroup", true],
  );
  for (const m of mounts) {
    assert.equal(m.readOnly, true, `mount "${m.mountPath}" is read-only`);
    assert.ok(m.mountPropagation === undefined || m.mountPropagation === "None");
    assert.equal(m.subPath, undefined);
  }
  const args = agentContainer(ds!).args as string[];
  assert.ok(args.includes("--proc-root=/host/proc"));
  assert.ok(args.includes("--cgroup-root=/host/sys/fs/cgroup"));
});

Deno.test("the DaemonSet matches the agent's Deno permission set: its /host reads are mounted, the env it sets is allowed", async () => {
  const { DaemonSet: ds } = await baseObjects();
  const agent = (await denoJson()).permissions.agent;
  assert.ok(agent, 'deno.json has the "agent" permission set');
  for (const denied of ["write", "run", "ffi", "sys"]) {
    assert.ok(agent[denied] === undefined || agent[denied] === false, `agent allows ${denied}`);
  }
  const mounts = (agentContainer(ds!).volumeMounts as Doc[]).map((m) => m.mountPath as string);
  for (const path of (agent.read as string[]).filter((p) => p.startsWith("/host/"))) {
    assert.ok(
      mounts.some((m) => path === m || path.startsWith(`${m}/`)),
      `the permission set reads "${path}", which no volume mount provides`,
    );
  }
  const envNames = (agentContainer(ds!).env as Doc[]).map((e) => e.name as string);
  for (const name of envNames) {
    assert.ok(
      (agent.env.allow as string[]).includes(name),
      `env "${name}" is not in the permission set`,
    );
  }
});

Deno.test("the agent's pod is Guaranteed QoS: cpu and memory requests equal limits", async () => {
  const { DaemonSet: ds } = await baseObjects();
  const { requests, limits } = agentContainer(ds!).resources;
  for (const resource of ["cpu", "memory"]) {
    assert.ok(requests[resource] !== undefined, `${resource} request is set`);
    assert.equal(
      String(requests[resource]),
      String(limits[resource]),
      `${resource} request == limit`,
    );
  }
  assert.deepEqual(Object.keys(requests).sort(), Object.keys(limits).sort());
});

Deno.test("the agent runs on swap nodes only, tolerates every taint, is node-critical and rolls one node at a time", async () => {
  const { DaemonSet: ds } = await baseObjects();
  const pod = ds!.spec.template.spec;
  assert.deepEqual(pod.nodeSelector, { swap: "enabled" });
  assert.equal(pod.priorityClassName, "system-node-critical");
  assert.ok(
    (pod.tolerations as Doc[]).some((t) =>
      t.operator === "Exists" && t.key === undefined && t.effect === undefined
    ),
    "a toleration with operator Exists and no key tolerates every taint",
  );
  assert.deepEqual(ds!.spec.updateStrategy, {
    type: "RollingUpdate",
    rollingUpdate: { maxUnavailable: 1 },
  });
});

Deno.test("the agent gets its node and its own identity from the downward API", async () => {
  const { DaemonSet: ds } = await baseObjects();
  const env = new Map(
    (agentContainer(ds!).env as Doc[]).map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath]),
  );
  assert.equal(env.get("NODE_NAME"), "spec.nodeName");
  assert.equal(env.get("POD_NAME"), "metadata.name");
  assert.equal(env.get("POD_NAMESPACE"), "metadata.namespace");
  assert.equal(env.get("POD_UID"), "metadata.uid");
});

Deno.test("the agent starts in dry-run: --dry-run=true is its first argument and nothing arms it", async () => {
  const { DaemonSet: ds } = await baseObjects();
  const args = agentContainer(ds!).args as string[];
  assert.equal(args[0], "--dry-run=true");
  assert.equal(args.filter((a) => a.startsWith("--dry-run")).length, 1);
  assert.equal(agentContainer(ds!).command, undefined, "the image's ENTRYPOINT runs");
});

Deno.test("the agent's probes and image: /healthz and /readyz on the metrics port 9402, a pinned image at the project's version", async () => {
  const { DaemonSet: ds } = await baseObjects();
  const c = agentContainer(ds!);
  assert.deepEqual(c.ports, [{ name: "metrics", containerPort: 9402, protocol: "TCP" }]);
  assert.deepEqual(c.livenessProbe.httpGet, { path: "/healthz", port: "metrics" });
  assert.deepEqual(c.readinessProbe.httpGet, { path: "/readyz", port: "metrics" });
  const version = (await denoJson()).version;
  assert.equal(c.image, `ghcr.io/kube-soomkiller/kube-soomkiller:${version}`);
});

Deno.test("RBAC grants exactly pods get/list/delete (no watch: the agent never watches, issue 21), pods/eviction create, pods/status patch and events.k8s.io events create, to the agent's service account only", async () => {
  const objects = await baseObjects();
  const role = objects.ClusterRole!;
  const rules = (role.rules as Doc[]).map((r) => ({
    apiGroups: [...r.apiGroups].sort(),
    resources: [...r.resources].sort(),
    verbs: [...r.verbs].sort(),
    extra: Object.keys(r).filter((k) => !["apiGroups", "resources", "verbs"].includes(k)),
  }));
  assert.deepEqual(rules, [
    { apiGroups: [""], resources: ["pods"], verbs: ["delete", "get", "list"], extra: [] },
    { apiGroups: [""], resources: ["pods/eviction"], verbs: ["create"], extra: [] },
    { apiGroups: [""], resources: ["pods/status"], verbs: ["patch"], extra: [] },
    { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["create"], extra: [] },
  ]);
  const text = JSON.stringify(role.rules);
  assert.ok(!text.includes("*"), "no wildcard");
  assert.ok(!/secret/i.test(text), "no secrets");
  assert.equal(role.aggregationRule, undefined);

  const binding = objects.ClusterRoleBinding!;
  const sa = objects.ServiceAccount!;
  assert.deepEqual(binding.roleRef, {
    apiGroup: "rbac.authorization.k8s.io",
    kind: "ClusterRole",
    name: role.metadata.name,
  });
  assert.deepEqual(binding.subjects, [{
    kind: "ServiceAccount",
    name: sa.metadata.name,
    namespace: sa.metadata.namespace,
  }]);
  assert.equal(sa.metadata.namespace, objects.Namespace!.metadata.name);
  assert.equal(objects.DaemonSet!.spec.template.spec.serviceAccountName, sa.metadata.name);
  assert.equal(objects.DaemonSet!.metadata.namespace, sa.metadata.namespace);
});

Deno.test("no other manifest under deploy/ grants RBAC permissions", async () => {
  const rbacKinds = new Set(["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"]);
  const found: string[] = [];
  for (const file of yamlFiles) {
    for (const doc of await readYamlDocs(file)) {
      if (rbacKinds.has(doc.kind)) found.push(`${relative(file)}: ${describe(doc)}`);
    }
  }
  assert.deepEqual(found, [
    'deploy/base/clusterrole.yaml: ClusterRole "kube-soomkiller"',
    'deploy/base/clusterrolebinding.yaml: ClusterRoleBinding "kube-soomkiller"',
  ]);
});

Deno.test("the namespace enforces privileged Pod Security (hostPath needs it) and warns and audits at restricted", async () => {
  const ns = (await baseObjects()).Namespace!;
  assert.equal(ns.metadata.name, "kube-soomkiller");
  assert.equal(ns.metadata.labels["pod-security.kubernetes.io/enforce"], "privileged");
  assert.equal(ns.metadata.labels["pod-security.kubernetes.io/warn"], "restricted");
  assert.equal(ns.metadata.labels["pod-security.kubernetes.io/audit"], "restricted");
});
