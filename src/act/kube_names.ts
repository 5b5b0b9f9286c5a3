/** The names the API accepts in a path: checked before any request is built. */
import type { PodRef } from "./kube_api.ts";

/** A JSON object (not null, not an array). */
export function isObject(value: unknown): value is object {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A Kubernetes namespace: a DNS-1123 label (RFC 1123), at most 63 characters. */
export function isDns1123Label(text: string): boolean {
  return text.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(text);
}

/** A Kubernetes pod name: a DNS-1123 subdomain, at most 253 characters. */
export function isDns1123Subdomain(text: string): boolean {
  return text.length <= 253 &&
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(text);
}

/** Why a pod reference cannot become a path (`..`, a slash, upper case), or null. */
export function invalidRef(ref: PodRef): string | null {
  if (!isDns1123Label(ref.namespace)) {
    return `Refusing to build a path for namespace ${
      JSON.stringify(ref.namespace).slice(0, 80)
    }: not a DNS-1123 label`;
  }
  if (!isDns1123Subdomain(ref.name)) {
    return `Refusing to build a path for pod name ${
      JSON.stringify(ref.name).slice(0, 80)
    }: not a DNS-1123 subdomain`;
  }
  return null;
}
