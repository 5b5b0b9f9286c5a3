// deploy/optional/metrics-network-policy (issue 12, item 3): a NetworkPolicy that selects the
// agent's pods and admits only the scraper, only on the metrics port.

import assert from "node:assert/strict";
import { DEPLOY_DIR, readYamlDoc, validateSchema } from "./k8s_schema.ts";

Deno.test("the metrics NetworkPolicy selects the agent's pods and admits only the scraper on TCP 9402", async () => {
  const policy = await readYamlDoc(
    `${DEPLOY_DIR}optional/metrics-network-policy/networkpolicy.yaml`,
  );
  validateSchema(policy);
  const ds = await readYamlDoc(`${DEPLOY_DIR}base/daemonset.yaml`);
  assert.equal(policy.kind, "NetworkPolicy");
  assert.equal(policy.metadata.namespace, ds.metadata.namespace);
  // Its pod selector matches the agent's pod template.
  const podLabels = ds.spec.template.metadata.labels as Record<string, string>;
  for (const [key, value] of Object.entries(policy.spec.podSelector.matchLabels)) {
    assert.equal(podLabels[key], value, key);
  }
  assert.deepEqual(policy.spec.policyTypes, ["Ingress"]);
  assert.equal(policy.spec.ingress.length, 1);
  const rule = policy.spec.ingress[0];
  // One peer with both selectors (AND), never an empty peer that admits everyone.
  assert.equal(rule.from.length, 1);
  assert.ok(rule.from[0].namespaceSelector?.matchLabels, "a namespace selector");
  assert.ok(rule.from[0].podSelector?.matchLabels, "a pod selector");
  const port = ds.spec.template.spec.containers[0].ports.find((p: { name: string }) =>
    p.name === "metrics"
  );
  assert.deepEqual(rule.ports, [{ protocol: "TCP", port: port.containerPort }]);
  const component = await readYamlDoc(
    `${DEPLOY_DIR}optional/metrics-network-policy/kustomization.yaml`,
  );
  assert.equal(component.kind, "Component");
});
