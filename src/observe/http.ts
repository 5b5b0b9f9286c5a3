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

/**
 * Starts serving; throws at once when the address cannot be bound (in use, not local).
 * The returned server's `finished` settles after `signal` aborted and requests drained.
 */
export function serveEndpoint(
  handlers: EndpointHandlers,
  options: ServeOptions,
): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({
    hostname: options.address.hostname,
    port: options.address.port,
    signal: options.signal,
    onListen: (addr) => options.onListen?.({ hostname: addr.hostname, port: addr.port }),
    onError: (error) =>
      new Response(`Internal error: ${error instanceof Error ? error.message : error}\n`, {
        status: 500,
        headers: { "content-type": TEXT },
      }),
  }, endpointHandler(handlers));
}
