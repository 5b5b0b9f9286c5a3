/**
 * The agent's HTTP endpoint (`--metrics-addr`): `GET /metrics` (Prometheus text format
 * 0.0.4), `GET /healthz` (the loop is alive) and `GET /readyz` (first sample read, API
 * reachable). Plain HTTP, read only, nothing else served.
 */
import type { ProbeResult } from "./health.ts";
import type { ListenAddress } from "./listen_address.ts";
import { EXPOSITION_CONTENT_TYPE } from "./metrics.ts";

/** What the endpoint serves. */
export interface EndpointHandlers {
  /** The metrics text, rendered per scrape. */
  metrics(): string;
  liveness(): ProbeResult;
  readiness(): ProbeResult;
}

export interface ServeOptions {
  readonly address: ListenAddress;
  /** Aborting shuts the server down (in-flight requests finish). */
  readonly signal: AbortSignal;
  /** Called once listening, with the bound address (the real port for port 0). */
  readonly onListen?: (address: ListenAddress) => void;
}

const TEXT = "text/plain; charset=utf-8";

/** The request handler alone (tests call it without a socket). */
export function endpointHandler(handlers: EndpointHandlers): (request: Request) => Response {
  return (request) => {
    const { pathname } = new URL(request.url);
    const route = ROUTES[pathname];
    if (route === undefined) {
      return new Response(`Not found: try /metrics, /healthz or /readyz\n`, {
        status: 404,
        headers: { "content-type": TEXT },
      });
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("Method not allowed: use GET\n", {
        status: 405,
        headers: { "content-type": TEXT, "allow": "GET, HEAD" },
      });
    }
    return route(handlers);
  };
}

const ROUTES: Readonly<Record<string, (handlers: EndpointHandlers) => Response>> = {
  "/metrics": (handlers) =>
    new Response(handlers.metrics(), {
      status: 200,
      headers: { "content-type": EXPOSITION_CONTENT_TYPE, "cache-control": "no-store" },
    }),
  "/healthz": (handlers) => probeResponse(handlers.liveness()),
  "/readyz": (handlers) => probeResponse(handlers.readiness()),
};

function probeResponse(result: ProbeResult): Response {
  return new Response(`${result.detail}\n`, {
    status: result.ok ? 200 : 503,
    headers: { "content-type": TEXT, "cache-control": "no-store" },
  });
}

/** Limits that keep outside clients from exhausting the agent's descriptors or memory. */
export interface EndpointLimits {
  /** Connections open at once; at the cap, the oldest one still sending its request goes. */
  readonly maxConnections: number;
  /** Time from connect to the end of the request head (idle and half-sent clients), ms. */
  readonly headerTimeoutMs: number;
  /** Time to write the response (a client that does not read), ms. */
  readonly writeTimeoutMs: number;
  /** Largest request head (request line and headers), bytes; larger: 431. */
  readonly maxHeadBytes: number;
  /** Largest request body read (and ignored), bytes; larger: 413. */
  readonly maxBodyBytes: number;
}

export const ENDPOINT_LIMITS: EndpointLimits = {
  maxConnections: 16,
  headerTimeoutMs: 5_000,
  writeTimeoutMs: 5_000,
  maxHeadBytes: 8_192,
  maxBodyBytes: 65_536,
};

/** A running endpoint. */
export interface EndpointServer {
  readonly addr: Deno.NetAddr;
  /** Settles after `signal` aborted and every connection closed. */
  readonly finished: Promise<void>;
  /** Connections open now (tests, metrics). */
  connections(): number;
}

/**
 * Starts serving: HTTP/1.1, one request per connection (`Connection: close`), under
 * {@linkcode EndpointLimits}. Throws at once when the address cannot be bound (in use,
 * not local). A scraper needs nothing more, and an outside client can hold at most
 * `maxConnections` descriptors for at most `headerTimeoutMs` each.
 */
export function serveEndpoint(
  handlers: EndpointHandlers,
  options: ServeOptions & { readonly limits?: Partial<EndpointLimits> },
): EndpointServer {
  const limits = { ...ENDPOINT_LIMITS, ...options.limits };
  const listener = Deno.listen({
    hostname: options.address.hostname,
    port: options.address.port,
    transport: "tcp",
  });
  const addr = listener.addr as Deno.NetAddr;
  options.onListen?.({ hostname: addr.hostname, port: addr.port });
  const handler = endpointHandler(handlers);
  /** Open connections, oldest first, with whether their request head is complete. */
  const open = new Map<Deno.Conn, { headDone: boolean }>();
  const served = new Set<Promise<void>>();
  let stopped = false;

  const stop = () => {
    stopped = true;
    closeQuietly(listener);
    for (const conn of open.keys()) closeQuietly(conn);
  };
  if (options.signal.aborted) stop();
  else options.signal.addEventListener("abort", stop, { once: true });

  async function acceptLoop(): Promise<void> {
    while (!stopped) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (stopped || error instanceof Deno.errors.BadResource) break;
        // Out of descriptors or a transient error: the loop, not the process, waits.
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      if (!makeRoom(open, limits.maxConnections)) {
        closeQuietly(conn);
        continue;
      }
      const state = { headDone: false };
      open.set(conn, state);
      const done = serveConnection(conn, state, handler, limits).finally(() => {
        open.delete(conn);
        closeQuietly(conn);
        served.delete(done);
      });
      served.add(done);
    }
    await Promise.allSettled([...served]);
  }

  return {
    addr,
    finished: acceptLoop(),
    connections: () => open.size,
  };
}

/**
 * At the connection cap, closes the oldest connection still sending its request head, so a
 * scraper gets through while slow clients hold the slots. False when every open connection
 * is past its head (then the new one is refused).
 */
function makeRoom(open: Map<Deno.Conn, { headDone: boolean }>, maxConnections: number): boolean {
  if (open.size < maxConnections) return true;
  const idle = [...open].find(([, state]) => !state.headDone)?.[0];
  if (idle === undefined) return false;
  closeQuietly(idle);
  open.delete(idle);
  return true;
}

/** Reads one request, answers it, and leaves the connection to be closed. */
async function serveConnection(
  conn: Deno.Conn,
  state: { headDone: boolean },
  handler: (request: Request) => Response,
  limits: EndpointLimits,
): Promise<void> {
  const deadline = setTimeout(() => closeQuietly(conn), limits.headerTimeoutMs);
  let response: Response;
  let head = false;
  try {
    const request = await readRequest(conn, limits);
    state.headDone = true;
    clearTimeout(deadline);
    if (typeof request === "number") {
      response = new Response(`${STATUS_TEXT[request] ?? "Bad request"}\n`, {
        status: request,
        headers: { "content-type": TEXT },
      });
    } else {
      head = request.method === "HEAD";
      try {
        response = handler(request);
      } catch (error) {
        response = new Response(
          `Internal error: ${error instanceof Error ? error.message : error}\n`,
          { status: 500, headers: { "content-type": TEXT } },
        );
      }
    }
  } catch {
    return; // Closed by the deadline, reset by the client, or stopped.
  } finally {
    clearTimeout(deadline);
  }
  const bytes = await serialize(response, head);
  const writeDeadline = setTimeout(() => closeQuietly(conn), limits.writeTimeoutMs);
  try {
    let offset = 0;
    while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
  } catch {
    // The client went away or did not read in time.
  } finally {
    clearTimeout(writeDeadline);
  }
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: "Bad request",
  413: "Request body too large",
  431: "Request header fields too large",
};

/** The request, or the status to answer when it is malformed or too large. */
async function readRequest(conn: Deno.Conn, limits: EndpointLimits): Promise<Request | number> {
  const buffer = new Uint8Array(limits.maxHeadBytes + limits.maxBodyBytes);
  let length = 0;
  let headEnd = -1;
  while (headEnd < 0) {
    if (length >= limits.maxHeadBytes) return 431;
    const n = await conn.read(buffer.subarray(length, limits.maxHeadBytes));
    if (n === null) throw new Error("closed before the request head");
    const from = Math.max(0, length - 3);
    length += n;
    headEnd = indexOfHeadEnd(buffer, from, length);
  }
  const headText = new TextDecoder().decode(buffer.subarray(0, headEnd));
  const [requestLine, ...headerLines] = headText.split("\r\n");
  const match = /^([A-Z]{1,16}) (\/[^ ]*) HTTP\/1\.[01]$/.exec(requestLine ?? "");
  if (match === null) return 400;
  const headers = new Headers();
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    if (colon <= 0) return 400;
    try {
      headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    } catch {
      return 400;
    }
  }
  // Read (and ignore) a small body, so that closing does not reset the answer.
  const contentLength = Number(headers.get("content-length") ?? "0");
  if (!Number.isInteger(contentLength) || contentLength < 0) return 400;
  if (contentLength > limits.maxBodyBytes) return 413;
  let bodyRead = length - (headEnd + 4);
  while (bodyRead < contentLength) {
    const n = await conn.read(buffer.subarray(length));
    if (n === null) break;
    length += n;
    bodyRead += n;
  }
  return new Request(`http://endpoint${match[2]}`, { method: match[1], headers });
}

function indexOfHeadEnd(buffer: Uint8Array, from: number, to: number): number {
  for (let i = from; i + 3 < to; i++) {
    if (
      buffer[i] === 13 && buffer[i + 1] === 10 && buffer[i + 2] === 13 && buffer[i + 3] === 10
    ) {
      return i;
    }
  }
  return -1;
}

async function serialize(response: Response, head: boolean): Promise<Uint8Array> {
  const body = new Uint8Array(await response.arrayBuffer());
  let text = `HTTP/1.1 ${response.status} ${
    response.statusText || reasonPhrase(response.status)
  }\r\n`;
  response.headers.forEach((value, name) => (text += `${name}: ${value}\r\n`));
  text += `content-length: ${body.length}\r\nconnection: close\r\n\r\n`;
  const headBytes = new TextEncoder().encode(text);
  if (head) return headBytes;
  const bytes = new Uint8Array(headBytes.length + body.length);
  bytes.set(headBytes);
  bytes.set(body, headBytes.length);
  return bytes;
}

function reasonPhrase(status: number): string {
  return ({
    200: "OK",
    404: "Not Found",
    405: "Method Not Allowed",
    503: "Service Unavailable",
  } as Record<number, string>)[status] ?? STATUS_TEXT[status] ?? "";
}

function closeQuietly(resource: { close(): void }): void {
  try {
    resource.close();
  } catch {
    // Already closed.
  }
}
