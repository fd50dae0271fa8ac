/**
 * Query parameters shared by the routes, validated with zod at the edge. Times are ISO-8601 or epoch
 * milliseconds (what Grafana's `${__from}`/`${__to}` give); cursors are opaque base64url strings.
 */
import { z } from '@hono/zod-openapi';

/** ISO-8601 date/time or epoch milliseconds → Date. */
export const timeParam = (name: 'from' | 'to') =>
  z
    .string()
    .max(64)
    .transform((s, ctx) => {
      // a date-time without a zone is UTC (JavaScript would read it as local time)
      const utc = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(s)
        ? `${s.replace(' ', 'T')}Z`
        : s;
      const d = /^-?\d{1,16}$/.test(s)
        ? new Date(Number(s))
        : /^\d{4}-\d{2}-\d{2}/.test(s)
          ? new Date(utc)
          : null;
      if (!d || Number.isNaN(d.getTime())) {
        ctx.addIssue({ code: 'custom', message: 'expected an ISO-8601 time or epoch milliseconds' });
        return z.NEVER;
      }
      return d;
    })
    .optional()
    .openapi({
      param: { name, in: 'query' },
      type: 'string',
      description:
        name === 'from'
          ? 'start of the time range (inclusive): ISO-8601 or epoch milliseconds'
          : 'end of the time range (exclusive): ISO-8601 or epoch milliseconds',
      example: name === 'from' ? '2026-01-01T00:00:00Z' : '1767312000000',
    });

/** A short identifier-like text filter (project, agent, model). */
export const textParam = (name: string, description: string) =>
  z
    .string()
    .min(1)
    .max(512)
    .optional()
    .openapi({ param: { name, in: 'query' }, description });

export const limitParam = (def: number, max: number) =>
  z.coerce
    .number()
    .int()
    .min(1)
    .max(max)
    .default(def)
    .openapi({
      param: { name: 'limit', in: 'query' },
      description: `rows per page (1–${max}, default ${def})`,
    });

export const idParam = z
  .string()
  .min(1)
  .max(256)
  .openapi({ param: { name: 'id', in: 'path' }, example: 'ses_6b1f2c3d4e5fABCDEFGHIJKLMN' });

/** Timestamps as DuckDB TIMESTAMP literals (UTC, microseconds), bound as parameters. */
export function ts(d: Date | undefined): string | null {
  return d ? d.toISOString().replace('T', ' ').replace('Z', '') : null;
}

export interface Cursor {
  /** sort key value of the last row */
  k: number;
  /** the tie-breaking ID of the last row */
  id: string;
  /** the sort it belongs to (`<column>:<asc|desc>`) */
  s: string;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c), 'utf8').toString('base64url');
}

const CursorSchema = z.object({ k: z.number(), id: z.string().max(256), s: z.string().max(64) });

export const cursorParam = z
  .string()
  .max(1024)
  .transform((s, ctx) => {
    try {
      const parsed = CursorSchema.safeParse(JSON.parse(Buffer.from(s, 'base64url').toString('utf8')));
      if (parsed.success) return parsed.data;
    } catch {
      // fall through
    }
    ctx.addIssue({ code: 'custom', message: 'not a cursor returned by this API (next_cursor)' });
    return z.NEVER;
  })
  .optional()
  .openapi({
    param: { name: 'cursor', in: 'query' },
    type: 'string',
    description: 'the `next_cursor` of the previous page',
  });
