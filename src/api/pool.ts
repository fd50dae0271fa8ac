/**
 * The API's own DuckDB connections (never the writer's `store.conn`): a small pool over
 * `store.instance`, every query with a deadline. A query over its deadline is interrupted
 * (`connection.interrupt()`), reported as `QueryTimeoutError`, and its connection is replaced, so a
 * late interrupt can never hit the next query.
 */

import type { DuckDBConnection, DuckDBInstance, DuckDBResultReader } from '@duckdb/node-api';
import { API_LIMITS } from '../resources.ts';
import { type JsonRow, resultRows } from '../store/query.ts';

export class QueryTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the query took longer than ${timeoutMs} ms and was interrupted`);
  }
}

export interface PoolOptions {
  /** connections kept open (default 4) */
  size?: number;
  /** default deadline per query (default 10 s) */
  timeoutMs?: number;
}

function closeConnection(c: DuckDBConnection): void {
  c.closeSync();
}

export class ConnectionPool {
  private readonly idle: DuckDBConnection[] = [];
  private readonly waiting: ((c: DuckDBConnection) => void)[] = [];
  private created = 0;
  private closed = false;
  readonly size: number;
  readonly timeoutMs: number;

  constructor(
    private readonly instance: DuckDBInstance,
    opts: PoolOptions = {},
  ) {
    this.size = Math.max(1, opts.size ?? API_LIMITS.poolSize);
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  private async acquire(): Promise<DuckDBConnection> {
    if (this.closed) throw new Error('the API connection pool is closed');
    const c = this.idle.pop();
    if (c) return c;
    if (this.created < this.size) {
      this.created++;
      try {
        return await this.instance.connect();
      } catch (e) {
        this.created--;
        throw e;
      }
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(c: DuckDBConnection): void {
    if (this.closed) {
      closeConnection(c);
      this.created--;
      return;
    }
    const next = this.waiting.shift();
    if (next) next(c);
    else this.idle.push(c);
  }

  /** Gives up a connection that may carry a pending interrupt; a waiter gets a fresh one. */
  private discard(c: DuckDBConnection): void {
    try {
      closeConnection(c);
    } catch {
      // already gone
    }
    this.created--;
    const next = this.waiting.shift();
    if (!next) return;
    this.created++;
    this.instance.connect().then(next, () => {
      this.created--;
      this.waiting.unshift(next);
    });
  }

  /**
   * Runs `fn` on a pooled connection with a deadline. On timeout the connection is interrupted and
   * `QueryTimeoutError` is thrown (whatever DuckDB answered).
   */
  async with<T>(fn: (c: DuckDBConnection) => Promise<T>, timeoutMs = this.timeoutMs): Promise<T> {
    const conn = await this.acquire();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      conn.interrupt();
    }, timeoutMs);
    try {
      const r = await fn(conn);
      if (timedOut) throw new QueryTimeoutError(timeoutMs);
      return r;
    } catch (e) {
      if (timedOut) throw new QueryTimeoutError(timeoutMs);
      throw e;
    } finally {
      clearTimeout(timer);
      if (timedOut) this.discard(conn);
      else this.release(conn);
    }
  }

  /** One parameterised query (parameters are bound, never spliced), rows made JSON-friendly. */
  async rows(sql: string, params: unknown[] = [], timeoutMs?: number): Promise<JsonRow[]> {
    return resultRows(await this.reader(sql, params, timeoutMs));
  }

  /**
   * Rows of a query whose columns are all VARCHAR, DOUBLE, INTEGER or BOOLEAN (times formatted in
   * SQL): converted by DuckDB's own JS conversion, without the per-value pass of `resultRows` (big
   * answers such as a 1000-span trace). A JSON column comes back as text unless `parseJson`.
   */
  async plainRows(sql: string, params: unknown[] = [], parseJson?: string): Promise<JsonRow[]> {
    const r = await this.reader(sql, params);
    const rows = r.getRowObjectsJS() as JsonRow[];
    if (parseJson)
      for (const row of rows) {
        const v = row[parseJson];
        if (typeof v === 'string') row[parseJson] = JSON.parse(v);
      }
    return rows;
  }

  /**
   * Same, on a statement prepared for this one run. A prepared statement is not kept for the next
   * request: DuckDB plans it with the statistics of the data it sees then, and a kept one run again
   * after the live bridge committed longer strings (or into a table that was empty) returned garbled
   * text or crashed the process with @duckdb/node-api 1.5.6-r.1 (test/api-pool.test.ts). Repeated
   * requests on unchanged data are answered by the response cache instead (cache.ts).
   */
  reader(sql: string, params: unknown[] = [], timeoutMs?: number): Promise<DuckDBResultReader> {
    return this.with(async (c) => {
      const p = await c.prepare(sql);
      try {
        if (params.length > 0) p.bind(params as never);
        return await p.runAndReadAll();
      } finally {
        p.destroySync();
      }
    }, timeoutMs);
  }

  close(): void {
    this.closed = true;
    for (const c of this.idle.splice(0)) {
      closeConnection(c);
      this.created--;
    }
  }
}
