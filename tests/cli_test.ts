import assert from "node:assert/strict";
import { helpText, parseCli } from "../src/cli.ts";
import { DEFAULTS } from "../src/config.ts";
import { FLAGS, MAX_DURATION_FLAG_MS } from "../src/cli_flags.ts";

const env = (vars: Record<string, string> = {}) => ({ get: (name: string) => vars[name] });

function run(args: string[], vars: Record<string, string> = { NODE_NAME: "node-a" }) {
  const result = parseCli(args, env(vars));
  if (result.kind !== "run") throw new Error(`expected run, got ${JSON.stringify(result)}`);
  return result.config;
}

function error(args: string[], vars: Record<string, string> = { NODE_NAME: "node-a" }) {
  const result = parseCli(args, env(vars));
  if (result.kind !== "error") throw new Error(`expected error, got ${result.kind}`);
  return result.message;
}

Deno.test("parseCli() applies the seed's six defaults", () => {
  const config = run([]);
  assert.equal(config.swapIoThresholdPagesPerSecond, 1000);
  assert.equal(config.sustainedDurationMs, 10_000);
  assert.equal(config.psiThresholdPercent, 50);
  assert.equal(config.pollIntervalMs, 1_000);
  assert.equal(config.cooldownPeriodMs, 30_000);
  assert.equal(config.dryRun, true);
  assert.equal(config.nodeName, "node-a");
  assert.equal(config.kubeconfigPath, null);
  assert.equal(config.procRoot, DEFAULTS.procRoot);
  assert.equal(config.cgroupRoot, DEFAULTS.cgroupRoot);
});

Deno.test("parseCli() takes Go flag syntax: =value, separate value, single dash", () => {
  const config = run([
    "--swap-io-threshold=500",
    "--sustained-duration",
    "1m30s",
    "-psi-threshold=20",
    "--poll-interval=500ms",
    "-cooldown-period",
    "45s",
    "--dry-run=false",
    "--node-name=node-b",
    "--kubeconfig",
    "/etc/kube-soomkiller/kubeconfig",
    "--proc-root=/tmp/proc/",
    "--cgroup-root=/tmp/cg",
    "--log-format=text",
    "--log-level=debug",
  ]);
  assert.equal(config.swapIoThresholdPagesPerSecond, 500);
  assert.equal(config.sustainedDurationMs, 90_000);
  assert.equal(config.psiThresholdPercent, 20);
  assert.equal(config.pollIntervalMs, 500);
  assert.equal(config.cooldownPeriodMs, 45_000);
  assert.equal(config.dryRun, false);
  assert.equal(config.nodeName, "node-b");
  assert.equal(config.kubeconfigPath, "/etc/kube-soomkiller/kubeconfig");
  assert.equal(config.procRoot, "/tmp/proc");
  assert.equal(config.logFormat, "text");
  assert.equal(config.logLevel, "debug");
});

Deno.test("parseCli() reads a bare boolean as true and never eats the next word", () => {
  assert.equal(run(["--dry-run=false", "--dry-run"]).dryRun, true);
  assert.match(error(["--dry-run", "false"]), /Unexpected argument "false"/);
});

Deno.test("parseCli() takes NODE_NAME and KUBECONFIG from the environment", () => {
  const config = run([], { NODE_NAME: "from-env", KUBECONFIG: "/k" });
  assert.equal(config.nodeName, "from-env");
  assert.equal(config.kubeconfigPath, "/k");
  assert.equal(run(["--kubeconfig="], { NODE_NAME: "n", KUBECONFIG: "/k" }).kubeconfigPath, null);
});

Deno.test("parseCli() names the flag and the value on bad input", () => {
  const table: [string[], RegExp][] = [
    [["--swap-io-threshold=abc"], /^Invalid value "abc" for flag --swap-io-threshold: expected/],
    [["--swap-io-threshold=0"], /--swap-io-threshold: 0 must be above 0/],
    [["--psi-threshold=101"], /"101" for flag --psi-threshold: 101 must be at most 100/],
    [["--sustained-duration=10"], /"10" for flag --sustained-duration: expected a Go duration/],
    [["--poll-interval=1ms"], /"1ms" for flag --poll-interval: 1ms must be at least 10ms/],
    [["--dry-run=maybe"], /"maybe" for flag --dry-run: expected true or false/],
    [["--log-format=xml"], /"xml" for flag --log-format: expected one of json, text/],
    [["--bogus=1"], /^Unknown flag "--bogus"/],
    [["--node-name"], /^Flag --node-name needs a value/],
    [["stray"], /^Unexpected argument "stray"/],
  ];
  for (const [args, pattern] of table) assert.match(error(args), pattern, args.join(" "));
});

Deno.test("parseCli() refuses to run without a node name", () => {
  assert.match(error([], {}), /Missing node name: set --node-name or the NODE_NAME/);
});

Deno.test("--help lists every flag with its default and unit", () => {
  const result = parseCli(["--help"], env());
  assert.equal(result.kind, "help");
  const text = helpText();
  const expected: [string, string][] = [
    ["swap-io-threshold", "(pages/s) (default 1000)"],
    ["sustained-duration", "(default 10s)"],
    ["psi-threshold", "(percent, 0-100) (default 50)"],
    ["swap-full-percent", "(percent, over 0 up to 100) (default 95)"],
    ["node-swap-free-percent", "(percent, 0 up to under 100) (default 5)"],
    ["poll-interval", "(10ms to 1m0s) (default 1s)"],
    ["cooldown-period", "(1s to 24h0m0s) (default 30s)"],
    ["dry-run", "(default true)"],
    ["node-name", "(default env NODE_NAME)"],
    ["proc-root", "(default /host/proc)"],
    ["cgroup-root", "(default /host/sys/fs/cgroup)"],
  ];
  for (const [flag, shown] of expected) {
    assert.match(text, new RegExp(`--${flag} `), flag);
    assert.ok(text.includes(shown), `${flag}: ${shown}`);
  }
  assert.equal(parseCli(["--version"], env()).kind, "version");
});

Deno.test("--help introduces all three triggers before the flags, and the record and replay subcommands", () => {
  const text = helpText();
  const intro = text.slice(0, text.indexOf("Flags ("));
  for (
    const words of [
      /headroom .*memory\.swap\.max/s,
      /--headroom-margin/,
      /--headroom-trigger, on by default/,
      /swap free .*--node-swap-free-percent/s,
      /swap I\/O .*--swap-io-threshold for --sustained-duration/s,
      /--psi-threshold/,
      /Dry-run by default/,
      /kube-soomkiller record /,
      /kube-soomkiller replay TRACE\.jsonl \[--html FILE\]/,
    ]
  ) {
    assert.match(intro, words);
  }
  // One parenthesis per fact: never "(0-100) (percent)".
  assert.doesNotMatch(text, /\) \((percent|pages\/s)\)/);
  assert.doesNotMatch(text, /\(0-100\) \(/);
});

Deno.test("parseCli() defaults --metrics-addr to :9402 and --report-interval to 60s", () => {
  const config = run([]);
  assert.equal(config.metricsAddr, ":9402");
  assert.equal(config.reportIntervalMs, 60_000);
  const text = helpText();
  assert.match(text, /--metrics-addr string\n.*\(default :9402\)/);
  assert.match(text, /--report-interval duration\n.*\(default 1m0s\)/);
});

Deno.test("parseCli() takes --metrics-addr in Go's host:port forms; empty turns it off", () => {
  assert.equal(run(["--metrics-addr=0.0.0.0:9402"]).metricsAddr, "0.0.0.0:9402");
  assert.equal(run(["--metrics-addr", "[::]:9402"]).metricsAddr, "[::]:9402");
  assert.equal(run(["--metrics-addr=127.0.0.1:0"]).metricsAddr, "127.0.0.1:0");
  assert.equal(run(["--metrics-addr="]).metricsAddr, null);
  assert.equal(run(["--metrics-addr", ""]).metricsAddr, null);
});

Deno.test("parseCli() names --metrics-addr and the value when the address is bad", () => {
  const table: [string, RegExp][] = [
    ["9402", /^Invalid value "9402" for flag --metrics-addr: expected host:port/],
    [":99999", /^Invalid value ":99999" for flag --metrics-addr: the port "99999"/],
    ["::9402", /^Invalid value "::9402" for flag --metrics-addr: an IPv6 address needs brackets/],
    ["bad host:1", /^Invalid value "bad host:1" for flag --metrics-addr: "bad host" is not/],
  ];
  for (const [value, pattern] of table) {
    const message = error([`--metrics-addr=${value}`]);
    assert.match(message, pattern, value);
    assert.equal(message.split("\n").length, 1);
  }
});

Deno.test("parseCli() takes --report-interval as a Go duration; 0 turns it off", () => {
  assert.equal(run(["--report-interval=5m"]).reportIntervalMs, 300_000);
  assert.equal(run(["--report-interval=0"]).reportIntervalMs, 0);
  assert.match(
    error(["--report-interval=60"]),
    /^Invalid value "60" for flag --report-interval: expected a Go duration/,
  );
  assert.match(error(["--report-interval=-1s"]), /--report-interval/);
});

Deno.test("parseCli() defaults the exclusions and the termination mode", () => {
  const config = run([]);
  assert.deepEqual(config.protectedNamespaces, ["kube-system"]);
  assert.equal(config.protectedPriority, 2_000_000_000);
  assert.equal(config.terminationMode, "delete");
  assert.equal(config.evictFallbackAfterMs, 60_000);
  assert.deepEqual(config.ownPod, { uid: null, namespace: null, name: null });
  const text = helpText();
  assert.match(text, /--termination-mode delete\|evict\n.*\(default delete\)/);
  assert.match(text, /--evict-fallback-after duration\n.*\(default 1m0s\)/);
  assert.match(text, /--protected-namespaces list\n.*\(default kube-system\)/);
  assert.match(text, /--protected-priority number\n.*\(default 2000000000\)/);
});

Deno.test("parseCli() takes the exclusion and eviction flags", () => {
  const table: [string[], Partial<Record<string, unknown>>][] = [
    [["--protected-namespaces=kube-system, monitoring,,kube-system"], {
      protectedNamespaces: ["kube-system", "monitoring"],
    }],
    [["--protected-namespaces="], { protectedNamespaces: [] }],
    [["--protected-priority=1000000000"], { protectedPriority: 1_000_000_000 }],
    [["--protected-priority", "-10"], { protectedPriority: -10 }],
    [["--termination-mode=evict"], { terminationMode: "evict" }],
    [["--evict-fallback-after=2m"], { evictFallbackAfterMs: 120_000 }],
    [["--evict-fallback-after=0"], { evictFallbackAfterMs: 0 }],
  ];
  for (const [args, expected] of table) {
    const config = run(args) as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(expected)) {
      assert.deepEqual(config[key], value, args.join(" "));
    }
  }
});

Deno.test("parseCli() names the flag and the value for bad exclusion and eviction flags", () => {
  const table: [string[], RegExp][] = [
    [
      ["--protected-namespaces=kube-system,Bad_NS"],
      /^Invalid value "kube-system,Bad_NS" for flag --protected-namespaces: "Bad_NS" is not a namespace name/,
    ],
    [["--protected-priority=1.5"], /"1\.5" for flag --protected-priority: expected a whole number/],
    [["--protected-priority=high"], /"high" for flag --protected-priority: expected a number$/],
    [["--protected-priority=3000000000"], /--protected-priority: 3000000000 must be at most/],
    [
      ["--termination-mode=kill"],
      /"kill" for flag --termination-mode: expected one of delete, evict/,
    ],
    [["--evict-fallback-after=60"], /"60" for flag --evict-fallback-after: expected a Go duration/],
  ];
  for (const [args, pattern] of table) assert.match(error(args), pattern, args.join(" "));
});

Deno.test("parseCli() takes the agent's own pod from the downward API variables", () => {
  const config = run([], {
    NODE_NAME: "n",
    POD_UID: "5f0c1a2b-0000-4000-8000-000000000001",
    POD_NAMESPACE: "kube-soomkiller",
    POD_NAME: "kube-soomkiller-x7k2p",
  });
  assert.deepEqual(config.ownPod, {
    uid: "5f0c1a2b-0000-4000-8000-000000000001",
    namespace: "kube-soomkiller",
    name: "kube-soomkiller-x7k2p",
  });
  assert.deepEqual(run([], { NODE_NAME: "n", POD_UID: "" }).ownPod.uid, null);
});

Deno.test("parseCli() reads flags itself: last one wins, `--` ends flags, odd words named", () => {
  assert.equal(run(["--poll-interval=2s", "-poll-interval", "3s"]).pollIntervalMs, 3_000);
  assert.equal(run(["--node-name=a=b"]).nodeName, "a=b");
  assert.equal(run(["--swap-io-threshold=5", "--"]).swapIoThresholdPagesPerSecond, 5);
  const table: [string[], string][] = [
    [["--", "--dry-run"], 'Unexpected argument "--dry-run": flags start with - or --'],
    [["--bogus"], 'Unknown flag "--bogus": see --help'],
    [["-bogus=1"], 'Unknown flag "--bogus": see --help'],
    [["---dry-run"], 'Unknown flag "---dry-run": see --help'],
    [["--=1"], 'Unknown flag "--=1": see --help'],
    [["--constructor=1"], 'Unknown flag "--constructor": see --help'],
    [["-"], 'Unexpected argument "-": flags start with - or --'],
    // Words node:util's messages could not name: the empty word, a word with a quote.
    [[""], 'Unexpected argument "": flags start with - or --'],
    [["it's"], `Unexpected argument "it's": flags start with - or --`],
  ];
  for (const [args, message] of table) assert.equal(error(args), message, args.join(" "));
});

Deno.test("every duration flag has an upper bound under setTimeout's 2^31 - 1 ms, and a lower one where 0 makes no sense", () => {
  for (const flag of FLAGS.filter((f) => f.kind === "duration")) {
    assert.ok(flag.max !== undefined && flag.max <= MAX_DURATION_FLAG_MS, flag.name);
    assert.ok(MAX_DURATION_FLAG_MS < 2 ** 31 - 1);
    assert.match(
      error([`--${flag.name}=597h`]),
      new RegExp(`^Invalid value "597h" for flag --${flag.name}: 597h0m0s must be at most`),
      flag.name,
    );
  }
  const table: [string[], string][] = [
    [
      ["--poll-interval=597h"],
      'Invalid value "597h" for flag --poll-interval: 597h0m0s must be at most 1m0s',
    ],
    [["--poll-interval=-1s"], 'Invalid value "-1s" for flag --poll-interval: must be positive'],
    [
      ["--report-interval=-1s"],
      'Invalid value "-1s" for flag --report-interval: must not be negative',
    ],
    [
      ["--cooldown-period=0s"],
      'Invalid value "0s" for flag --cooldown-period: 0s must be at least 1s',
    ],
    [
      ["--node-swap-free-percent=100"],
      'Invalid value "100" for flag --node-swap-free-percent: 100 must be below 100',
    ],
    [
      ["--sustained-duration=500ms"],
      "Flag --sustained-duration 500ms is shorter than --poll-interval 1s: the swap I/O window " +
      "could never hold two samples; make it at least the poll interval",
    ],
    [
      ["--poll-interval=20s"],
      "Flag --sustained-duration 10s is shorter than --poll-interval 20s: the swap I/O window " +
      "could never hold two samples; make it at least the poll interval",
    ],
  ];
  for (const [args, message] of table) assert.equal(error(args), message, args.join(" "));
  // Still taken: the bounds themselves, a leading +, 0 where it means off.
  assert.equal(run(["--poll-interval=1m", "--sustained-duration=1m"]).pollIntervalMs, 60_000);
  assert.equal(run(["--poll-interval=+2s"]).pollIntervalMs, 2_000);
  assert.equal(run(["--cooldown-period=24h"]).cooldownPeriodMs, 86_400_000);
  assert.equal(run(["--report-interval=0"]).reportIntervalMs, 0);
  assert.equal(run(["--node-swap-free-percent=99.5"]).nodeSwapFreePercent, 99.5);
});

Deno.test("a boolean's value after a space is refused with the spelling that works; one dash is a flag as in Go", () => {
  assert.equal(
    error(["--dry-run", "false"]),
    'Unexpected argument "false" after --dry-run: a boolean flag takes its value after "=": ' +
      "write --dry-run=false",
  );
  assert.equal(
    error(["-headroom-trigger", "0"]),
    'Unexpected argument "0" after -headroom-trigger: a boolean flag takes its value after "=": ' +
      "write --headroom-trigger=0",
  );
  assert.equal(run(["-dry-run=false"]).dryRun, false);
  assert.equal(run(["-dry-run=false", "-poll-interval", "2s"]).pollIntervalMs, 2_000);
  // The message names both spellings, as both are read.
  assert.equal(error(["stray"]), 'Unexpected argument "stray": flags start with - or --');
});

Deno.test("parseCli() takes the opt-in scope and the early-warning look-ahead, and refuses a bad selector", () => {
  const none = run([]);
  assert.equal(none.podSelector, null);
  assert.equal(none.scopeNamespaces, null);
  assert.equal(none.earlyWarningLookaheadMs, 5 * 60_000);
  const scoped = run([
    "--pod-selector",
    "app in (db, cache),!canary",
    "--namespaces=shop,web",
    "--early-warning-lookahead=10m",
  ]);
  assert.deepEqual(scoped.podSelector?.requirements, [
    { key: "app", op: "in", values: ["db", "cache"] },
    { key: "canary", op: "doesnotexist" },
  ]);
  assert.deepEqual(scoped.scopeNamespaces, ["shop", "web"]);
  assert.equal(scoped.earlyWarningLookaheadMs, 600_000);
  assert.equal(run(["--pod-selector="]).podSelector, null, "empty: every pod");
  const table: [string[], RegExp][] = [
    [
      ["--pod-selector=app=db,,tier=x"],
      /^Invalid value "app=db,,tier=x" for flag --pod-selector: not a label selector: empty requirement/,
    ],
    [["--pod-selector=app in ()"], /the set of values is empty/],
    [["--pod-selector=-app=db"], /"-app" is not a label key/],
    [["--pod-selector=app=d b"], /"d b" is not a label value/],
    [["--pod-selector=replicas>2"], /"<" and ">" do not apply to pod labels/],
    [["--namespaces=Shop"], /--namespaces: "Shop" is not a namespace name/],
    [["--early-warning-lookahead=5"], /--early-warning-lookahead: expected a Go duration/],
  ];
  for (const [args, pattern] of table) assert.match(error(args), pattern, args.join(" "));
});
