/**
 * The API over real HTTP: the server of `createApp` + `startServer`, `ocbridge run` with `ocbridge
 * query`/`report` asking it while it holds the store (state file, local credential), `ocbridge
 * serve`, and the docs page in headless Chromium (when installed: CI installs Debian `chromium`).
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, disposeApp, startServer } from '../src/api/server.ts';
import { BridgeClient, bridgeStatePath, readBridgeState } from '../src/cli/bridge-client.ts';
import { openStore } from '../src/store/db.ts';
import { DataDir, stepFinish, stepStart, T0, tool } from './support/analytics.ts';
import { cli } from './support/cli.ts';
import { tempDir } from './support/datadir.ts';

const BIN = fileURLToPath(new URL('../bin/ocbridge.js', import.meta.url));

function fixture(): DataDir {
  const d = new DataDir()
    .project()
    .session('ses_a')
    .session('ses_b', { created: T0 + 5000 });
  for (const [s, u, a, t] of [
    ['ses_a', 'msg_au', 'msg_aa', T0],
    ['ses_b', 'msg_bu', 'msg_ba', T0 + 5000],
  ] as const) {
    d.user(s, u, t);
    d.assistant(s, a, u, { created: t + 100, tokens: { input: 7, output: 3 }, cost: 0.25 }, [
      stepStart(),
      tool('read', t + 200, t + 300),
      stepFinish({ input: 7, output: 3 }, 0.25),
    ]);
  }
  return d;
}

/** Spawns the CLI and resolves with the first JSON log line whose msg is `msg` (stderr). */
function spawnCli(
  args: string[],
  msg: string,
): { child: ChildProcess; line: Promise<Record<string, unknown>> } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let buf = '';
  const line = new Promise<Record<string, unknown>>((resolve, reject) => {
    child.stderr?.on('data', (d: Buffer) => {
      buf += d.toString();
      for (const l of buf.split('\n')) {
        try {
          const j = JSON.parse(l) as Record<string, unknown>;
          if (j.msg === msg) resolve(j);
        } catch {
          // not a JSON line (yet)
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`ocbridge ${args[0]} exited ${code}: ${buf}`)));
  });
  return { child, line };
}

const exited = (c: ChildProcess) =>
  new Promise<number | null>((r) =>
    c.exitCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code)),
  );

describe('the real server', () => {
  it('answers over HTTP with a bearer token; health is open', async () => {
    const store = await fixture().ingest();
    const app = createApp({ store, apiToken: 'tok' });
    const server = await startServer(app, { host: '127.0.0.1', port: 0 });
    try {
      expect((await fetch(`${server.url}/api/sessions`)).status).toBe(401);
      const r = await fetch(`${server.url}/api/sessions?sort=started_at&order=asc`, {
        headers: { authorization: 'Bearer tok' },
      });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/application\/json/);
      const body = (await r.json()) as { data: { session_id: string }[]; next_cursor: null };
      expect(body.data.map((s) => s.session_id)).toEqual(['ses_a', 'ses_b']);
      expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
      const spec = (await (
        await fetch(`${server.url}/openapi.json`, { headers: { authorization: 'Bearer tok' } })
      ).json()) as { openapi: string };
      expect(spec.openapi).toBe('3.0.3');
    } finally {
      await server.close();
      disposeApp(app);
      store.close();
    }
  });
});

describe('ocbridge run holds the store: query and report ask it', () => {
  let run: ChildProcess;
  let db: string;
  let url: string;
  let d: DataDir;

  beforeAll(async () => {
    d = fixture();
    db = join(tempDir('ocb-api-run-'), 'store.duckdb');
    const s = spawnCli(
      ['run', '--source', d.dir, '--db', db, '--port', '0', '--enable-sql'],
      'history loaded; watching for changes',
    );
    run = s.child;
    await s.line;
    url = readBridgeState(db)?.url ?? '';
  }, 60_000);

  afterAll(async () => {
    if (run && run.exitCode === null) {
      run.kill('SIGKILL');
      await exited(run);
    }
  });

  it('writes a 0600 state file with url, pid and credential', () => {
    const st = statSync(bridgeStatePath(db));
    expect(st.mode & 0o777).toBe(0o600);
    const s = readBridgeState(db);
    expect(s).toMatchObject({ pid: run.pid, url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
    expect(s?.credential.length).toBeGreaterThanOrEqual(43);
  });

  it('ocbridge query works while run holds the store (through the read-only guard)', () => {
    const r = cli([
      'query',
      '--db',
      db,
      '--format',
      'json',
      'SELECT session_id FROM sessions ORDER BY session_id',
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([{ session_id: 'ses_a' }, { session_id: 'ses_b' }]);
    const w = cli(['query', '--db', db, 'DELETE FROM sessions']);
    expect(w.status).not.toBe(0);
    expect(w.stderr).toMatch(/only SELECT/);
    const again = cli(['query', '--db', db, '--format', 'json', 'SELECT count(*) AS n FROM sessions']);
    expect(JSON.parse(again.stdout)).toEqual([{ n: 2 }]);
  });

  it('the bridge keeps ingesting while ocbridge query reads through it', async () => {
    d.session('ses_c', { created: T0 + 9000 });
    d.user('ses_c', 'msg_cu', T0 + 9000);
    const client = BridgeClient.find(db) as BridgeClient;
    const deadline = Date.now() + 20_000;
    let n = 0;
    while (Date.now() < deadline) {
      n = Number((await client.query('SELECT count(*) AS n FROM exchanges')).rows[0]?.n);
      if (n === 3) break;
      await new Promise((r) => setTimeout(r, 100)); // polling the live bridge: there is no event to await here
    }
    expect(n).toBe(3);
  });

  it('ocbridge report works while run holds the store', () => {
    const r = cli(['report', 'sessions', '--db', db, '--format', 'json']);
    expect(r.status).toBe(0);
    expect((JSON.parse(r.stdout) as { session_id: string }[]).map((x) => x.session_id).sort()).toEqual([
      'ses_a',
      'ses_b',
      'ses_c',
    ]);
  });

  it('ocbridge health works while run holds the store (the bridge runs its checks)', () => {
    const r = cli(['health', '--db', db, '--format', 'json']);
    expect(r.stderr).not.toMatch(/locked|holds it/);
    const out = JSON.parse(r.stdout) as { status: string; results: { id: string; status: string }[] };
    expect(out.results.length).toBeGreaterThanOrEqual(15);
    expect(out.results.map((x) => x.id)).toContain('exchange_coverage');
    expect(r.status).toBe(out.status === 'fail' ? 1 : 0);
  });

  it('ocbridge backup works while run holds the store (the bridge writes the snapshot)', async () => {
    const out = join(tempDir('ocb-api-backup-'), 'backup.duckdb');
    const r = cli(['backup', '--db', db, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/by the running bridge/);
    const copy = await openStore(out, { readOnly: true });
    const n = Number((await copy.conn.runAndReadAll('SELECT count(*) FROM sessions')).getRows()[0]?.[0]);
    copy.close();
    expect(n).toBeGreaterThanOrEqual(2);
  });

  it('the API of the running bridge answers, including POST /api/query with --enable-sql', async () => {
    const health = (await (await fetch(`${url}/api/health`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ live: true, ready: true, mode: 'run', ingest: { phase: 'live' } });
    const q = await fetch(`${url}/api/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sql: "SELECT * FROM read_csv('/etc/passwd')" }),
    });
    expect(q.status).toBe(400);
    const client = BridgeClient.find(db);
    expect((await client?.query('SELECT 1 AS one'))?.rows).toEqual([{ one: 1 }]);
    expect((await client?.health('ready'))?.status).toBe(200);
  });

  it('removes the state file on exit; then query opens the store itself', async () => {
    run.kill('SIGTERM');
    expect(await exited(run)).toBe(0);
    expect(existsSync(bridgeStatePath(db))).toBe(false);
    const r = cli(['query', '--db', db, '--format', 'json', 'SELECT count(*) AS n FROM sessions']);
    expect(JSON.parse(r.stdout)).toEqual([{ n: 3 }]);
  });

  it('a stale state file (dead pid) is ignored', () => {
    const dead = execFileSync(process.execPath, ['-e', 'console.log(process.pid)']).toString().trim();
    writeFileSync(
      bridgeStatePath(db),
      JSON.stringify({
        url: 'http://127.0.0.1:9',
        pid: Number(dead),
        credential: 'x'.repeat(43),
        db,
        started_at: '',
      }),
      { mode: 0o600 },
    );
    expect(readBridgeState(db)).toBeNull();
    expect(BridgeClient.find(db)).toBeNull();
  });
});

describe('ocbridge serve', () => {
  it('serves a store read-only; SQL cannot write, read files or set options', async () => {
    const store = await fixture().ingest();
    const db = store.path;
    store.close();
    const s = spawnCli(['serve', '--db', db, '--port', '0', '--enable-sql'], 'listening');
    try {
      const { url } = (await s.line) as { url: string };
      const sessions = (await (await fetch(`${url}/api/sessions`)).json()) as { data: unknown[] };
      expect(sessions.data).toHaveLength(2);
      const sql = async (q: string) =>
        fetch(`${url}/api/query`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ sql: q }),
        });
      expect((await sql('SELECT count(*) AS n FROM sessions')).status).toBe(200);
      for (const q of [
        "SET memory_limit='2GB'",
        'DELETE FROM sessions',
        "SELECT * FROM read_csv('/etc/passwd')",
      ])
        expect((await sql(q)).status, q).toBe(400);
    } finally {
      s.child.kill('SIGTERM');
      await exited(s.child);
    }
    const again = await openStore(db, { readOnly: true });
    expect((await again.conn.runAndReadAll('SELECT count(*) FROM sessions')).getRows()[0]?.[0]).toBe(2n);
    again.close();
  }, 60_000);
});

const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

describe.skipIf(!chromium)('the docs page in headless Chromium', () => {
  it('renders every route, with no script and no outside request', async () => {
    const store = await fixture().ingest();
    const app = createApp({ store });
    const server = await startServer(app, { host: '127.0.0.1', port: 0 });
    try {
      // async: the server answering the browser runs in this process
      const { stdout: dom } = await promisify(execFile)(
        chromium as string,
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
          `--user-data-dir=${tempDir('ocb-chromium-')}`,
          '--dump-dom',
          `${server.url}/api/docs`,
        ],
        { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      );
      const toc = [...dom.matchAll(/<li><a href="#[^"]+"><code>([A-Z]+ [^<]+)<\/code>/g)].map((m) => m[1]);
      expect(toc).toEqual(
        expect.arrayContaining([
          'GET /api/sessions',
          'GET /api/sessions/{id}',
          'GET /api/sessions/{id}/trace',
          'GET /api/exchanges/{id}',
          'GET /api/usage',
          'GET /api/tools',
          'GET /api/errors',
          'GET /api/projects',
          'GET /api/models',
          'POST /api/query',
          'GET /api/health',
        ]),
      );
      expect(dom).toContain('trace_id');
      expect(dom).not.toMatch(/<script|<link|src="http/);
    } finally {
      await server.close();
      disposeApp(app);
      store.close();
    }
  }, 90_000);
});
