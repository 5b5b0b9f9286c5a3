import assert from "node:assert/strict";
import fc from "fast-check";
import { parse as parseYaml, stringify } from "yaml";
import { parseKubeconfigYaml } from "../../src/act/kubeconfig_yaml.ts";
import { writeKubeconfig } from "../fakes/api_standin.ts";

/** What kubectl writes (`kubectl config view --raw`), comments and quirks added. */
const KUBECTL = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
    server: https://127.0.0.1:6443
  name: kind-kind
- cluster:
    insecure-skip-tls-verify: true
    server: "https://[::1]:6443"
  name: 'other # not a comment'
contexts:
- context:
    cluster: kind-kind
    namespace: default
    user: kind-kind
  name: kind-kind
current-context: kind-kind   # a comment
kind: Config
preferences: {}
users:
- name: kind-kind
  user:
    client-certificate-data: LS0tLS1CRUdJTi==
    client-key-data: LS0tLS1CRUdJTi==
- name: with-token
  user:
    token: "a\\"b\\\\c\\u00e9"
    tokenFile: /var/run/token
extensions: []
`;

Deno.test("parseKubeconfigYaml() reads kubectl's YAML as the yaml package does", () => {
  const simple = parseKubeconfigYaml(KUBECTL);
  assert.ok(simple !== null, "inside the subset");
  assert.deepEqual(simple.value, parseYaml(KUBECTL));
  // An indented sequence, CRLF line ends, a document marker, nested sequences.
  const other = "---\r\na:\r\n  - x\r\n  -\r\n    - 1\r\n    - -2\r\n  - k: ~\r\n    j: FALSE\r\n";
  assert.deepEqual(parseKubeconfigYaml(other)?.value, parseYaml(other));
  assert.deepEqual(parseKubeconfigYaml("")?.value, parseYaml(""));
  assert.deepEqual(parseKubeconfigYaml("# only a comment\n")?.value, null);
});

Deno.test("parseKubeconfigYaml() reads the stand-in's kubeconfig (the bench's) itself", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = await writeKubeconfig(dir, {
      server: "https://127.0.0.1:1",
      caPem: "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n",
      token: "t",
    });
    const text = await Deno.readTextFile(path);
    const simple = parseKubeconfigYaml(text);
    assert.ok(simple !== null);
    assert.deepEqual(simple.value, parseYaml(text));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseKubeconfigYaml() gives up (null) outside its subset, never guesses", () => {
  const outside = [
    "a: &x 1\nb: *x\n", // anchors
    "a: !!str 1\n", // tags
    "a: [1, 2]\n", // flow sequence with items
    "a: {b: 1}\n", // flow mapping with items
    "a: |\n  text\n", // block scalar
    "a: one\n  two\n", // multi-line plain scalar
    'a: "one\n  two"\n', // multi-line quoted scalar
    "a: 1\na: 2\n", // duplicate key
    "a:\n\t- x\n", // tab
    "a: 1\n---\nb: 2\n", // two documents
    "a: 1.5\n", // a float
    "a: 0x1f\n", // hex
    "a: 007\n", // leading zero
    "? a\n: b\n", // complex key
    "null: 1\n", // a key the schema reads as null
    "__proto__: 1\n", // a key that is not a plain property
    'a: "\\N"\n', // an escape outside the common ones
    "a b: 1\n", // a key with a space
    "a: b: c\n", // a colon in a plain scalar
  ];
  for (const text of outside) assert.equal(parseKubeconfigYaml(text), null, JSON.stringify(text));
});

/** Kubeconfig-like documents: names, URLs, base64, booleans, numbers, nesting. */
const scalarValue = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/),
  fc.webUrl(),
  fc.base64String({ maxLength: 40 }),
  fc.boolean(),
  fc.integer(),
  fc.constant(null),
  fc.constantFrom("true", "null", "~", "1", "-", "#x", "a #b", "a: b", "'q'", '"q"', "x\ny", "é"),
);
const key = fc.oneof(
  fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/),
  fc.constantFrom("current-context", "certificate-authority-data", "insecure-skip-tls-verify"),
  fc.string({ maxLength: 6 }),
);
const document = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: "small" }, scalarValue, tie("map"), tie("list")),
  map: fc.dictionary(key, tie("node"), { maxKeys: 4 }),
  list: fc.array(tie("node"), { maxLength: 3 }),
})).map;

Deno.test("parseKubeconfigYaml() agrees with the yaml package wherever it answers", () => {
  let answered = 0;
  fc.assert(
    fc.property(
      document,
      fc.constantFrom<"block" | "compact">("block", "compact"),
      (doc, style) => {
        const text = stringify(doc, { indentSeq: style === "block" });
        const simple = parseKubeconfigYaml(text);
        if (simple === null) return;
        answered++;
        assert.deepEqual(simple.value, parseYaml(text), text);
      },
    ),
    { numRuns: 2_000 },
  );
  assert.ok(answered > 500, `answered ${answered} of 2,000`);
});
