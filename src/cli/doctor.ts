/**
 * `ocbridge doctor`: what a support request needs, in one go. Finds the OpenCode data dir and what
 * will be read, the OpenCode versions that wrote it, permissions, the inotify limit against the
 * watches `run` needs, whether the HTTP port is free, and the state of the DuckDB file.
 * Read-only: opens OpenCode databases read-only and the store read-only (or not at all when held).
 */
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { defaultOpenCodeDataDir, discoverSources, type Sources } from '../ingest/discover.ts';
import { openStore, StoreLockedError } from '../store/db.ts';
import { MIGRATIONS } from '../store/migrate.ts';
import { VERSION } from '../version.ts';

export type DoctorStatus = 'ok' | 'info' | 'warn' | 'error';

export interface DoctorFinding {
  area: string;
  status: DoctorStatus;
  detail: string;
}

export interface DoctorOptions {
  source?: string;
  db: string;
  host: string;
  port: number;
  configFile?: string | null;
  env?: NodeJS.ProcessEnv;
}

const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;

function readable(p: string, dir: boolean): string | null {
  try {
    accessSync(p, constants.R_OK | (dir ? constants.X_OK : 0));
    return null;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? 'unreadable';
  }
}

/** Directories under `root` (what `run` watches: one inotify watch each), counted up to `cap`. */
function countDirs(root: string, cap = 2_000_000): number {
  let n = 0;
  const stack = [root];
  while (stack.length > 0 && n < cap) {
    const d = stack.pop() as string;
    n++;
    let entries: import('node:fs').Dirent[] = [];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) if (e.isDirectory()) stack.push(join(d, e.name));
  }
  return n;
}

function openCodeDb(path: string): DoctorFinding[] {
  const out: DoctorFinding[] = [];
  let db: Database.Database | null = null;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const tables = new Set(
      (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map(
        (r) => r.name,
      ),
    );
    const gens = [tables.has('session_v2') ? '2.x' : null, tables.has('session') ? 'v1' : null].filter(
      Boolean,
    );
    const versions: string[] = [];
    let sessions = 0;
    for (const t of ['session', 'session_v2'])
      if (tables.has(t)) {
        sessions += (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
        for (const r of db.prepare(`SELECT DISTINCT version FROM ${t} ORDER BY version`).all() as {
          version: string;
        }[])
          versions.push(r.version);
      }
    const mode = (db.pragma('journal_mode', { simple: true }) as string) ?? '?';
    out.push({
      area: 'opencode db',
      status: gens.length ? 'ok' : 'warn',
      detail: `${path}: ${mb(statSync(path).size)}, tables ${gens.join(' + ') || 'none known'}, ${sessions} sessions, journal ${mode}`,
    });
    if (versions.length)
      out.push({
        area: 'opencode versions',
        status: 'info',
        detail: `${path}: ${[...new Set(versions)].join(', ')}`,
      });
  } catch (e) {
    out.push({ area: 'opencode db', status: 'error', detail: `${path}: ${(e as Error).message}` });
  } finally {
    db?.close();
  }
  return out;
}

function jsonVersions(storage: string, sample = 200): string[] {
  const versions = new Set<string>();
  const dir = join(storage, 'session');
  let seen = 0;
  try {
    for (const project of readdirSync(dir)) {
      for (const f of readdirSync(join(dir, project))) {
        if (!f.endsWith('.json') || seen >= sample) continue;
        seen++;
        try {
          const v = (JSON.parse(readFileSync(join(dir, project, f), 'utf8')) as { version?: unknown })
            .version;
          if (typeof v === 'string') versions.add(v);
        } catch {
          // half-written or bad file: ingest reports it
        }
      }
    }
  } catch {
    // no session folder
  }
  return [...versions].sort();
}

async function portFree(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(null)));
  });
}

async function ocbridgeAt(host: string, port: number): Promise<boolean> {
  try {
    const h = host.includes(':') ? `[${host}]` : host;
    const r = await fetch(`http://${h}:${port}/api/health`, { signal: AbortSignal.timeout(2000) });
    return r.ok && JSON.stringify(await r.json()).includes('ok');
  } catch {
    return false;
  }
}

export async function runDoctor(o: DoctorOptions): Promise<DoctorFinding[]> {
  const env = o.env ?? process.env;
  const f: DoctorFinding[] = [];
  const node = process.versions.node;
  const [maj = 0, min = 0] = node.split('.').map(Number);
  f.push({
    area: 'runtime',
    status: (maj === 20 && min >= 19) || maj >= 22 ? 'ok' : 'error',
    detail: `ocbridge ${VERSION}, Node ${node} (needs 20.19+ or 22+), ${process.platform}/${process.arch}`,
  });
  f.push({
    area: 'config',
    status: 'info',
    detail: o.configFile
      ? `read ${o.configFile}`
      : 'no config file (defaults, flags and OCBRIDGE_* variables)',
  });

  // OpenCode data
  const root = o.source ?? defaultOpenCodeDataDir(env);
  let sources: Sources | null = null;
  try {
    sources = discoverSources(o.source, env);
    f.push({
      area: 'opencode data',
      status: 'ok',
      detail: `${sources.root}${o.source ? '' : ' (default data dir)'}`,
    });
  } catch (e) {
    f.push({
      area: 'opencode data',
      status: 'error',
      detail: `${(e as Error).message} Try it on generated data: npm run demo`,
    });
  }
  if (sources) {
    const bad = readable(sources.root, statSync(sources.root).isDirectory());
    if (bad) f.push({ area: 'permissions', status: 'error', detail: `${sources.root}: ${bad}` });
    if (sources.storageDir) {
      const projects = existsSync(join(sources.storageDir, 'session'))
        ? readdirSync(join(sources.storageDir, 'session')).length
        : 0;
      const perm = readable(sources.storageDir, true);
      f.push({
        area: 'will read',
        status: perm ? 'error' : 'ok',
        detail: `JSON tree ${sources.storageDir} (${projects} project folders)${perm ? `: ${perm}` : ''}`,
      });
      const v = jsonVersions(sources.storageDir);
      if (v.length)
        f.push({ area: 'opencode versions', status: 'info', detail: `JSON tree (sampled): ${v.join(', ')}` });
    }
    for (const db of sources.dbFiles) {
      f.push({ area: 'will read', status: 'ok', detail: `database ${db}` });
      f.push(...openCodeDb(db));
    }
    // inotify: run watches the data dir and every directory of storage/
    const maxFile = '/proc/sys/fs/inotify/max_user_watches';
    if (existsSync(maxFile)) {
      const max = Number(readFileSync(maxFile, 'utf8').trim());
      const need = 1 + (sources.storageDir ? countDirs(sources.storageDir) : 0);
      f.push({
        area: 'inotify',
        status: need > max * 0.8 ? (need > max ? 'error' : 'warn') : 'ok',
        detail: `ocbridge run needs ~${need} watches of max_user_watches=${max}${need > max * 0.8 ? ' (raise it: sudo sysctl fs.inotify.max_user_watches=524288)' : ''}`,
      });
    }
  } else if (existsSync(root)) {
    const bad = readable(root, true);
    if (bad) f.push({ area: 'permissions', status: 'error', detail: `${root}: ${bad}` });
  }

  // HTTP port
  const busy = await portFree(o.host, o.port);
  if (busy === null) f.push({ area: 'port', status: 'ok', detail: `${o.host}:${o.port} is free` });
  else if (await ocbridgeAt(o.host, o.port))
    f.push({
      area: 'port',
      status: 'info',
      detail: `${o.host}:${o.port}: an ocbridge is already answering there`,
    });
  else
    f.push({
      area: 'port',
      status: 'warn',
      detail: `${o.host}:${o.port} is taken (${busy}); use --port or OCBRIDGE_PORT`,
    });

  // DuckDB store
  if (!existsSync(o.db)) {
    const dir = dirname(o.db);
    const parent = existsSync(dir) ? dir : dirname(dir);
    let writable = true;
    try {
      accessSync(parent, constants.W_OK);
    } catch {
      writable = false;
    }
    f.push({
      area: 'store',
      status: writable ? 'info' : 'error',
      detail: `${o.db} does not exist yet${writable ? ' (created by the first run)' : `; ${parent} is not writable`}`,
    });
  } else {
    const wal = existsSync(`${o.db}.wal`) ? `, WAL ${mb(statSync(`${o.db}.wal`).size)}` : '';
    try {
      const store = await openStore(o.db, { readOnly: true });
      try {
        const r = (
          await store.conn.runAndReadAll(
            `SELECT (SELECT coalesce(max(version), 0) FROM schema_migrations) AS v,
                    (SELECT count(*) FROM sessions) AS s,
                    (SELECT list(DISTINCT version ORDER BY version) FROM sessions WHERE version IS NOT NULL) AS versions`,
          )
        ).getRowObjectsJS()[0] as { v: number; s: bigint; versions: string[] | null };
        const latest = Math.max(...MIGRATIONS.map((m) => m.version));
        f.push({
          area: 'store',
          status: Number(r.v) === latest ? 'ok' : 'warn',
          detail: `${o.db}: ${mb(statSync(o.db).size)}${wal}, schema ${r.v} of ${latest}${Number(r.v) < latest ? ' (the next run migrates it)' : ''}, ${Number(r.s)} sessions`,
        });
        if (r.versions?.length)
          f.push({
            area: 'opencode versions',
            status: 'info',
            detail: `in the store: ${r.versions.join(', ')}`,
          });
      } finally {
        store.close();
      }
    } catch (e) {
      if (e instanceof StoreLockedError)
        f.push({
          area: 'store',
          status: 'info',
          detail: `${o.db}: ${mb(statSync(o.db).size)}${wal}, held by a running ocbridge (${(e as Error).message.match(/PID \d+/)?.[0] ?? 'another process'})`,
        });
      else
        f.push({ area: 'store', status: 'error', detail: `${o.db}: ${(e as Error).message.split('\n')[0]}` });
    }
  }
  return f;
}
