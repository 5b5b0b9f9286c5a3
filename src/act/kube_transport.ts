/**
 * The HTTP transport of the API client: `fetch` plus `Deno.createHttpClient` for TLS, no
 * client library at run time (`@kubernetes/client-node` is imported for its types only).
 *
 * Every request has a timeout and a cap on the response body, every body is consumed, a
 * `Retry-After` is read, a 401 re-reads the token and retries once, redirects are never
 * followed, and a failure says whether the request may have reached the server
 * ({@linkcode KubeApiError.sent}) and what to do about it (the CA that failed to verify the
 * server, the timeout in seconds).
 */
import type { V1Status } from "@kubernetes/client-node";
import { KubeApiError, type KubeConnection, type TokenSource } from "./kube_api.ts";

/** One completed exchange: the status and the parsed JSON body (null if not JSON). */
export interface Exchange {
  readonly status: number;
  readonly body: unknown;
  /** `Retry-After` in ms, when sent. */
  readonly retryAfterMs: number | null;
}

/**
 * Sends one request with the current token (JSON body, or `contentType`); on a 401 the
 * token is re-read and the request sent once more. Throws KubeApiError when no answer came.
 */
export type Send = (
  method: string,
  pathAndQuery: string,
  body?: unknown,
  contentType?: string,
) => Promise<Exchange>;

/** What {@linkcode createTransport} needs besides the connection. */
export interface TransportOptions {
  /** Per-request timeout, headers and body, ms. */
  readonly timeoutMs: number;
  /** Largest response body read, bytes; a larger one fails the call. */
  readonly maxResponseBytes: number;
  /** Accept an `http://` server (the token goes over the network in clear text). */
  readonly allowInsecureHttp: boolean;
  /** Called once per HTTP exchange with the verb and the status (null: no response). */
  readonly onRequest: (verb: string, code: number | null) => void;
}

/** A connection's requests; close() releases its TLS client, after which send() throws. */
export interface Transport {
  readonly send: Send;
  close(): void;
}

/** Everything one exchange needs, fixed when the transport is created. */
interface Target extends TransportOptions {
  readonly server: string;
  readonly caSource: string;
  readonly connection: KubeConnection;
  readonly httpClient: Deno.HttpClient | undefined;
  closed: boolean;
}

/** Checks the connection and builds its TLS client; throws KubeApiError (code null) if bad. */
export function createTransport(
  connection: KubeConnection,
  options: TransportOptions,
): Transport {
  const server = parseServer(connection.server, options.allowInsecureHttp);
  const caSource = connection.caSource ??
    (connection.caPem === null ? "the system trust store" : "the configured CA");
  const httpClient = createTlsClient(connection, caSource);
  const target: Target = { ...options, server, caSource, connection, httpClient, closed: false };
  return {
    send: async (method, pathAndQuery, body, contentType) => {
      const tokens = connection.token;
      const token = await readToken(tokens);
      const first = await exchangeOnce(target, method, pathAndQuery, body, token, contentType);
      if (first.status !== 401 || tokens === null) return first;
      tokens.invalidate();
      const fresh = await readToken(tokens);
      return await exchangeOnce(target, method, pathAndQuery, body, fresh, contentType);
    },
    close() {
      if (target.closed) return;
      target.closed = true;
      httpClient?.close();
    },
  };
}

/**
 * One HTTP exchange with its own timeout; the body is read to the end (at most
 * `maxResponseBytes`). Redirects are errors: a 3xx is returned as is, never followed.
 */
async function exchangeOnce(
  target: Target,
  method: string,
  pathAndQuery: string,
  body: unknown,
  token: string | null,
  contentType = "application/json",
): Promise<Exchange> {
  const { server, timeoutMs } = target;
  if (target.closed) {
    throw new KubeApiError(`Cannot call the API server: the client is closed`, null, {
      sent: false,
    });
  }
  const headers = new Headers({ "Accept": "application/json", "User-Agent": "kube-soomkiller" });
  if (token !== null) headers.set("Authorization", `Bearer ${token}`);
  if (body !== undefined) headers.set("Content-Type", contentType);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  let status: number | null = null;
  try {
    const response = await fetch(`${server}${pathAndQuery}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: abort.signal,
      client: target.httpClient,
      redirect: "manual",
    });
    status = response.status;
    const what = `${method} "${pathAndQuery}"`;
    const text = await readCapped(response, target.maxResponseBytes, what);
    return {
      status,
      body: parseJson(text),
      retryAfterMs: parseRetryAfter(response.headers.get("retry-after")),
    };
  } catch (error) {
    if (error instanceof KubeApiError) throw error;
    if (abort.signal.aborted) {
      throw new KubeApiError(
        `${method} "${pathAndQuery}" timed out after ${formatSeconds(timeoutMs)}`,
        null,
        { sent: true },
      );
    }
    const message = describeNetworkError(server, error, target.caSource, target.connection);
    // A refused connection or a failed handshake sent nothing; anything else may have.
    const sent = status !== null || !NOT_SENT.test(errorMessage(error));
    throw new KubeApiError(message, status, { sent });
  } finally {
    clearTimeout(timer);
    target.onRequest(method, status);
  }
}

/** Reads a body to the end, failing once it passes `limit` bytes. */
async function readCapped(response: Response, limit: number, what: string): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel();
    throw new KubeApiError(
      `${what}: the response of ${declared} bytes is over the ${limit}-byte limit`,
      response.status,
    );
  }
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw new KubeApiError(
        `${what}: the response is over the ${limit}-byte limit`,
        response.status,
      );
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/** `Retry-After` (seconds or an HTTP date) in ms; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number = Date.now()): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^\d{1,9}$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

/**
 * Network errors that mean no request reached the server: those of the connect phase
 * (reqwest's "(Connect)": TCP connect, DNS, the TLS handshake). Any other error, e.g. a
 * reset or a TLS close after the request went out, may follow a committed write.
 */
const NOT_SENT = /\(Connect\)|connection refused|failed to lookup address|dns error/i;

/**
 * Checks the server URL and drops a trailing slash. `http://` only with
 * `allowInsecureHttp` (the bearer token would cross the network in clear text); a URL with
 * `user:pass@` is refused and never repeated with its password.
 */
function parseServer(server: string, allowInsecureHttp: boolean): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new KubeApiError(
      `Cannot use API server ${
        JSON.stringify(redactUrl(server))
      }: not a URL (expected https://host:port)`,
      null,
      { sent: false },
    );
  }
  if (url.username !== "" || url.password !== "") {
    throw new KubeApiError(
      `Cannot use API server "${redactUrl(server)}": credentials in the URL are not ` +
        `supported (use a token or a client certificate)`,
      null,
      { sent: false },
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new KubeApiError(`Cannot use API server "${server}": the scheme must be https`, null, {
      sent: false,
    });
  }
  if (url.protocol === "http:" && !allowInsecureHttp) {
    throw new KubeApiError(
      `Cannot use API server "${server}": plain http:// would send the bearer token in clear ` +
        `text; use https://, or pass --allow-insecure-http if you accept that`,
      null,
      { sent: false },
    );
  }
  if (url.search !== "" || url.hash !== "") {
    throw new KubeApiError(`Cannot use API server "${server}": it has a query or fragment`, null, {
      sent: false,
    });
  }
  return server.replace(/\/+$/, "");
}

/** A URL for a message, with any `user:pass@` replaced by `***@`. */
export function redactUrl(server: string): string {
  return server.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, "$1***@");
}

/** A Deno HttpClient when a CA or a client certificate is given; undefined otherwise. */
function createTlsClient(
  connection: KubeConnection,
  caSource: string,
): Deno.HttpClient | undefined {
  const { caPem, clientCertPem, clientKeyPem } = connection;
  if ((clientCertPem === null) !== (clientKeyPem === null)) {
    throw new KubeApiError(
      `Cannot use the client certificate: ${
        clientCertPem === null ? "a key is given without a certificate" : "the key is missing"
      }`,
      null,
    );
  }
  if (caPem !== null && !caPem.includes("-----BEGIN CERTIFICATE-----")) {
    // Deno accepts a CA without certificates silently and then fails every handshake.
    throw new KubeApiError(`Cannot use the CA from ${caSource}: no PEM certificate found`, null);
  }
  if (caPem === null && clientCertPem === null) return undefined;
  const caCerts = caPem === null ? [] : [caPem];
  try {
    return clientCertPem !== null && clientKeyPem !== null
      ? Deno.createHttpClient({ caCerts, cert: clientCertPem, key: clientKeyPem })
      : Deno.createHttpClient({ caCerts });
  } catch (error) {
    throw new KubeApiError(
      `Cannot use the ${clientCertPem !== null ? "client certificate" : "CA"}: ${
        errorMessage(error)
      }`,
      null,
    );
  }
}

async function readToken(tokens: TokenSource | null): Promise<string | null> {
  if (tokens === null) return null;
  try {
    return await tokens.get();
  } catch (error) {
    throw new KubeApiError(`Cannot read the bearer token: ${errorMessage(error)}`, null);
  }
}

/** `HTTP 409 Conflict: <Status.message>`, from a Status body when there is one. */
export function statusDetail(code: number, body: unknown): string {
  const status = body as Partial<V1Status> | null;
  const reason = typeof status?.reason === "string" && status.reason !== ""
    ? ` ${status.reason}`
    : "";
  const message = typeof status?.message === "string" && status.message !== ""
    ? `: ${status.message}`
    : "";
  return `HTTP ${code}${reason}${message}`;
}

/** A fetch failure in words, naming the CA for certificate errors. */
function describeNetworkError(
  server: string,
  error: unknown,
  caSource: string,
  connection: KubeConnection,
): string {
  const raw = errorMessage(error);
  const detail = tlsDetail(raw);
  const prefix = `Cannot reach the API server "${server}"`;
  if (/invalid peer certificate/i.test(raw)) {
    const hint = connection.insecureSkipTlsVerify
      ? `; insecure-skip-tls-verify cannot be honoured per client in Deno: give the cluster's ` +
        `CA or run with --unsafely-ignore-certificate-errors`
      : "";
    return `${prefix}: TLS verification against ${caSource} failed: ${detail}${hint}`;
  }
  if (/fatal alert: CertificateRequired/i.test(raw)) {
    return `${prefix}: TLS handshake failed: the server requires a client certificate (${detail})`;
  }
  if (/fatal alert/i.test(raw)) {
    const check = connection.clientCertPem === null ? "" : " (check the client certificate)";
    return `${prefix}: TLS handshake failed: the server refused it${check}: ${detail}`;
  }
  if (/certificate|tls|handshake/i.test(raw)) return `${prefix}: TLS handshake failed: ${detail}`;
  return `${prefix}: ${detail}`;
}

/** The interesting tail of a rustls error ("invalid peer certificate: UnknownIssuer"). */
function tlsDetail(detail: string): string {
  const match = detail.match(/\(Connect\):\s*(.*)$/);
  return match?.[1] ?? detail;
}

/** The message of an error, including the cause Deno's fetch hides it in. */
export function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause.message : null;
  return cause ?? error.message;
}

function parseJson(text: string): unknown {
  if (text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}
