/**
 * Deterministic trace and span IDs, derived from OpenCode IDs only.
 *
 * trace_id = first 16 bytes of sha256("ocbridge/trace/v1/" + seed)
 * span_id  = first 8 bytes of sha256("ocbridge/span/v1/" + seed + "/" + spanKey)
 *
 * `seed` is the exchange's user message ID (falling back to the exchange ID); `spanKey` is
 * `<kind>/<part_id | message_id | session_id>` of the exchange_traces row (`exchange` for the root,
 * `subagent/<child session>/<row id>` for a sub-agent span, whose row id names the task part).
 * OpenCode IDs carry a timestamp and 14 random base62 characters, so two machines never produce
 * the same seed, and a re-export produces identical IDs. The same formulas exist as SQL
 * (`traceIdSql`, `spanIdSql`) so the bulk path hashes inside DuckDB; a test keeps them equal.
 */
import { createHash } from 'node:crypto';

export const TRACE_PREFIX = 'ocbridge/trace/v1/';
export const SPAN_PREFIX = 'ocbridge/span/v1/';

export interface SpanKeyInput {
  kind: string;
  partId?: string | null;
  messageId?: string | null;
  sessionId?: string | null;
  spanId?: string | null;
}

/** The OpenCode identity of one span inside its trace. */
export function spanKey(r: SpanKeyInput): string {
  if (r.kind === 'exchange') return 'exchange';
  // A sub-agent span has no part of its own: the child session plus the row's id (the task part).
  if (r.kind === 'subagent') return `subagent/${r.sessionId ?? ''}/${r.spanId ?? ''}`;
  return `${r.kind}/${r.partId ?? r.messageId ?? r.sessionId ?? r.spanId ?? ''}`;
}

function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

export function traceIdFor(seed: string): string {
  return sha256Hex(TRACE_PREFIX + seed).slice(0, 32);
}

export function spanIdFor(seed: string, key: string): string {
  return sha256Hex(`${SPAN_PREFIX}${seed}/${key}`).slice(0, 16);
}

/** SQL twin of `spanKey`; `t` is an exchange_traces alias. */
export function spanKeySql(t: string): string {
  return `CASE WHEN ${t}.kind = 'exchange' THEN 'exchange'
    WHEN ${t}.kind = 'subagent' THEN 'subagent/' || coalesce(${t}.session_id, '') || '/' || coalesce(${t}.span_id, '') ELSE ${t}.kind || '/' || coalesce(${t}.part_id, ${t}.message_id, ${t}.session_id, ${t}.span_id, '') END`;
}

/** SQL twin of `traceIdFor` over a seed expression. */
export function traceIdSql(seedExpr: string): string {
  return `left(sha256('${TRACE_PREFIX}' || ${seedExpr}), 32)`;
}

/** SQL twin of `spanIdFor` over seed and key expressions. */
export function spanIdSql(seedExpr: string, keyExpr: string): string {
  return `left(sha256('${SPAN_PREFIX}' || ${seedExpr} || '/' || ${keyExpr}), 16)`;
}
