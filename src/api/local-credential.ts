/**
 * The running bridge's local credential: the header the CLI's bridge client sends and the server
 * checks. Its own module so the client (`ocbridge query`, `report`, `health`) loads no Hono.
 */
import { timingSafeEqual } from 'node:crypto';

export const LOCAL_CREDENTIAL_HEADER = 'x-ocbridge-credential';

/** Constant-time comparison of a presented secret with the expected one. */
export function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
