import assert from "node:assert/strict";
import {
  type LabelSelector,
  matchesLabels,
  parseLabelSelector,
} from "../../src/decide/label_selector.ts";

function parse(text: string): LabelSelector {
  const parsed = parseLabelSelector(text);
  if (typeof parsed === "string") throw new Error(parsed);
  return parsed;
}

Deno.test("matchesLabels() follows kubectl -l for every operator", () => {
  const labels = { app: "db", tier: "backend", "app.kubernetes.io/part-of": "shop" };
  const table: [string, boolean][] = [
    ["", true],
    ["app=db", true],
    ["app==db", true],
    ["app = db", true],
    ["app!=db", false],
    ["app!=web", true],
    ["missing!=x", true],
    ["app in (db,cache)", true],
    ["app in (web)", false],
    ["app notin (web, cache)", true],
    ["app notin (db)", false],
    ["missing notin (x)", true],
    ["missing in (x)", false],
    ["tier", true],
    ["missing", false],
    ["!missing", true],
    ["!tier", false],
    ["app.kubernetes.io/part-of=shop", true],
    ["app=db,tier in (backend),!canary", true],
    ["app=db,tier=frontend", false],
  ];
  for (const [text, expected] of table) {
    assert.equal(matchesLabels(parse(text), labels), expected, text);
  }
});

Deno.test("parseLabelSelector() names the part that is wrong", () => {
  const table: [string, RegExp][] = [
    ["app=db,", /empty requirement/],
    ["app in (db", /expected "key in \(v1,v2\)"/],
    ["app in ()", /the set of values is empty/],
    ["Bad_Prefix.io/app=x", /prefix must be a DNS subdomain/],
    ["a".repeat(64), /is not a label key/],
    ["app=" + "v".repeat(64), /is not a label value/],
    ["app=-x", /"-x" is not a label value/],
    ["n>1", /do not apply to pod labels/],
  ];
  for (const [text, pattern] of table) {
    const parsed = parseLabelSelector(text);
    assert.equal(typeof parsed, "string", text);
    assert.match(parsed as string, pattern, text);
  }
});
