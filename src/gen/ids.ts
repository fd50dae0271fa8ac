/**
 * OpenCode identifiers (packages/opencode/src/id/id.ts):
 *   <prefix>_<12 hex = low 48 bits of (ms * 0x1000 + counter), bitwise-NOT for descending><14 base62>
 * The counter restarts at 1 whenever the millisecond changes. Only 48 bits survive, so the encoded clock
 * is (ms mod 2^36) and wraps every ~795 days (2024-06-10 02:35:18 UTC, 2026-08-14 11:19:55 UTC).
 * Session IDs are descending (newer sorts first); message and part IDs ascending.
 */
import type { Rng } from './random.ts';

export type IdPrefix = 'ses' | 'msg' | 'prt' | 'per' | 'que' | 'pty' | 'tool' | 'wrk' | 'evt' | 'job';

const MASK48 = (1n << 48n) - 1n;

/** Epoch ms at which the encoded 36-bit millisecond clock wraps to 0. */
export const ID_CLOCK_WRAPS_MS = [2 ** 36 * 25, 2 ** 36 * 26] as const; // 2024-06-10T02:35:18.400Z, 2026-08-14T11:19:55.136Z
export const ID_CLOCK_PERIOD_MS = 2 ** 36;

export const ID_RE = /^(ses|msg|prt|per|que|pty|tool|wrk|evt|job)_[0-9a-f]{12}[0-9A-Za-z]{14}$/;

export class IdFactory {
  private lastTimestamp = -1;
  private counter = 0;

  constructor(private readonly rng: Rng) {}

  create(prefix: IdPrefix, descending: boolean, timestamp: number): string {
    if (timestamp !== this.lastTimestamp) {
      this.lastTimestamp = timestamp;
      this.counter = 0;
    }
    this.counter++;
    let now = BigInt(timestamp) * 0x1000n + BigInt(this.counter);
    if (descending) now = ~now;
    const hex = (now & MASK48).toString(16).padStart(12, '0');
    return `${prefix}_${hex}${this.rng.base62(14)}`;
  }

  ascending(prefix: IdPrefix, timestamp: number): string {
    return this.create(prefix, false, timestamp);
  }

  descending(prefix: IdPrefix, timestamp: number): string {
    return this.create(prefix, true, timestamp);
  }
}

/** The 48-bit value encoded in an ID (undone NOT for descending IDs). */
export function idEncodedValue(id: string, descending = false): bigint {
  const hex = id.slice(id.indexOf('_') + 1, id.indexOf('_') + 13);
  const v = BigInt(`0x${hex}`);
  return descending ? ~v & MASK48 : v;
}

/** Milliseconds modulo 2^36 encoded in an ID (what Identifier.timestamp() really returns). */
export function idEncodedMs(id: string, descending = false): number {
  return Number(idEncodedValue(id, descending) >> 12n);
}

/** Project IDs are git root-commit SHAs (40 hex) or the literal "global". */
export const PROJECT_ID_RE = /^([0-9a-f]{40}|global)$/;
