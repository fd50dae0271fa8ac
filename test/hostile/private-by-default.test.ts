/**
 * Private by default: the store, its backups and the bridge's state are readable by their owner only
 * (files 0600, folders the bridge creates 0700, an older 0644 store made 0600 when opened), and
 * without an API token the API answers only loopback `Host` names and IP addresses, so a web page
 * cannot read it through DNS rebinding.
 */
import { chmodSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApp, disposeApp, startServer } from '../../src/api/server.ts';
import { openStore } from '../../src/store/db.ts';
import { cli } from '../support/cli.ts';
import { tempDir } from '../support/datadir.ts';
import { ingestCli, writeCorpus } from './corpus.ts';

const mode = (p: string) => statSync(p).mode & 0o777;

/** GET `path` with this Host header (fetch does not let a caller set Host). */
function getWithHost(url: string, path: string, host: string, headers: Record<string, string> = {}) {
  return new Promise<number>((resolve, reject) => {
    const u = new URL(url);
    const req = request({ host: u.hostname, port: u.port, path, headers: { host, ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('private by default', () => {
  it('store, WAL, backup: 0600; folders the bridge creates: 0700; an older 0644 store becomes 0600', async () => {
    const src = writeCorpus(tempDir('ocb-hostile-src-'));
    const dir = join(tempDir('ocb-hostile-'), 'new', 'folder');
    const db = join(dir, 'store.duckdb');
    const r = ingestCli(src, db);
    expect(r.status, r.stderr).toBe(0);
    expect(mode(db)).toBe(0o600);
    expect(mode(dir)).toBe(0o700);
    expect(mode(join(dir, '..'))).toBe(0o700);
    const backup = join(dir, 'backup');
    expect(cli(['backup', '--db', db, '--out', backup]).status).toBe(0);
    expect(mode(backup) & 0o077).toBe(0);
    // a store from before: group and others lose their bits when the bridge opens it for writing
    chmodSync(db, 0o644);
    const store = await openStore(db);
    store.close();
    expect(mode(db)).toBe(0o600);
  }, 120_000);

  it('without a token only loopback Host names and IP addresses; with --allowed-host, those names too', async () => {
    const db = join(tempDir('ocb-hostile-'), 'store.duckdb');
    const store = await openStore(db);
    const open = createApp({ store });
    const named = createApp({ store, allowedHosts: ['bridge'] });
    const token = createApp({ store, apiToken: 'tok' });
    const servers = await Promise.all(
      [open, named, token].map((app) => startServer(app, { host: '127.0.0.1', port: 0 })),
    );
    const [s0, s1, s2] = servers.map((s) => s.url) as [string, string, string];
    try {
      const port = new URL(s0).port;
      for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'app.localhost'])
        expect(await getWithHost(s0, '/api/sessions', host), host).toBe(200);
      for (const path of ['/api/sessions', '/metrics', '/api/health', '/openapi.json'])
        expect(await getWithHost(s0, path, 'rebind.attacker.example'), path).toBe(403);
      expect(await getWithHost(s1, '/api/sessions', 'bridge:9464')).toBe(200);
      expect(await getWithHost(s1, '/api/sessions', 'other:9464')).toBe(403);
      // with a token, the token decides
      expect(await getWithHost(s2, '/api/sessions', 'bridge.example', { authorization: 'Bearer tok' })).toBe(
        200,
      );
      expect(await getWithHost(s2, '/api/sessions', 'bridge.example')).toBe(401);
    } finally {
      await Promise.all(servers.map((s) => s.close()));
      for (const app of [open, named, token]) disposeApp(app);
      store.close();
    }
  }, 60_000);
});
