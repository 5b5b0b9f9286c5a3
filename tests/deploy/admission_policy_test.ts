// deploy/optional/node-scoped-delete: the ValidatingAdmissionPolicy that limits the
// agent's service account to deleting pods on its own node. Its CEL expressions are run
// with a conformant CEL evaluator (@bufbuild/cel) against admission requests shaped like
// the API server's, so a typo, a missing guard or inverted logic fails here rather than
// in a cluster.

import assert from "node:assert/strict";
import { run } from "@bufbuild/cel";
import { DEPLOY_DIR, type Doc, readYamlDoc } from "./k8s_schema.ts";

const DIR = `${DEPLOY_DIR}optional/node-scoped-delete/`;
const NODE_KEY = "authentication.kubernetes.io/node-name";
const AGENT = "system:serviceaccount:kube-soomkiller:kube-soomkiller";

const policy = await readYamlDoc(`${DIR}validatingadmissionpolicy.yaml`);
const binding = await readYamlDoc(`${DIR}validatingadmissionpolicybinding.yaml`);

/** JSON-like values to CEL values: objects become maps, as the API server presents them. */
function toCel(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toCel);
  if (value !== null && typeof value === "object") {
    return new Map(Object.entries(value).map(([k, v]) => [k, toCel(v)]));
  }
  return value;
}

/** The variables of a DELETE of a pod on `podNode` by `username` with the given user extra. */
function deleteRequest(
  options: {
    username?: string;
    extra?: Record<string, string[]>;
    podNode?: string;
    /** UPDATE: the pods/status patch (DisruptionTarget) instead of the DELETE. */
    operation?: "DELETE" | "UPDATE";
  },
): Record<string, unknown> {
  const userInfo: Doc = { username: options.username ?? AGENT, uid: "u-1" };
  if (options.extra !== undefined) userInfo.extra = options.extra;
  const spec: Doc = { containers: [{ name: "app", image: "app" }] };
  if (options.podNode !== undefined) spec.nodeName = options.podNode;
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "mariadb-0", namespace: "db" },
    spec,
  };
  const operation = options.operation ?? "DELETE";
  const request: Doc = { operation, name: "mariadb-0", namespace: "db", userInfo };
  if (operation === "UPDATE") request.subResource = "status";
  return {
    request: toCel(request),
    oldObject: toCel(pod),
    object: operation === "UPDATE" ? toCel(pod) : null,
  };
}

/** Evaluates a CEL expression; an evaluation error (which the evaluator returns) is thrown. */
function evaluate(expression: string, vars: Record<string, unknown>): unknown {
  const result = run(expression, vars as Parameters<typeof run>[1]);
  if (result instanceof Error) throw result;
  return result;
}

const validation = (policy.spec.validations as Doc[])[0]!;

Deno.test("the policy matches DELETE of core v1 pods and UPDATE of pods/status only, fails closed and is bound with Deny", () => {
  assert.equal(policy.apiVersion, "admissionregistration.k8s.io/v1");
  assert.equal(policy.spec.failurePolicy, "Fail");
  assert.deepEqual(policy.spec.matchConstraints.resourceRules, [
    { apiGroups: [""], apiVersions: ["v1"], operations: ["DELETE"], resources: ["pods"] },
    { apiGroups: [""], apiVersions: ["v1"], operations: ["UPDATE"], resources: ["pods/status"] },
  ]);
  assert.equal((policy.spec.validations as Doc[]).length, 1);
  assert.equal(binding.spec.policyName, policy.metadata.name);
  assert.deepEqual(binding.spec.validationActions, ["Deny"]);
  assert.equal(binding.spec.matchResources, undefined, "applies in every namespace");
});

Deno.test("the policy's match condition selects the agent's service account and nobody else", async () => {
  const sa = await readYamlDoc(`${DEPLOY_DIR}base/serviceaccount.yaml`);
  assert.equal(AGENT, `system:serviceaccount:${sa.metadata.namespace}:${sa.metadata.name}`);
  const conditions = policy.spec.matchConditions as Doc[];
  assert.equal(conditions.length, 1);
  const expression = conditions[0]!.expression as string;
  assert.equal(evaluate(expression, deleteRequest({})), true);
  for (
    const other of [
      "system:serviceaccount:kube-system:kube-soomkiller",
      "kubernetes-admin",
      "system:node:n1",
    ]
  ) {
    assert.equal(evaluate(expression, deleteRequest({ username: other })), false, other);
  }
});

Deno.test("the policy admits the agent's delete of a pod on its own node", () => {
  const vars = deleteRequest({ extra: { [NODE_KEY]: ["node-a"] }, podNode: "node-a" });
  assert.equal(evaluate(validation.expression, vars), true);
});

Deno.test("the policy admits the agent's DisruptionTarget status patch on its own node only", () => {
  const own: Parameters<typeof deleteRequest>[0] = {
    extra: { [NODE_KEY]: ["node-a"] },
    podNode: "node-a",
    operation: "UPDATE",
  };
  assert.equal(evaluate(validation.expression, deleteRequest(own)), true);
  assert.equal(
    evaluate(validation.expression, deleteRequest({ ...own, podNode: "node-b" })),
    false,
  );
  assert.equal(
    evaluate(validation.expression, deleteRequest({ podNode: "node-a", operation: "UPDATE" })),
    false,
    "a token without a node name",
  );
});

Deno.test("the policy denies, without an evaluation error, every delete it cannot prove is on the agent's node", () => {
  const cases: Array<[string, Parameters<typeof deleteRequest>[0]]> = [
    ["pod on another node", { extra: { [NODE_KEY]: ["node-a"] }, podNode: "node-b" }],
    ["token without user extra (pre-1.30, or a kubeconfig token)", { podNode: "node-a" }],
    ["user extra without the node name", {
      extra: { "authentication.kubernetes.io/pod-name": ["x"] },
      podNode: "node-a",
    }],
    ["empty node-name list", { extra: { [NODE_KEY]: [] }, podNode: "node-a" }],
    ["pod not bound to a node", { extra: { [NODE_KEY]: ["node-a"] } }],
  ];
  for (const [name, request] of cases) {
    assert.equal(evaluate(validation.expression, deleteRequest(request)), false, name);
  }
});

Deno.test("the policy's guards are load-bearing: the bare comparison errors on a token without a node name", () => {
  const bare = `oldObject.spec.nodeName == request.userInfo.extra['${NODE_KEY}'][0]`;
  assert.throws(() => evaluate(bare, deleteRequest({ podNode: "node-a" })));
  assert.throws(() => evaluate(bare, deleteRequest({ extra: {}, podNode: "node-a" })));
});

Deno.test("the policy's denial message names the pod and both nodes, in every denied case", () => {
  assert.equal(validation.reason, "Forbidden");
  const other = evaluate(
    validation.messageExpression,
    deleteRequest({ extra: { [NODE_KEY]: ["node-a"] }, podNode: "node-b" }),
  );
  assert.equal(
    other,
    'kube-soomkiller may delete or mark only pods on its own node: pod "mariadb-0" is on node "node-b", the request comes from node "node-a"',
  );
  const unknown = evaluate(validation.messageExpression, deleteRequest({ podNode: "node-b" }));
  assert.match(String(unknown), /unknown: token carries no node name/);
  const unbound = evaluate(
    validation.messageExpression,
    deleteRequest({ extra: { [NODE_KEY]: ["node-a"] } }),
  );
  assert.match(String(unbound), /is on node ""/);
});

Deno.test("the node-scoped policy is a kustomize Component listing both objects", async () => {
  const k = await readYamlDoc(`${DIR}kustomization.yaml`);
  assert.equal(k.kind, "Component");
  assert.deepEqual(k.resources, [
    "validatingadmissionpolicy.yaml",
    "validatingadmissionpolicybinding.yaml",
  ]);
});
