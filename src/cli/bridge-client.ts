/**
 * Finding and asking a running bridge. DuckDB lets one process open the store for writing, so while
 * `ocbridge run` holds it, `ocbridge query`, `report` and `health` ask that process over loopback:
 * `run` writes `<db>.bridge.json` beside the store (mode 0600: URL, pid, a random local credential)
 * and removes it on exit; a file whose pid is dead, or that another user owns, is ignored.
 * The credential goes in the `x-ocbridge-credential` header; it opens `/internal/*` (SQL through
 * the API's read-only guard, reports) and every `/api` route.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { LOCAL_CREDENTIAL_HEADER } from '../api/local-credential.ts';
import { type OpenOptions, openStore, type Store, StoreLockedError } from '../store/db.ts';
import type { JsonRow } from '../store/query.ts';
import type { Summary } from '../store/report-summary.ts';
import type { ReportOptions, ReportResult } from '../store/reports.ts';

export const BridgeStateSchema = z.object({
  url: z.string().url(),
  pid: z.number().int().positive(),
  credential: z.string().min(32),
  db: z.string(),
  started_at: z.string(),
});
export type BridgeState = z.infer<typeof BridgeStateSchema>;

export function bridgeStatePath(db: string): string {
  return `${resolve(db)}.bridge.json`;
}

export function newCredential(): string {
  return randomBytes(32).toString('base64url');
}

/** A URL the local client can reach: a wildcard listen address becomes loopback. */
export function localUrl(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
}

/** Writes the state file (0600); returns a function that removes it (also run on process exit). */
export function writeBridgeState(db: string, s: { url: string; credential: string }): () => void {
  const path = bridgeStatePath(db);
  const state: BridgeState = {
    url: s.url,
    pid: process.pid,
    credential: s.credential,
    db: resolve(db),
    started_at: new Date().toISOString(),
  };
  rmSync(path, { force: true }); // the mode applies only when the file is created
  writeFileSync(path, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    try {
      const now = JSON.parse(readFileSync(path, 'utf8')) as { pid?: number };
      if (now.pid === process.pid) rmSync(path, { force: true });
    } catch {
      // already gone
    }
  };
  process.once('exit', remove);
  return remove;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running bridge's state for `db`, or null (no file, unreadable, not ours, or its process is gone). */
export function readBridgeState(db: string): BridgeState | null {
  const path = bridgeStatePath(db);
  try {
    const st = statSync(path);
    if (typeof process.getuid === 'function' && st.uid !== process.getuid()) return null;
    if ((st.mode & 0o077) !== 0) return null; // readable by others: not written by us
    const parsed = BridgeStateSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    if (!parsed.success || !alive(parsed.data.pid) || parsed.data.pid === process.pid) return null;
    return parsed.data;
  } catch {
    return null;
  }
}

export class BridgeRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class BridgeClient {
  constructor(readonly state: BridgeState) {}

  /** The running bridge behind a failed open: when `e` says the store is locked and a bridge holds it. */
  static behind(e: unknown, db: string): BridgeClient | null {
    return e instanceof StoreLockedError ? BridgeClient.find(db) : null;
  }

  /** The client for the bridge that holds `db`, or null when none is running. */
  static find(db: string): BridgeClient | null {
    const s = readBridgeState(db);
    return s ? new BridgeClient(s) : null;
  }

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set(LOCAL_CREDENTIAL_HEADER, this.state.credential);
    if (init.body !== undefined) headers.set('content-type', 'application/json');
    return fetch(new URL(path, this.state.url), { ...init, headers });
  }

  async json<T = unknown>(path: string, init: RequestInit = {}): Promise<T> {
    const r = await this.request(path, init);
    const body = (await r.json().catch(() => null)) as { error?: string; detail?: string } | null;
    if (!r.ok)
      throw new BridgeRequestError(
        r.status,
        `the running bridge (pid ${this.state.pid}) answered ${r.status}: ${body?.detail ?? body?.error ?? r.statusText}`,
      );
    return body as T;
  }

  /** Read-only SQL through the bridge's guard (one SELECT). */
  async query(
    sql: string,
    o: { limit?: number; timeoutMs?: number } = {},
  ): Promise<{ rows: JsonRow[]; truncated: boolean }> {
    const r = await this.json<{ data: JsonRow[]; truncated: boolean }>('/internal/query', {
      method: 'POST',
      body: JSON.stringify({ sql, limit: o.limit, timeout_ms: o.timeoutMs }),
    });
    return { rows: r.data, truncated: r.truncated };
  }

  async report(report: string, o: ReportOptions = {}): Promise<ReportResult> {
    const r = await this.json<{ data: JsonRow[]; totals: JsonRow }>('/internal/report', {
      method: 'POST',
      body: JSON.stringify({ report, ...o }),
    });
    return { rows: r.data, totals: r.totals };
  }

  async summary(o: { project?: string } = {}): Promise<Summary> {
    const r = await this.json<{ summary: Summary }>('/internal/report', {
      method: 'POST',
      body: JSON.stringify({ report: 'summary', ...o }),
    });
    return r.summary;
  }

  /** GET /api/health (liveness, readiness, ingest status). */
  health(probe: 'live' | 'ready' = 'live'): Promise<Response> {
    return this.request(`/api/health?probe=${probe}`);
  }
}

/**
 * Opens the store, or, when `ocbridge run` holds it, returns a client of that running bridge instead
 * (`query`, `report`, `health` ask it over loopback); throws the lock error when there is none.
 */
export async function openOrBridge(
  db: string,
  opts: OpenOptions = {},
): Promise<{ store: Store; bridge?: undefined } | { store?: undefined; bridge: BridgeClient }> {
  try {
    return { store: await openStore(db, opts) };
  } catch (e) {
    const bridge = BridgeClient.behind(e, db);
    if (!bridge) throw e;
    return { bridge };
  }
}
