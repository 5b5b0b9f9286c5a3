/**
 * A small kubeconfig reader for running the agent outside a cluster.
 *
 * Supported: the current context (or a named one); a cluster's `server`,
 * `certificate-authority-data` / `certificate-authority` and `insecure-skip-tls-verify`;
 * a user's `token` / `tokenFile` and `client-certificate(-data)` / `client-key(-data)`.
 * Not supported, with an error that says so: `exec` and `auth-provider` plugins, basic
 * auth, impersonation, `proxy-url`, `tls-server-name`. File paths are relative to the
 * kubeconfig's directory, as in kubectl.
 *
 * Parsing is split from I/O: {@linkcode selectFromKubeconfig} is pure,
 * {@linkcode parseKubeconfig} adds the YAML reader (kubectl's YAML by a small reader of
 * its own, anything else by the `yaml` package, loaded lazily, so most runs never load it), {@linkcode loadKubeconfig} reads the files and returns a KubeConnection.
 */
import { type KubeConnection, redactUrl, type TokenSource } from "./kube_client.ts";
import { parseKubeconfigYaml, TooDeep } from "./kubeconfig_yaml.ts";
import { type ConnectionDeps, fileTokenSource, staticTokenSource } from "./token_source.ts";

/** A malformed or unsupported kubeconfig; the message names the file and the field. */
export class KubeconfigError extends Error {
  /** The kubeconfig's path. */
  readonly path: string;
  constructor(path: string, detail: string) {
    super(`Cannot read kubeconfig "${path}": ${detail}`);
    this.name = "KubeconfigError";
    this.path = path;
  }
}

/** A piece of credentials, inline (already base64-decoded) or in a file (absolute path). */
export type Material =
  | { readonly field: string; readonly inline: string }
  | { readonly field: string; readonly file: string };

/** What the selected context says, before any referenced file is read. */
export interface KubeconfigSelection {
  /** The kubeconfig's path, for messages. */
  readonly path: string;
  readonly contextName: string;
  readonly clusterName: string;
  /** Null when the context names no user (anonymous). */
  readonly userName: string | null;
  /** `cluster.server`, e.g. `https://127.0.0.1:6443`. */
  readonly server: string;
  /** `certificate-authority-data` or `certificate-authority`; null: system roots. */
  readonly ca: Material | null;
  readonly insecureSkipTlsVerify: boolean;
  /** `tokenFile` (re-read when it rotates) or `token`. */
  readonly token: Material | null;
  readonly clientCert: Material | null;
  readonly clientKey: Material | null;
}

/** Options of the kubeconfig readers. */
export interface KubeconfigOptions {
  /** Use this context instead of `current-context`. */
  readonly context?: string;
}

/**
 * Picks the context, cluster and user out of a parsed kubeconfig document. Pure: file
 * references are only resolved against `dir`, not read.
 */
export function selectFromKubeconfig(
  doc: unknown,
  path: string,
  dir: string,
  options: KubeconfigOptions = {},
): KubeconfigSelection {
  const fail = (detail: string): never => {
    throw new KubeconfigError(path, detail);
  };
  if (doc === null || doc === undefined) fail("it is empty");
  if (!isRecord(doc)) fail("the top level is not a mapping");
  const root = doc as Record<string, unknown>;

  // As client-go reads it (tools/clientcmd/api/v1/conversion.go): the three lists are
  // checked whole, whichever entries the context uses; a name that is not a string or that
  // two entries share fails the file ("duplicate name … in list"), as does an entry that is
  // not a mapping.
  for (const list of ["clusters", "users", "contexts"]) checkNamedList(root, list, fail);
  // `current-context: 123` fails too, as in client-go: its YAML becomes JSON (sigs.k8s.io/yaml
  // YAMLToJSON, no target type) and a JSON number does not decode into the string field
  // (apimachinery runtime/serializer/json); kubectl refuses the file.
  const contextName = options.context ??
    (optionalString(root, "current-context", "current-context", fail) || null) ??
    fail("no current-context");
  const context = namedEntry(root, "contexts", "context", contextName, fail);
  const contextField = `contexts["${contextName}"].context`;
  const clusterName = optionalString(context, "cluster", contextField, fail) ||
    fail(`${contextField}.cluster is missing`);
  const userName = optionalString(context, "user", contextField, fail) || null;

  const cluster = selectCluster(root, clusterName, dir, fail);
  const user = userName === null ? NO_USER : selectUser(root, userName, dir, fail);
  return { path, contextName, clusterName, userName, ...cluster, ...user };
}

/** What a kubeconfig's cluster entry gives. */
type ClusterSelection = Pick<KubeconfigSelection, "server" | "ca" | "insecureSkipTlsVerify">;
/** What a kubeconfig's user entry gives. */
type UserSelection = Pick<KubeconfigSelection, "token" | "clientCert" | "clientKey">;

/** A context without a user: anonymous. */
const NO_USER: UserSelection = { token: null, clientCert: null, clientKey: null };

/** The cluster called `clusterName`: its server, CA and TLS setting; unsupported fields fail. */
function selectCluster(
  root: Record<string, unknown>,
  clusterName: string,
  dir: string,
  fail: Fail,
): ClusterSelection {
  const cluster = namedEntry(root, "clusters", "cluster", clusterName, fail);
  const clusterField = `clusters["${clusterName}"].cluster`;
  for (const unsupported of ["proxy-url", "tls-server-name"]) {
    if (cluster[unsupported] !== undefined) {
      fail(`${clusterField}.${unsupported} is not supported`);
    }
  }
  const server = optionalString(cluster, "server", clusterField, fail) ||
    fail(`${clusterField}.server is missing`);
  if (!/^https?:\/\//.test(server)) {
    fail(`${clusterField}.server "${redactUrl(server)}" is not an http(s) URL`);
  }
  const insecure = cluster["insecure-skip-tls-verify"];
  if (insecure !== undefined && typeof insecure !== "boolean") {
    fail(`${clusterField}.insecure-skip-tls-verify is not true or false`);
  }
  const ca = material(cluster, "certificate-authority", clusterField, dir, fail);
  return { server: server.replace(/\/+$/, ""), ca, insecureSkipTlsVerify: insecure === true };
}

/**
 * The user called `userName`: a token or a client certificate. Plugins (`exec`,
 * `auth-provider`), basic auth and impersonation fail with a message that says so.
 */
function selectUser(
  root: Record<string, unknown>,
  userName: string,
  dir: string,
  fail: Fail,
): UserSelection {
  const user = namedEntry(root, "users", "user", userName, fail);
  const userField = `users["${userName}"].user`;
  rejectUnsupportedAuth(user, userField, fail);
  const tokenFile = optionalString(user, "tokenFile", userField, fail);
  const inlineToken = optionalString(user, "token", userField, fail);
  let token: Material | null = null;
  // As in client-go, a tokenFile wins over an inline token: it is the one that rotates.
  if (tokenFile) token = { field: `${userField}.tokenFile`, file: resolvePath(dir, tokenFile) };
  else if (inlineToken) token = { field: `${userField}.token`, inline: inlineToken };
  const clientCert = material(user, "client-certificate", userField, dir, fail);
  const clientKey = material(user, "client-key", userField, dir, fail);
  if (clientCert !== null && clientKey === null) {
    fail(`${userField}.client-key-data or client-key is missing (a client certificate is set)`);
  }
  if (clientKey !== null && clientCert === null) {
    fail(
      `${userField}.client-certificate-data or client-certificate is missing ` +
        `(a client key is set)`,
    );
  }
  return { token, clientCert, clientKey };
}

/** Fails on the ways of authenticating this reader does not support. */
function rejectUnsupportedAuth(
  user: Record<string, unknown>,
  userField: string,
  fail: Fail,
): void {
  if (user.exec !== undefined) {
    const command = isRecord(user.exec) && typeof user.exec.command === "string"
      ? ` ("${user.exec.command}")`
      : "";
    fail(`${userField}.exec${command} is not supported: use a token or a client certificate`);
  }
  if (user["auth-provider"] !== undefined) {
    fail(`${userField}.auth-provider is not supported: use a token or a client certificate`);
  }
  if (user.username !== undefined || user.password !== undefined) {
    fail(
      `${userField}.username/password (basic auth) is not supported: ` +
        `use a token or a client certificate`,
    );
  }
  for (const unsupported of ["as", "as-uid", "as-groups", "as-user-extra"]) {
    if (user[unsupported] !== undefined) {
      fail(`${userField}.${unsupported} (impersonation) is not supported`);
    }
  }
}

/** Parses kubeconfig YAML (JSON works too) and selects the context; no file is read. */
export async function parseKubeconfig(
  text: string,
  dir: string,
  options: KubeconfigOptions & { readonly path?: string } = {},
): Promise<KubeconfigSelection> {
  const path = options.path ?? `${dir}/config`;
  // JSON is YAML too, and needs no parser module: a JSON kubeconfig
  // (`kubectl config view --flatten -o json`) saves the ~10 MiB of RSS the yaml package
  // costs (tests/bench/README.md).
  const json = parseJsonObject(text);
  if (json !== undefined) return selectFromKubeconfig(json, path, dir, options);
  // Nor does the YAML kubectl writes; anything outside that subset goes to the package.
  let simple;
  try {
    simple = parseKubeconfigYaml(text);
  } catch (error) {
    if (error instanceof TooDeep) throw new KubeconfigError(path, error.message);
    throw error;
  }
  if (simple !== null) return selectFromKubeconfig(simple.value, path, dir, options);
  const { parse } = await import("yaml");
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (error) {
    throw new KubeconfigError(
      path,
      `not valid YAML: ${describe(error).split("\n")[0]!.replace(/:$/, "")}`,
    );
  }
  return selectFromKubeconfig(doc, path, dir, options);
}

/** The value of `text` when it is a JSON object; undefined otherwise. */
function parseJsonObject(text: string): unknown {
  if (!text.trimStart().startsWith("{")) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Reads a kubeconfig and the files it references and returns the connection of its
 * current context (or `options.context`). Throws KubeconfigError.
 */
export async function loadKubeconfig(
  path: string,
  deps: ConnectionDeps,
  options: KubeconfigOptions = {},
): Promise<KubeConnection> {
  const { readTextFile } = deps;
  let text: string;
  try {
    text = await readTextFile(path);
  } catch (error) {
    throw new KubeconfigError(path, describe(error));
  }
  const selection = await parseKubeconfig(text, dirname(path), { ...options, path });

  const pem = (m: Material | null, marker: RegExp, what: string) =>
    readPem(m, marker, what, path, readTextFile);
  const caPem = await pem(selection.ca, /-----BEGIN CERTIFICATE-----/, "certificate");
  const clientCertPem = await pem(
    selection.clientCert,
    /-----BEGIN CERTIFICATE-----/,
    "certificate",
  );
  const clientKeyPem = await pem(
    selection.clientKey,
    /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
    "private key",
  );
  return {
    server: selection.server,
    caPem,
    caSource: caSourceOf(selection.ca, path),
    insecureSkipTlsVerify: selection.insecureSkipTlsVerify,
    clientCertPem,
    clientKeyPem,
    token: await tokenSourceOf(selection.token, path, deps),
  };
}

/** A PEM piece of credentials, read when in a file; it must hold `marker`. Null: none. */
async function readPem(
  m: Material | null,
  marker: RegExp,
  what: string,
  path: string,
  readTextFile: ConnectionDeps["readTextFile"],
): Promise<string | null> {
  if (m === null) return null;
  let text: string;
  if ("inline" in m) text = m.inline;
  else {
    try {
      text = await readTextFile(m.file);
    } catch (error) {
      throw new KubeconfigError(path, `cannot read ${m.field} "${m.file}": ${describe(error)}`);
    }
  }
  if (!marker.test(text)) throw new KubeconfigError(path, `${m.field} holds no PEM ${what}`);
  return text;
}

/** The bearer token: a token file is read once now, so a missing one fails at start. */
async function tokenSourceOf(
  material: Material | null,
  path: string,
  deps: ConnectionDeps,
): Promise<TokenSource | null> {
  if (material === null) return null;
  if ("inline" in material) return staticTokenSource(material.inline);
  const token = fileTokenSource(material.file, deps);
  try {
    await token.get();
  } catch (error) {
    throw new KubeconfigError(path, `${material.field}: ${describe(error)}`);
  }
  return token;
}

/** Where the CA came from, for TLS error messages. */
function caSourceOf(ca: Material | null, path: string): string {
  if (ca === null) return "the system trust store";
  return "file" in ca
    ? `the CA "${ca.file}" (${ca.field} in kubeconfig "${path}")`
    : `the CA in ${ca.field} of kubeconfig "${path}"`;
}

type Fail = (detail: string) => never;

/**
 * Fails, as client-go does when it loads the file, on a `<list>` whose entries are not
 * mappings, whose `name` is not a string, or that names two entries alike (a null entry
 * is client-go's empty entry, named "").
 */
function checkNamedList(root: Record<string, unknown>, list: string, fail: Fail): void {
  const entries = root[list];
  if (!Array.isArray(entries)) return;
  const seen = new Set<string>();
  entries.forEach((entry, i) => {
    if (entry !== null && !isRecord(entry)) fail(`${list}[${i}] is not a mapping`);
    const name = entry === null ? "" : (entry as Record<string, unknown>).name ?? "";
    if (typeof name !== "string") return fail(`${list}[${i}].name is not a string`);
    if (seen.has(name)) {
      fail(`duplicate name ${JSON.stringify(name)} in ${list} (client-go refuses such a file)`);
    }
    seen.add(name);
  });
}

/** The `<kind>` mapping of the entry called `name` in the `<list>` list. */
function namedEntry(
  root: Record<string, unknown>,
  list: string,
  kind: string,
  name: string,
  fail: Fail,
): Record<string, unknown> {
  const entries = root[list];
  if (entries !== undefined && entries !== null && !Array.isArray(entries)) {
    fail(`${list} is not a list`);
  }
  const entry = (Array.isArray(entries) ? entries : []).find((e) =>
    isRecord(e) && e.name === name
  ) as Record<string, unknown> | undefined;
  if (entry === undefined) return fail(`${kind} "${name}" not found in ${list}`);
  const body = entry[kind];
  if (body === undefined || body === null) return {};
  if (!isRecord(body)) return fail(`${list}["${name}"].${kind} is not a mapping`);
  return body;
}

/** A string field; "" when absent; fails on another type. */
function optionalString(
  object: Record<string, unknown>,
  key: string,
  field: string,
  fail: Fail,
): string {
  const value = object[key];
  if (value === undefined || value === null) return "";
  if (typeof value !== "string") {
    return fail(`${field === key ? key : `${field}.${key}`} is not a string`);
  }
  return value;
}

/** `<name>-data` (base64) or `<name>` (a path); the data wins, as in client-go. */
function material(
  object: Record<string, unknown>,
  name: string,
  field: string,
  dir: string,
  fail: Fail,
): Material | null {
  const data = optionalString(object, `${name}-data`, field, fail);
  if (data) {
    const decoded = decodeBase64(data);
    if (decoded === null) fail(`${field}.${name}-data is not valid base64`);
    return { field: `${field}.${name}-data`, inline: decoded as string };
  }
  const file = optionalString(object, name, field, fail);
  return file ? { field: `${field}.${name}`, file: resolvePath(dir, file) } : null;
}

function decodeBase64(data: string): string | null {
  try {
    const binary = atob(data.replace(/\s+/g, ""));
    return new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(binary, (c) => c.charCodeAt(0)),
    );
  } catch {
    return null;
  }
}

function resolvePath(dir: string, file: string): string {
  if (file.startsWith("/")) return file;
  return `${dir.replace(/\/+$/, "")}/${file.replace(/^\.\//, "")}`;
}

function dirname(path: string): string {
  const slash = path.lastIndexOf("/");
  if (slash < 0) return ".";
  if (slash === 0) return "/";
  return path.slice(0, slash);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
