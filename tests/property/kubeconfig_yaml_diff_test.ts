/**
 * The kubeconfig reader reads what kubectl reads (issue 20, item 3): a differential test of
 * the in-house YAML subset against the `yaml` package over documents written by hand, not
 * by a serializer, so that the text holds what people and tools put in files: Unicode
 * spaces (NBSP, U+3000, U+FEFF, U+2003) where YAML sees content, comments, quotes, colons,
 * odd indentation. Wherever the in-house reader answers, it must answer what `yaml` does;
 * and the whole reader (parseKubeconfig) must pick the same server and token as `yaml`'s
 * document would give, or fail as it does.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { parse as parseYaml } from "yaml";
import {
  KubeconfigError,
  type KubeconfigSelection,
  parseKubeconfig,
  selectFromKubeconfig,
} from "../../src/act/kubeconfig.ts";
import { MAX_DEPTH, parseKubeconfigYaml } from "../../src/act/kubeconfig_yaml.ts";

/** What YAML takes for content and JavaScript's trim() and \s take for white space. */
const UNICODE_SPACES = ["\u00a0", "\u3000", "\ufeff", "\u2003", "\u2028"] as const;

const char = fc.constantFrom(
  "a",
  "b",
  "z",
  "0",
  "7",
  "-",
  ".",
  "/",
  ":",
  "#",
  " ",
  "'",
  '"',
  "é",
  ...UNICODE_SPACES,
);
/** A plain scalar as typed: any of the characters above, with Unicode spaces at its ends. */
const rawScalar = fc.oneof(
  fc.string({ unit: char, minLength: 1, maxLength: 12 }),
  fc.tuple(fc.constantFrom(...UNICODE_SPACES), fc.stringMatching(/^[a-z0-9:/.-]{1,10}$/))
    .map(([space, text]) => `${text}${space}#x`),
  fc.constantFrom(
    "https://good:6443\u00a0#x",
    "abc\u00a0#tail",
    "abc #tail",
    "\u3000abc",
    "abc\u3000",
    "\ufeffabc",
    "https://a:1",
    "123",
    "true",
    "~",
    "'q'",
    '"q\\u00a0"',
  ),
);
const key = fc.oneof(
  fc.constantFrom("server", "token", "name", "cluster", "user", "current-context"),
  fc.tuple(fc.constantFrom("", ...UNICODE_SPACES), fc.stringMatching(/^[a-z][a-z-]{0,6}$/))
    .map(([space, word]) => `${space}${word}`),
);
/** Before a value: the usual space, or one followed by a Unicode space. */
const separator = fc.constantFrom(" ", " ", " ", "  ", ...UNICODE_SPACES.map((s) => ` ${s}`));
/** An indentation step: spaces, now and then with a Unicode space in it. */
const pad = fc.constantFrom("  ", "  ", "  ", "    ", "\u00a0 ", " \u00a0", "\u3000");

type Node = string | { readonly map: [string, Node][] } | { readonly list: Node[] };
const node: fc.Arbitrary<Node> = fc.letrec<{ node: Node; map: Node; list: Node }>((tie) => ({
  node: fc.oneof({ depthSize: "small", maxDepth: 3 }, rawScalar, tie("map"), tie("list")),
  map: fc.array(fc.tuple(key, tie("node")), { minLength: 1, maxLength: 3 })
    .map((map) => ({ map })),
  list: fc.array(tie("node"), { minLength: 1, maxLength: 3 }).map((list) => ({ list })),
})).node;

/** The document as a person would type it, with `pads` and `seps` picked per line. */
function render(
  root: { readonly map: [string, Node][] },
  pads: readonly string[],
  seps: readonly string[],
): string {
  const lines: string[] = [];
  let n = 0;
  const pick = <T>(list: readonly T[]) => list[n++ % list.length]!;
  const emit = (value: Node, indent: string, prefix: string) => {
    if (typeof value === "string") {
      lines.push(`${indent}${prefix}${pick(seps)}${value}`);
      return;
    }
    lines.push(`${indent}${prefix}`.replace(/ $/, ""));
    const inner = indent + pick(pads);
    if ("map" in value) { for (const [k, v] of value.map) emit(v, inner, `${k}:`); }
    else for (const item of value.list) emit(item, inner, "-");
  };
  for (const [k, v] of root.map) emit(v, "", `${k}:`);
  return lines.join("\n") + "\n";
}

const documents = fc.record({
  root: fc.array(fc.tuple(key, node), { minLength: 1, maxLength: 4 }).map((map) => ({ map })),
  pads: fc.array(pad, { minLength: 1, maxLength: 5 }),
  seps: fc.array(separator, { minLength: 1, maxLength: 5 }),
}).map(({ root, pads, seps }) => render(root, pads, seps));

/** A kubeconfig whose server, token and context name are typed raw. */
const kubeconfigs = fc.record({
  server: rawScalar,
  token: rawScalar,
  context: fc.oneof(fc.constant("ctx"), rawScalar),
  sep: separator,
  indent: fc.constantFrom("  ", "\u00a0 ", "  "),
}).map(({ server, token, context, sep, indent }) =>
  [
    "apiVersion: v1",
    "kind: Config",
    `current-context:${sep}${context}`,
    "clusters:",
    "- name: c",
    "  cluster:",
    `    server:${sep}${server}`,
    "contexts:",
    `- name:${sep}${context}`,
    "  context:",
    "    cluster: c",
    "    user: u",
    "users:",
    "- name: u",
    `${indent}user:`,
    `    token:${sep}${token}`,
    "",
  ].join("\n")
);

/** `yaml`'s reading, or the error it throws. */
function yamlReads(text: string): { value: unknown } | { error: unknown } {
  try {
    return { value: parseYaml(text) };
  } catch (error) {
    return { error };
  }
}

Deno.test("parseKubeconfigYaml() answers what the yaml package reads, Unicode spaces included, or gives up", () => {
  let answered = 0;
  let spaced = 0;
  fc.assert(
    fc.property(documents, (text) => {
      const simple = parseKubeconfigYaml(text);
      if (simple === null) return;
      answered++;
      if (UNICODE_SPACES.some((s) => text.includes(s))) spaced++;
      const reference = yamlReads(text);
      assert.ok("value" in reference, `answered where yaml fails: ${JSON.stringify(text)}`);
      assert.deepEqual(simple.value, reference.value, JSON.stringify(text));
    }),
    { numRuns: 3_000 },
  );
  assert.ok(answered > 150, `answered ${answered} of 3,000`);
  assert.ok(spaced > 50, `answered ${spaced} documents with Unicode spaces`);
});

Deno.test("parseKubeconfig() picks the server, token and context kubectl would, whatever spaces they hold", async () => {
  await fc.assert(
    fc.asyncProperty(kubeconfigs, async (text) => {
      let ours: KubeconfigSelection | KubeconfigError;
      try {
        ours = await parseKubeconfig(text, "/k");
      } catch (error) {
        if (!(error instanceof KubeconfigError)) throw error;
        ours = error;
      }
      const reference = yamlReads(text);
      let theirs: KubeconfigSelection | KubeconfigError;
      try {
        if ("error" in reference) throw new KubeconfigError("/k/config", "not valid YAML");
        theirs = selectFromKubeconfig(reference.value, "/k/config", "/k");
      } catch (error) {
        if (!(error instanceof KubeconfigError)) throw error;
        theirs = error;
      }
      if (theirs instanceof KubeconfigError) {
        assert.ok(ours instanceof KubeconfigError, `read ${JSON.stringify(text)}`);
      } else {
        assert.ok(!(ours instanceof KubeconfigError), `${ours}: ${JSON.stringify(text)}`);
        assert.equal(ours.server, theirs.server);
        assert.deepEqual(ours.token, theirs.token);
        assert.equal(ours.contextName, theirs.contextName);
      }
    }),
    { numRuns: 500 },
  );
});

Deno.test("the cases of the issue: NBSP before #, NBSP indentation, 6,000 levels, current-context: 123, duplicate names", async () => {
  const base = (server: string, token: string, userIndent = "  ") =>
    [
      "current-context: ctx",
      "clusters:",
      "- name: c",
      "  cluster:",
      `    server: ${server}`,
      "contexts:",
      "- name: ctx",
      "  context: {cluster: c, user: u}",
      "users:",
      "- name: u",
      `${userIndent}user:`,
      `    token: ${token}`,
      "",
    ].join("\n");
  const read = await parseKubeconfig(base("https://good:6443\u00a0#x", "abc\u00a0#rest"), "/k");
  assert.equal(read.server, "https://good:6443\u00a0#x", "the NBSP and what follows are the URL");
  assert.deepEqual(read.token, { field: 'users["u"].user.token', inline: "abc\u00a0#rest" });
  assert.equal(parseKubeconfigYaml("token: abc\u00a0#x\n")?.value !== undefined, true);
  assert.deepEqual(parseKubeconfigYaml("token: abc\u00a0#x\n")?.value, { token: "abc\u00a0#x" });
  // NBSP is no indentation: `user:` is then a key of its own, not under the list item.
  const nbsp = base("https://good:6443", "t", "\u00a0 ");
  assert.deepEqual(
    parseKubeconfigYaml(nbsp),
    null,
    "outside the subset: left to the yaml package",
  );
  // As yaml (and kubectl) read it: the user entry has no body, so no token is sent.
  assert.equal((await parseKubeconfig(nbsp, "/k")).token, null);
  // Deep nesting: a KubeconfigError, not a RangeError.
  const deep = Array.from({ length: 6_000 }, (_, i) => `${"  ".repeat(i)}k${i}:`).join("\n") +
    " x\n";
  await assert.rejects(parseKubeconfig(deep, "/k"), (error: unknown) => {
    assert.ok(error instanceof KubeconfigError, String(error));
    assert.match(error.message, new RegExp(`nests deeper than ${MAX_DEPTH} levels`));
    return true;
  });
  const deepList = Array.from({ length: 6_000 }, (_, i) => `${"  ".repeat(i)}-`).join("\n") +
    " x\n";
  await assert.rejects(parseKubeconfig(deepList, "/k"), KubeconfigError);
  // current-context: 123 is refused, as client-go refuses it.
  await assert.rejects(
    parseKubeconfig(
      base("https://a:1", "t").replace("current-context: ctx", "current-context: 123"),
      "/k",
    ),
    /current-context is not a string/,
  );
  // Duplicate names: refused, as client-go refuses them.
  for (
    const [list, line] of [
      ["clusters", "- name: c\n  cluster: {server: 'https://evil:1'}\n"],
      ["contexts", "- name: ctx\n  context: {cluster: c, user: u}\n"],
      ["users", "- name: u\n  user: {token: other}\n"],
    ] as const
  ) {
    const text = base("https://a:1", "t").replace(`${list}:\n`, `${list}:\n${line}`);
    await assert.rejects(
      parseKubeconfig(text, "/k"),
      new RegExp(
        `duplicate name "${list === "clusters" ? "c" : list === "users" ? "u" : "ctx"}" in ${list}`,
      ),
      list,
    );
  }
});
