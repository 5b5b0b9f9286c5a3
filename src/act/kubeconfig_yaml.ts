/**
 * A reader for the YAML that kubeconfigs are written in: block mappings and sequences
 * (also a sequence at its key's indentation, as kubectl writes it), plain, single- and
 * double-quoted one-line scalars, `{}`, `[]` and comments.
 *
 * It exists because the `yaml` package costs ~10 MiB of RSS on an idle Deno (its own code
 * and Deno's Node compatibility layer that any npm package pulls in), kept for the life of
 * the process, on nodes that are short of memory. Anything outside that subset (anchors,
 * tags, flow collections with items, block scalars, multi-line scalars, several documents,
 * tabs, duplicate keys, numbers other than plain decimals) makes it give up and return
 * null: the caller then uses the `yaml` package, so a file reads the same either way, and
 * only unusual files pay for the full parser.
 *
 * White space is YAML's (space and tab, YAML 1.2 §5.5 `s-white`), never JavaScript's
 * `trim()` or `\s`, which also strip NBSP, U+3000, U+FEFF and other Unicode spaces: to YAML
 * (and to kubectl's go-yaml) those are content. `server: https://a:6443\u00a0#x` is the URL
 * with `\u00a0#x` in it, not a URL and a comment; a key indented by NBSP is not indented.
 * Nesting deeper than {@linkcode MAX_DEPTH} levels throws {@linkcode TooDeep}.
 */

/** The document, or null when the text is outside the subset (then use a full parser). */
export function parseKubeconfigYaml(text: string): { readonly value: unknown } | null {
  try {
    return { value: parseDocument(text) };
  } catch (error) {
    if (error instanceof Unsupported) return null;
    throw error;
  }
}

class Unsupported extends Error {}

/** Block nesting this reader follows; deeper is no kubeconfig (and would exhaust the stack). */
export const MAX_DEPTH = 100;

/** The document nests deeper than {@linkcode MAX_DEPTH} levels. */
export class TooDeep extends Error {
  constructor() {
    super(`it nests deeper than ${MAX_DEPTH} levels`);
    this.name = "TooDeep";
  }
}

/** Spaces at the end (tabs never get this far: they make the reader give up). */
function trimEnd(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 32) end--;
  return text.slice(0, end);
}

/** Spaces at the start. */
function trimStart(text: string): string {
  let start = 0;
  while (start < text.length && text.charCodeAt(start) === 32) start++;
  return text.slice(start);
}

const bail = (): never => {
  throw new Unsupported();
};

interface Line {
  /** Spaces before the text. */
  readonly indent: number;
  /** The text after them, trailing spaces removed. */
  readonly text: string;
}

function parseDocument(text: string): unknown {
  const source = text.startsWith("\ufeff") ? text.slice(1) : text;
  if (source.includes("\t")) bail();
  const lines: Line[] = [];
  for (const raw of source.replace(/\r\n/g, "\n").split("\n")) {
    if (raw.includes("\r")) bail();
    const trimmed = trimEnd(raw);
    const body = trimStart(trimmed);
    if (body === "" || body.startsWith("#")) continue;
    const indent = trimmed.length - body.length;
    if (indent === 0 && body === "---" && lines.length === 0) continue;
    if (indent === 0 && /^(---|\.\.\.)( |$)|^%/.test(body)) bail();
    lines.push({ indent, text: body });
  }
  if (lines.length === 0) return null;
  const first = lines[0]!;
  if (first.indent !== 0) bail();
  // A document that is one scalar (`{}`, a word …).
  if (lines.length === 1 && !isSequenceItem(first.text) && splitKey(first.text) === null) {
    return scalar(first.text);
  }
  const [value, next] = block(lines, 0, 0, 1);
  if (next !== lines.length) bail();
  return value;
}

function isSequenceItem(text: string): boolean {
  return text === "-" || text.startsWith("- ");
}

/** The block node starting at `lines[at]`, which is indented by `indent`. */
function block(lines: Line[], at: number, indent: number, depth: number): [unknown, number] {
  if (depth > MAX_DEPTH) throw new TooDeep();
  return isSequenceItem(lines[at]!.text)
    ? sequence(lines, at, indent, depth)
    : mapping(lines, at, indent, depth);
}

function sequence(
  lines: Line[],
  at: number,
  indent: number,
  depth: number,
): [unknown[], number] {
  const items: unknown[] = [];
  let i = at;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.indent < indent) break;
    if (line.indent > indent) bail();
    // A key at this indentation: the sequence was its parent key's value (`key:\n- a`).
    if (!isSequenceItem(line.text)) break;
    const rest = line.text.slice(1);
    const content = trimStart(rest);
    const column = indent + 1 + (rest.length - content.length);
    if (content === "" || content.startsWith("#")) {
      i++;
      const next = lines[i];
      if (next !== undefined && next.indent > indent) {
        const [value, after] = block(lines, i, next.indent, depth + 1);
        items.push(value);
        i = after;
      } else items.push(null);
    } else if (isSequenceItem(content)) {
      bail();
    } else if (splitKey(content) !== null) {
      // `- name: x` starts a mapping whose keys line up with `name`.
      lines[i] = { indent: column, text: content };
      const [value, after] = mapping(lines, i, column, depth + 1);
      items.push(value);
      i = after;
    } else {
      items.push(scalar(content));
      i++;
    }
  }
  return [items, i];
}

function mapping(
  lines: Line[],
  at: number,
  indent: number,
  depth: number,
): [Record<string, unknown>, number] {
  const out: Record<string, unknown> = {};
  let i = at;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.indent < indent) break;
    if (line.indent > indent) bail();
    const entry = splitKey(line.text) ?? bail();
    const [key, rest] = entry;
    if (Object.hasOwn(out, key)) bail();
    i++;
    let value: unknown;
    if (rest === "" || rest.startsWith("#")) {
      const next = lines[i];
      if (next !== undefined && next.indent > indent) {
        [value, i] = block(lines, i, next.indent, depth + 1);
      } else if (next !== undefined && next.indent === indent && isSequenceItem(next.text)) {
        [value, i] = sequence(lines, i, indent, depth + 1);
      } else value = null;
    } else value = scalar(rest);
    out[key] = value;
  }
  return [out, i];
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_./-]*$/;
const RESERVED_KEY = /^(null|Null|NULL|true|True|TRUE|false|False|FALSE|__proto__)$/;

/** `key: rest` → [key, rest]; null when the line is not a `key:` line of the subset. */
function splitKey(text: string): [string, string] | null {
  let key: string;
  let after: string;
  if (text.startsWith('"') || text.startsWith("'")) {
    const quoted = readQuoted(text);
    if (quoted === null) return null;
    [key, after] = quoted;
    if (!(after === ":" || after.startsWith(": "))) return null;
    after = after.slice(1);
  } else {
    const colon = text.search(/:( |$)/);
    if (colon === -1) return null;
    key = text.slice(0, colon);
    after = text.slice(colon + 1);
    if (!PLAIN_KEY.test(key) || RESERVED_KEY.test(key)) bail();
  }
  if (key === "__proto__") bail();
  return [key, trimEnd(trimStart(after))];
}

/** A quoted scalar at the start of `text` → [value, what follows]; null if unterminated. */
function readQuoted(text: string): [string, string] | null {
  const quote = text[0];
  let value = "";
  for (let i = 1; i < text.length; i++) {
    const char = text[i]!;
    if (quote === "'") {
      if (char !== "'") value += char;
      else if (text[i + 1] === "'") {
        value += "'";
        i++;
      } else return [value, text.slice(i + 1)];
    } else if (char === '"') {
      return [value, text.slice(i + 1)];
    } else if (char === "\\") {
      const [decoded, used] = escape(text, i + 1);
      value += decoded;
      i += used;
    } else value += char;
  }
  return null;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  "0": "\0",
  a: "\x07",
  b: "\b",
  t: "\t",
  n: "\n",
  v: "\v",
  f: "\f",
  r: "\r",
  e: "\x1b",
  " ": " ",
  '"': '"',
  "/": "/",
  "\\": "\\",
};

/** The escape after a backslash at `text[at]` → [character, characters used]. */
function escape(text: string, at: number): [string, number] {
  const char = text[at] ?? bail();
  const simple = SIMPLE_ESCAPES[char];
  if (simple !== undefined) return [simple, 1];
  const width = char === "x" ? 2 : char === "u" ? 4 : char === "U" ? 8 : bail();
  const hex = text.slice(at + 1, at + 1 + width);
  if (!new RegExp(`^[0-9a-fA-F]{${width}}$`).test(hex)) bail();
  const code = parseInt(hex, 16);
  if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) bail();
  return [String.fromCodePoint(code), 1 + width];
}

/** A one-line value: quoted, `{}`, `[]` or plain (YAML 1.2 core schema types). */
function scalar(raw: string): unknown {
  if (raw.startsWith('"') || raw.startsWith("'")) {
    const quoted = readQuoted(raw) ?? bail();
    const [value, rest] = quoted;
    if (rest !== "" && !/^ +#/.test(rest)) bail();
    return value;
  }
  // `[^]`, not `.`: a comment runs to the end of the line, U+2028 (content to YAML) included.
  const text = raw.replace(/ +#[^]*$/, "");
  if (text === "{}") return {};
  if (text === "[]") return [];
  if (/^[[\]{}&*!|>%@`,?:#'"]/.test(text) || /^- /.test(text) || text === "-") bail();
  if (/:( |$)/.test(text)) bail();
  if (text === "" || text === "~" || /^(null|Null|NULL)$/.test(text)) return null;
  if (/^(true|True|TRUE)$/.test(text)) return true;
  if (/^(false|False|FALSE)$/.test(text)) return false;
  if (/^-?(0|[1-9][0-9]*)$/.test(text) && text !== "-0") {
    const value = Number(text);
    if (!Number.isSafeInteger(value)) bail();
    return value;
  }
  // Other numbers (floats, hex, octal, .inf) never appear in a kubeconfig: let `yaml` decide.
  if (/^[-+]?(\.[0-9]|[0-9])/.test(text) || /^[-+]?\.(inf|Inf|INF|nan|NaN|NAN)$/.test(text)) {
    bail();
  }
  return text;
}
