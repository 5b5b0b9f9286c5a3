/**
 * `--metrics-addr` as Go writes listen addresses: `:9402`, `0.0.0.0:9402`, `[::]:9402`,
 * `localhost:9402`. Pure: parsing only, no socket.
 */

/** Where the HTTP endpoint listens. */
export interface ListenAddress {
  /** Interface to bind: an IPv4 or IPv6 literal (without brackets) or a host name. */
  readonly hostname: string;
  /** TCP port; 0 asks the kernel for a free one. */
  readonly port: number;
}

/**
 * Hostname for an empty host (`:9402`). Go binds every address family for it; Deno binds
 * one, and `0.0.0.0` works on every cluster with IPv4 pod IPs (IPv6-only clusters set
 * `--metrics-addr=[::]:9402`).
 */
export const ANY_HOST = "0.0.0.0";

const HOST_NAME =
  /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Parses `host:port`; returns an error message (no flag name) when it is not one. */
export function parseListenAddress(text: string): ListenAddress | { readonly error: string } {
  const colon = text.lastIndexOf(":");
  if (colon < 0) return { error: 'expected host:port such as ":9402" or "127.0.0.1:9402"' };
  const hostPart = text.slice(0, colon);
  const portPart = text.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portPart) || Number(portPart) > 65535) {
    return { error: `the port "${portPart}" is not a number from 0 to 65535` };
  }
  const port = Number(portPart);
  if (hostPart === "") return { hostname: ANY_HOST, port };
  if (hostPart.startsWith("[") && hostPart.endsWith("]")) {
    const ipv6 = hostPart.slice(1, -1);
    if (!isIpv6(ipv6)) return { error: `"${ipv6}" is not an IPv6 address` };
    return { hostname: ipv6, port };
  }
  if (hostPart.includes(":")) {
    return { error: "an IPv6 address needs brackets, as in [::]:9402" };
  }
  if (IPV4.test(hostPart)) return { hostname: hostPart, port };
  if (/^[\d.]+$/.test(hostPart)) return { error: `"${hostPart}" is not an IPv4 address` };
  if (!HOST_NAME.test(hostPart)) return { error: `"${hostPart}" is not a host name` };
  return { hostname: hostPart, port };
}

/** True for an IPv6 literal (optionally with an embedded IPv4 tail); no zone ids. */
function isIpv6(text: string): boolean {
  try {
    // The URL parser knows every IPv6 spelling; it rejects anything else in brackets.
    return new URL(`http://[${text}]/`).hostname !== "";
  } catch {
    return false;
  }
}

/** `host:port` for a log line, bracketing IPv6. */
export function formatListenAddress(address: ListenAddress): string {
  return address.hostname.includes(":")
    ? `[${address.hostname}]:${address.port}`
    : `${address.hostname}:${address.port}`;
}
