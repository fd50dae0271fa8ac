/**
 * Checks that can fail, run before anything is created on disk: the HTTP port is free, and every
 * SQLite file given as a source is OpenCode's. (The store file is checked by openStore itself.)
 */
import { createServer } from 'node:net';
import { defaultOpenCodeDataDir, type Sources } from '../ingest/discover.ts';
import { openReadOnly, SourceUnreadableError, tablesOf } from '../ingest/sqlite.ts';
import { UserError } from './user-error.ts';

/** Listens on host:port once and lets go; a port in use becomes a one-line error with the fix. */
export async function requirePortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const s = createServer();
    s.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE')
        reject(
          new UserError(
            `port ${port} on ${host} is in use (another ocbridge run?): choose another with --port N, or --port 0 for any free port`,
          ),
        );
      else if (e.code === 'EACCES')
        reject(
          new UserError(`not allowed to listen on ${host}:${port}: choose a port above 1024 with --port N`),
        );
      else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND')
        reject(
          new UserError(
            `${host} is not an address of this machine: use --host 127.0.0.1 (or 0.0.0.0 for all)`,
          ),
        );
      else reject(e);
    });
    s.listen({ host, port, exclusive: true }, () => s.close(() => resolve()));
  });
}

/** OpenCode's database has these tables (1.2: session, message, part; 2.x adds session_v2 …). */
const OPENCODE_TABLES = ['session', 'session_v2'];

/**
 * Each database source opens as SQLite and has OpenCode's tables. A file that is not SQLite at all
 * (or is locked) is left to the ingest, which reports it unreadable and reads the rest.
 */
export function requireOpenCodeDatabases(sources: Sources): void {
  for (const file of sources.dbFiles) {
    let tables: Set<string>;
    try {
      const db = openReadOnly(file);
      try {
        tables = tablesOf(db);
      } finally {
        db.close();
      }
    } catch (e) {
      if (e instanceof SourceUnreadableError) continue;
      throw e;
    }
    if (!OPENCODE_TABLES.some((t) => tables.has(t)))
      throw new UserError(
        `${file} is a SQLite database but not OpenCode's (no session table): point --source at OpenCode's data dir (${defaultOpenCodeDataDir()}) or its opencode.db`,
      );
  }
}
