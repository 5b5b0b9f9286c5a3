// deploy/optional/alerts and deploy/optional/podmonitor: the PrometheusRule's rules pass
// `promtool check rules`, and each alert fires on real input series, and only then
// (`promtool test rules`); both objects match the prometheus-operator models.

import assert from "node:assert/strict";
import { stringify } from "yaml";
import { DEPLOY_DIR, type Doc, readYamlDoc, runCommand, validateSchema } from "./k8s_schema.ts";
import { PROMTOOL, tool } from "../tools.ts";

const promtool = tool(PROMTOOL);
const RULE = await readYamlDoc(`${DEPLOY_DIR}optional/alerts/prometheusrule.yaml`);
const POD_MONITOR = await readYamlDoc(`${DEPLOY_DIR}optional/podmonitor/podmonitor.yaml`);

const AGENT = 'job="kube-soomkiller"';
const at = (node: string) => `${AGENT},node="${node}",instance="${node}:9402"`;

/** One promtool alert test: input series (1 m apart), and what fires at which minute. */
interface AlertCase {
  readonly alert: string;
  readonly series: Readonly<Record<string, string>>;
  /** Minute → the labels of each alert expected to fire then (beyond `alertname`). */
  readonly expect: Readonly<Record<number, readonly Record<string, string>[]>>;
}

const CONTAINER = (node: string, pod: string) =>
  `${at(node)},namespace="shop",pod="${pod}",container="db"`;

const CASES: readonly AlertCase[] = [
  {
    alert: "SoomkillerSoftOOMKillLikely",
    series: {
      // db-0 projected at 250 s then 200 s from minute 2 to 5 (absent before and after:
      // not growing); db-1 at 900 s (beyond the look-ahead) throughout.
      [`soomkiller_container_swap_time_to_limit_seconds{${CONTAINER("node-a", "db-0")}}`]:
        "_ _ 250 200 _ 180 _ _ _ _ _ _ _ _ _",
      [`soomkiller_container_swap_time_to_limit_seconds{${CONTAINER("node-a", "db-1")}}`]: "900x15",
    },
    expect: {
      1: [],
      3: [{ node: "node-a", namespace: "shop", pod: "db-0", container: "db", severity: "warning" }],
      // The projection flickered off at minute 4: still the same alert.
      4: [{ node: "node-a", namespace: "shop", pod: "db-0", container: "db", severity: "warning" }],
      12: [],
    },
  },
  {
    alert: "SoomkillerKernelOOMKill",
    series: {
      [`soomkiller_kernel_oom_kills_total{${at("node-a")}}`]:
        "0 0 0 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1",
      [`soomkiller_kernel_oom_kills_total{${at("node-b")}}`]: "0x20",
    },
    expect: {
      2: [],
      4: [{ node: "node-a", severity: "warning" }],
      // The kill has left the 10 m window.
      15: [],
    },
  },
  {
    alert: "SoomkillerAgentDown",
    series: {
      // node-a: agent up; node-b: agent scraped but failing; node-c: no agent at all;
      // node-d: no swap label, no agent (not ours to watch).
      'kube_node_labels{node="node-a",label_swap="enabled"}': "1x20",
      'kube_node_labels{node="node-b",label_swap="enabled"}': "1x20",
      'kube_node_labels{node="node-c",label_swap="enabled"}': "1x20",
      'kube_node_labels{node="node-d"}': "1x20",
      [`up{${at("node-a")}}`]: "1x20",
      [`up{${at("node-b")}}`]: "1 1 1 0x17",
    },
    expect: {
      // node-c is missing from the start (for: 5m); node-b stops answering at minute 3.
      3: [],
      6: [{ node: "node-c", severity: "critical" }],
      9: [{ node: "node-b", severity: "critical" }, { node: "node-c", severity: "critical" }],
    },
  },
  {
    alert: "SoomkillerAgentNotReady",
    series: {
      'kube_daemonset_status_number_unavailable{namespace="kube-soomkiller",daemonset="kube-soomkiller"}':
        "0 0 1x20",
    },
    expect: {
      5: [],
      13: [{ namespace: "kube-soomkiller", daemonset: "kube-soomkiller", severity: "warning" }],
    },
  },
  {
    alert: "SoomkillerEvictionsBlocked",
    series: {
      // Blocked on every 1 s tick from minute 2 (60 per minute).
      [`soomkiller_terminations_total{${at("node-a")},mode="evict",result="blocked"}`]:
        "0 0 0+60x18",
      [`soomkiller_terminations_total{${at("node-b")},mode="evict",result="blocked"}`]: "0x20",
    },
    expect: {
      2: [],
      6: [{ node: "node-a", severity: "warning" }],
    },
  },
  {
    alert: "SoomkillerEvictFallback",
    series: {
      [`soomkiller_evict_fallbacks_total{${at("node-a")}}`]: "0 0 0 0 1x16",
    },
    expect: { 3: [], 6: [{ node: "node-a", severity: "warning" }] },
  },
  {
    alert: "SoomkillerTerminations",
    series: {
      [`soomkiller_terminations_total{${at("node-a")},mode="delete",result="success"}`]:
        "0 0 0 1x17",
      [`soomkiller_terminations_total{${at("node-a")},mode="delete",result="failed"}`]: "0 0 1x18",
      [`soomkiller_terminations_total{${at("node-b")},mode="dry_run",result="success"}`]: "0x20",
    },
    expect: { 2: [], 5: [{ node: "node-a", mode: "delete", severity: "info" }] },
  },
];

function rules(): Doc[] {
  return RULE.spec.groups.flatMap((group: Doc) => group.rules as Doc[]);
}

/** The annotations an alert gets: the rule's templates with `$labels.x` and `$value` filled. */
function annotations(alert: string, labels: Record<string, string>, value: string) {
  const rule = rules().find((r) => r.alert === alert)!;
  const out: Record<string, string> = {};
  for (const [key, template] of Object.entries(rule.annotations as Record<string, string>)) {
    out[key] = template
      .replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, name: string) => labels[name] ?? "")
      .replace(/\{\{ \$value \}\}/g, value);
  }
  return out;
}

function promtoolTests(cases: readonly AlertCase[]): Doc {
  return {
    rule_files: ["rules.yaml"],
    evaluation_interval: "1m",
    tests: cases.map((c) => ({
      interval: "1m",
      input_series: Object.entries(c.series).map(([series, values]) => ({ series, values })),
      alert_rule_test: Object.entries(c.expect).map(([minute, alerts]) => ({
        eval_time: `${minute}m`,
        alertname: c.alert,
        exp_alerts: alerts.map((labels) => ({
          exp_labels: labels,
          exp_annotations: annotations(c.alert, labels, "1"),
        })),
      })),
    })),
  };
}

/** Writes the rules (as Prometheus reads them) and the tests into a temp dir, runs promtool. */
async function runPromtool(ruleGroups: unknown, tests: Doc) {
  const dir = await Deno.makeTempDir({ prefix: "soomkiller-alerts-" });
  try {
    await Deno.writeTextFile(`${dir}/rules.yaml`, stringify({ groups: ruleGroups }));
    await Deno.writeTextFile(`${dir}/tests.yaml`, stringify(tests));
    const check = await runCommand("promtool", ["check", "rules", "rules.yaml"], { cwd: dir });
    const test = await runCommand("promtool", ["test", "rules", "tests.yaml"], { cwd: dir });
    // SOOMKILLER_SHOW_PROMTOOL=1: print what promtool said (for a closing note or a bug report).
    if (Deno.env.get("SOOMKILLER_SHOW_PROMTOOL") === "1") console.error(check.stdout, test.stdout);
    return {
      check: { code: check.code, text: `${check.stdout}${check.stderr}` },
      test: { code: test.code, text: `${test.stdout}${test.stderr}` },
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("every alert of the PrometheusRule has a promtool case, with severity and both annotations", () => {
  const names = rules().map((r) => r.alert);
  assert.deepEqual(names.sort(), CASES.map((c) => c.alert).sort());
  for (const rule of rules()) {
    assert.match(rule.labels?.severity ?? "", /^(critical|warning|info)$/, rule.alert);
    assert.ok(rule.annotations?.summary && rule.annotations?.description, rule.alert);
  }
});

Deno.test(
  "promtool check rules accepts the PrometheusRule, and promtool test rules sees each alert fire on its series",
  {
    ignore: promtool.skip,
  },
  async () => {
    const { check, test } = await runPromtool(RULE.spec.groups, promtoolTests(CASES));
    assert.equal(check.code, 0, check.text);
    assert.match(check.text, /SUCCESS: 7 rules found/);
    assert.equal(test.code, 0, test.text);
    assert.match(test.text, /SUCCESS/);
  },
);

Deno.test(
  "promtool test rules would catch a rule that no longer fires (the tests are not vacuous)",
  {
    ignore: promtool.skip,
  },
  async () => {
    const broken = structuredClone(RULE.spec.groups) as Doc[];
    const oom = broken[0]!.rules.find((r: Doc) => r.alert === "SoomkillerKernelOOMKill");
    oom.expr = String(oom.expr).replace("> 0", "> 5");
    const { test } = await runPromtool(broken, promtoolTests(CASES));
    assert.notEqual(test.code, 0, test.text);
    assert.match(test.text, /SoomkillerKernelOOMKill/);
  },
);

Deno.test("the PodMonitor and the PrometheusRule match the prometheus-operator models; a wrong type is caught", () => {
  validateSchema(POD_MONITOR);
  validateSchema(RULE);
  const endpoint = POD_MONITOR.spec.podMetricsEndpoints[0];
  assert.equal(endpoint.port, "metrics", "the DaemonSet's port name");
  assert.deepEqual(
    endpoint.relabelings.map((r: Doc) => r.targetLabel),
    ["node", "job"],
    "the labels the alerts use",
  );
  const bad = structuredClone(POD_MONITOR);
  bad.spec.podMetricsEndpoints = "metrics";
  assert.throws(() => validateSchema(bad), /PodMonitor schema/);
  const badRule = structuredClone(RULE);
  badRule.spec.groups[0].rules[0].for = 5;
  assert.throws(() => validateSchema(badRule), /PrometheusRule schema/);
});

Deno.test("the PodMonitor selects the DaemonSet's pods, in its namespace, on its metrics port", async () => {
  const ds = await readYamlDoc(`${DEPLOY_DIR}base/daemonset.yaml`);
  const podLabels = ds.spec.template.metadata.labels as Record<string, string>;
  for (const [key, value] of Object.entries(POD_MONITOR.spec.selector.matchLabels)) {
    assert.equal(podLabels[key], value, key);
  }
  assert.deepEqual(POD_MONITOR.spec.namespaceSelector.matchNames, [ds.metadata.namespace]);
  const ports = ds.spec.template.spec.containers[0].ports as Doc[];
  assert.ok(ports.some((p) => p.name === POD_MONITOR.spec.podMetricsEndpoints[0].port));
});
