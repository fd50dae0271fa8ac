import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runIngest } from '../src/pipeline/ingestor.ts';
import { LiveBridge } from '../src/pipeline/live-bridge.ts';
import { backupStore, restoreStore } from '../src/store/backup.ts';
import { openStore, type Store } from '../src/store/db.ts';
import { runHealthChecks } from '../src/store/health/index.ts';
import { MIGRATIONS } from '../src/store/migrate.ts';
import { cli } from './support/cli.ts';
import { tempDir, writeStorage } from './support/datadir.ts';
import { ENTITY_TABLES, storeSnapshot } from './support/snapshot.ts';
import { ingestInto, rows } from './support/store.ts';
import { closeAfterEach, T0 } from './support/tiny.ts';

/** The schema version a backup of a fully migrated store carries. */
const LATEST = MIGRATIONS[MIGRATIONS.length - 1]?.version;

const open = closeAfterEach();

function base(dir: string) {
  writeStorage(dir, 'project/p.json', {
    id: 'p',
    worktree: '/w',
    vcs: 'git',
    time: { created: T0, updated: T0 },
  });
  writeStorage(dir, 'session/p/ses_a.json', {
    id: 'ses_a',
    projectID: 'p',
    title: 'A',
    directory: '/w',
    version: '1.1.65',
    time: { created: T0, updated: T0 },
  });
}

/** One exchange per message pair: a user message, an assistant answer and its parts (big text: slow commits). */
function exchange(dir: string, i: number) {
  const u = `msg_u${String(i).padStart(4, '0')}`;
  const a = `msg_a${String(i).padStart(4, '0')}`;
  const t = T0 + i * 10_000;
  writeStorage(dir, `message/ses_a/${u}.json`, {
    id: u,
    sessionID: 'ses_a',
    role: 'user',
    time: { created: t },
  });
  writeStorage(dir, `part/${u}/prt_u${i}.json`, {
    id: `prt_u${i}`,
    sessionID: 'ses_a',
    messageID: u,
    type: 'text',
    text: 'do it',
  });
  writeStorage(dir, `message/ses_a/${a}.json`, {
    id: a,
    sessionID: 'ses_a',
    role: 'assistant',
    parentID: u,
    providerID: 'anthropic',
    modelID: 'claude-sonnet-4-5',
    time: { created: t + 1, completed: t + 900 },
    cost: 0,
    tokens: { input: 10, output: 5, reasoning: 0, cache: { read: 0, write: 0 } },
  });
  writeStorage(dir, `part/${a}/prt_a${i}.json`, {
    id: `prt_a${i}`,
    sessionID: 'ses_a',
    messageID: a,
    type: 'text',
    text: 'x'.repeat(30_000),
    time: { start: t + 2, end: t + 800 },
  });
}

/** Rows and their file checkpoints commit together: a consistent copy has exactly the same set of both. */
async function checkpointMismatch(s: Store): Promise<number> {
  const [r] = await rows(
    s,
    `SELECT (SELECT count(*) FROM parts p WHERE NOT EXISTS (SELECT 1 FROM source_files f WHERE f.path = p.source_path AND f.status = 'ok'))
          + (SELECT count(*) FROM source_files f WHERE f.kind = 'part' AND f.status = 'ok'
               AND NOT EXISTS (SELECT 1 FROM parts p WHERE p.source_path = f.path))
          + (SELECT count(*) FROM messages m WHERE NOT EXISTS (SELECT 1 FROM source_files f WHERE f.path = m.source_path AND f.status = 'ok'))
          + (SELECT count(*) FROM source_files f WHERE f.kind = 'message' AND f.status = 'ok'
               AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.source_path = f.path)) AS n`,
  );
  return Number(r?.n);
}

describe('backup and restore', () => {
  it('a backup taken during live ingest is one consistent commit, and restoring it then catching up equals a clean ingest', {
    timeout: 180_000,
  }, async () => {
    const dir = tempDir('ocb-bk-');
    base(dir);
    const store = await openStore(join(dir, 'store.duckdb'));
    open.stores.push(store);
    const bridge = new LiveBridge(store, { source: dir, workers: 0, debounceMs: 5, retryDelayMs: 20 });
    open.bridge = bridge;
    await bridge.start();

    const N = 120;
    let applied = 0;
    bridge.on('applied', () => applied++);
    const backups: string[] = [];
    let written = false;
    const writing = (async () => {
      for (let i = 0; i < N; i++) {
        exchange(dir, i);
        if (i % 8 === 7) await new Promise((r) => setImmediate(r));
      }
      written = true;
    })();
    // back up after each applied batch while the files are still being written and applied
    const out = tempDir('ocb-bk-out-');
    while (backups.length < 3) {
      const next = new Promise<void>((r) => bridge.once('applied', () => r()));
      await Promise.race([next, written ? bridge.idle() : next]);
      const path = join(out, `b${backups.length}.duckdb`);
      const r = await backupStore(store, path);
      expect(r.tables).toBeGreaterThan(10);
      backups.push(path);
      if (written && backups.length >= 2) break;
    }
    await writing;
    await bridge.idle();
    expect(bridge.pendingMs).toBe(0); // the watch lag health check reads this
    expect(applied).toBeGreaterThan(1);

    const truth = (await ingestInto(dir)).store;
    open.stores.push(truth);
    const tables = [...ENTITY_TABLES, 'exchanges', 'message_facts'];
    const want = await storeSnapshot(truth, tables);
    expect(want.parts?.n).toBe(2 * N);

    let partial = 0;
    for (const b of backups) {
      const restored = join(tempDir('ocb-rs-'), 'store.duckdb');
      const rr = await restoreStore(b, restored);
      expect(rr.backupVersion).toBe(LATEST);
      const s = await openStore(restored);
      open.stores.push(s);
      expect(await checkpointMismatch(s)).toBe(0);
      const n = Number((await rows(s, 'SELECT count(*) AS n FROM parts'))[0]?.n);
      if (n < 2 * N) partial++;
      const health = await runHealthChecks(s.conn, {
        only: ['duplicate_ids', 'orphan_parts', 'orphan_messages'],
      });
      expect(health.map((h) => h.status)).toEqual(['pass', 'pass', 'pass']);
      // the restored store resumes: an ingest reads only what the backup had not seen
      await runIngest(s, { source: dir, workers: 0 });
      expect(await storeSnapshot(s, tables)).toEqual(want);
    }
    // at least one backup caught the ingest half way (else the test proved nothing about live backups)
    expect(partial).toBeGreaterThan(0);
  });

  it('ocbridge backup / restore on an unlocked store; restore refuses to overwrite without --force and a held store', async () => {
    const dir = tempDir('ocb-bk2-');
    base(dir);
    exchange(dir, 1);
    const { store, dbPath } = await ingestInto(dir);
    const want = await storeSnapshot(store);
    store.close();
    const out = join(tempDir('ocb-bk2-out-'), 'backup.duckdb');
    const b = cli(['backup', '--db', dbPath, '--out', out]);
    expect(b.status, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/^backup .*backup\.duckdb: [\d.]+ MB, \d+ tables/);

    const target = join(tempDir('ocb-bk2-r-'), 'store.duckdb');
    expect(cli(['restore', '--from', out, '--db', target]).status).toBe(0);
    await expect(restoreStore(out, target)).rejects.toThrow(/--force/);
    await expect(restoreStore(join(dir, 'storage/project/p.json'), target, { force: true })).rejects.toThrow(
      /not a DuckDB file/,
    );
    // another process holds the store (DuckDB's lock): restore refuses and leaves it alone
    const held = await openStore(target);
    try {
      const locked = cli(['restore', '--from', out, '--db', target, '--force']);
      expect(locked.status).toBe(2);
      expect(locked.stderr).toMatch(/open in another process/);
      expect(await storeSnapshot(held)).toEqual(want);
    } finally {
      held.close();
    }
    const r = await restoreStore(out, target, { force: true });
    expect(r.backupVersion).toBe(LATEST);
    const s = await openStore(target, { readOnly: true });
    try {
      expect(await storeSnapshot(s)).toEqual(want);
    } finally {
      s.close();
    }
  });
});
