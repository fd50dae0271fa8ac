/**
 * DNS rebinding guard: without an API token, a web page whose name an attacker points at 127.0.0.1
 * could read the API from the user's browser. Such a request carries the attacker's name in `Host`, so
 * without a token only these `Host` names are accepted: `localhost` (and `*.localhost`), IP addresses
 * (a rebinding needs a DNS name), and the names given with `--allowed-host` (a container's service
 * name, for Prometheus). With a token the token decides.
 */
import { isIP } from 'node:net';

/** The host name of a `Host` header (no port, no IPv6 brackets), lower-cased. */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') < 0 ? undefined : h.indexOf(']'));
  const colon = h.lastIndexOf(':');
  return colon < 0 ? h : h.slice(0, colon);
}

/** Whether a request with this `Host` header may be answered without a token. */
export function hostAllowed(header: string | undefined, allowed: readonly string[] = []): boolean {
  if (header === undefined || header === '') return true; // not a browser (browsers always send Host)
  const name = hostName(header);
  if (name === 'localhost' || name.endsWith('.localhost') || isIP(name) !== 0) return true;
  return allowed.some((a) => a.toLowerCase() === name);
}
