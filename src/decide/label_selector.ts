/**
 * Kubernetes label selectors as `kubectl get -l` reads them (apimachinery `labels.Parse`):
 * comma-separated requirements, all of which must hold —
 * `key=value`, `key==value`, `key!=value`, `key in (a,b)`, `key notin (a,b)`, `key`
 * (the label exists) and `!key` (it does not). Keys and values are checked as the API
 * server checks them, so a selector that could never match a real pod is refused at start.
 * Pure.
 */

/** One requirement of a selector. */
export type LabelRequirement =
  | { readonly key: string; readonly op: "in" | "notin"; readonly values: readonly string[] }
  | { readonly key: string; readonly op: "exists" | "doesnotexist" };

/** A parsed selector: every requirement must hold (an empty one selects everything). */
export interface LabelSelector {
  /** The selector as given (for log lines and Event notes). */
  readonly text: string;
  readonly requirements: readonly LabelRequirement[];
}

/** A DNS-1123 subdomain prefix, then `/`, then a name of at most 63 characters. */
const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A label value: empty, or a name of at most 63 characters. */
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/**
 * Parses `text`; a string (why, naming the part that is wrong) when it is not a valid
 * selector. Set-based and equality-based requirements can be mixed, as kubectl allows.
 */
export function parseLabelSelector(text: string): LabelSelector | string {
  const requirements: LabelRequirement[] = [];
  for (const part of splitRequirements(text)) {
    const requirement = parseRequirement(part.trim());
    if (typeof requirement === "string") return requirement;
    requirements.push(requirement);
  }
  return { text: text.trim(), requirements };
}

/** True when `labels` satisfy every requirement of `selector`. */
export function matchesLabels(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>>,
): boolean {
  return selector.requirements.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    switch (r.op) {
      case "exists":
        return has;
      case "doesnotexist":
        return !has;
      case "in":
        return has && r.values.includes(labels[r.key]!);
      case "notin":
        return !has || !r.values.includes(labels[r.key]!);
    }
  });
}

/** The requirements, split on the commas outside parentheses; none for a blank selector. */
function splitRequirements(text: string): string[] {
  if (text.trim() === "") return [];
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function parseRequirement(part: string): LabelRequirement | string {
  if (part === "") return "empty requirement (two commas, or a comma at an end)";
  if (part.startsWith("!")) {
    const key = part.slice(1).trim();
    return checkKey(key) ?? { key, op: "doesnotexist" };
  }
  const set = part.match(/^(\S+)\s+(in|notin)\s*\((.*)\)$/);
  if (set) {
    const [, key, op, list] = set as unknown as [string, string, "in" | "notin", string];
    const values = list.split(",").map((v) => v.trim());
    if (list.trim() === "") return `"${part}": the set of values is empty`;
    return checkKey(key) ?? checkValues(part, values) ?? { key, op, values };
  }
  if (/\s(in|notin)\s/.test(` ${part} `) || part.includes("(")) {
    return `"${part}": expected "key in (v1,v2)" or "key notin (v1,v2)"`;
  }
  const equality = part.match(/^([^=!<>\s]+)\s*(==|=|!=)\s*(.*)$/);
  if (equality) {
    const [, key, op, value] = equality as unknown as [string, string, string, string];
    return checkKey(key) ?? checkValues(part, [value.trim()]) ??
      { key, op: op === "!=" ? "notin" : "in", values: [value.trim()] };
  }
  if (/[<>]/.test(part)) return `"${part}": "<" and ">" do not apply to pod labels`;
  return checkKey(part) ?? { key: part, op: "exists" };
}

/** Why `key` is not a label key (`[prefix/]name`), or null. */
function checkKey(key: string): string | null {
  const slash = key.indexOf("/");
  const prefix = slash < 0 ? null : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== null && (prefix.length > 253 || !PREFIX.test(prefix))) {
    return `"${key}" is not a label key: the prefix must be a DNS subdomain`;
  }
  if (name.length > 63 || !NAME.test(name)) {
    return `"${key}" is not a label key: the name must be 1-63 letters, digits, "-", "_" or ".", ` +
      "beginning and ending with a letter or digit";
  }
  return null;
}

function checkValues(part: string, values: readonly string[]): string | null {
  const bad = values.find((v) => v.length > 63 || !VALUE.test(v));
  return bad === undefined ? null : `"${part}": "${bad}" is not a label value`;
}
