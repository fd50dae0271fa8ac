import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { runIngest } from '../src/pipeline/ingestor.ts';
import { openStore, type Store } from '../src/store/db.ts';
import { FakeDb, tempDir, writeStorage } from './support/datadir.ts';
import { ENTITY_TABLES, storeSnapshot } from './support/snapshot.ts';
import { rows } from './support/store.ts';
import { T0, writeTinySession } from './support/tiny.ts';

const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

/** A fingerprint of everything stored (but bookkeeping timestamps), shadows included. */
const snapshot = (store: Store) => storeSnapshot(store, [...ENTITY_TABLES, 'source_shadows']);

function corpus(dir: string) {
  writeTinySession(dir);
  writeStorage(dir, 'part/msg_1/prt_1.json', {
    id: 'prt_1',
    sessionID: 'ses_a',
    messageID: 'msg_1',
    type: 'text',
    text: 'v1',
  });
  const db = new FakeDb(join(dir, 'opencode.db'));
  db.project('p').session({ id: 'ses_b', project_id: 'p' });
  db.message('msg_b', 'ses_b', { role: 'user', time: { created: T0 } }, T0, T0 + 10);
  db.close();
}

describe('re-ingest', () => {
  it('changes nothing on unchanged input and reads nothing again', async () => {
    const dir = tempDir();
    corpus(dir);
    const store = await openStore(join(dir, 's.duckdb'));
    stores.push(store);
    await runIngest(store, { source: dir, workers: 0 });
    const before = await snapshot(store);
    const second = await runIngest(store, { source: dir, workers: 0 });
    expect(second.filesParsed).toBe(0);
    expect(second.filesSkippedUnchanged).toBe(3);
    expect(await snapshot(store)).toEqual(before);
  });

  it('applies a rewritten file and an updated row, without duplicates', async () => {
    const dir = tempDir();
    corpus(dir);
    const store = await openStore(join(dir, 's.duckdb'));
    stores.push(store);
    await runIngest(store, { source: dir, workers: 0 });
    const p = writeStorage(dir, 'part/msg_1/prt_1.json', {
      id: 'prt_1',
      sessionID: 'ses_a',
      messageID: 'msg_1',
      type: 'text',
      text: 'v2 longer',
    });
    utimesSync(p, new Date(), new Date(Date.now() + 5000));
    const db = new Database(join(dir, 'opencode.db'));
    db.prepare('UPDATE message SET data = ?, time_updated = ? WHERE id = ?').run(
      JSON.stringify({ role: 'user', time: { created: T0 }, agent: 'plan' }),
      T0 + 20,
      'msg_b',
    );
    db.close();
    const second = await runIngest(store, { source: dir, workers: 0 });
    expect(second.filesParsed).toBe(1);
    expect(await rows(store, 'SELECT part_id, text_length FROM parts')).toEqual([
      { part_id: 'prt_1', text_length: 9 },
    ]);
    expect(await rows(store, "SELECT agent FROM messages WHERE message_id = 'msg_b'")).toEqual([
      { agent: 'plan' },
    ]);
    expect(await rows(store, 'SELECT count(*) AS n FROM messages')).toEqual([{ n: 2 }]);
  });

  it('skips the file-by-file comparison of a kind whose listing is unchanged, and of no other', async () => {
    const dir = tempDir();
    corpus(dir);
    const store = await openStore(join(dir, 's.duckdb'));
    stores.push(store);
    await runIngest(store, { source: dir, workers: 0 });
    const listings = await rows(store, 'SELECT kind, files FROM source_listings ORDER BY kind');
    expect(listings).toEqual([
      { kind: 'database', files: 0 }, // opencode.db's fingerprint (test/noop.test.ts)
      { kind: 'message', files: 1 },
      { kind: 'part', files: 1 },
      { kind: 'project', files: 0 },
      { kind: 'session', files: 1 },
      { kind: 'session_diff', files: 0 },
      { kind: 'todo', files: 0 },
    ]);
    // proof that an unchanged listing is not compared file by file: a fingerprint row gone missing
    // from source_files goes unnoticed while the session listing matches
    await store.conn.run("DELETE FROM source_files WHERE kind = 'session'");
    expect((await runIngest(store, { source: dir, workers: 0 })).filesParsed).toBe(0);
    // a new file (with the same size and mtime as its neighbour) is a different listing of its kind only
    const p = writeStorage(dir, 'part/msg_1/prt_2.json', {
      id: 'prt_2',
      sessionID: 'ses_a',
      messageID: 'msg_1',
      type: 'text',
      text: 'v1',
    });
    utimesSync(p, new Date(T0), new Date(T0));
    const second = await runIngest(store, { source: dir, workers: 0 });
    expect(second.filesParsed).toBe(1);
    expect(second.filesSkippedUnchanged).toBe(3);
    expect(await rows(store, 'SELECT part_id FROM parts ORDER BY part_id')).toEqual([
      { part_id: 'prt_1' },
      { part_id: 'prt_2' },
    ]);
    // the digests are only a cache: without them every file is compared, and the session file whose
    // fingerprint went missing is read again, to the same rows
    await store.conn.run('DELETE FROM source_listings');
    const before = await snapshot(store);
    const third = await runIngest(store, { source: dir, workers: 0 });
    expect(third.filesParsed).toBe(1);
    expect(await snapshot(store)).toEqual(before);
    // the six kinds of the tree, and opencode.db's fingerprint (recorded again once: test/noop.test.ts)
    expect(await rows(store, 'SELECT count(*) AS n FROM source_listings')).toEqual([{ n: 7 }]);
    expect((await runIngest(store, { source: dir, workers: 0 })).filesParsed).toBe(0);
  });

  it('tries an unparseable file again on an unchanged listing', async () => {
    const dir = tempDir();
    corpus(dir);
    writeStorage(dir, 'part/msg_1/prt_bad.json', '{"id": "prt_bad", "type": ');
    const store = await openStore(join(dir, 's.duckdb'));
    stores.push(store);
    await runIngest(store, { source: dir, workers: 0 });
    const second = await runIngest(store, { source: dir, workers: 0 });
    expect(second.filesParsed).toBe(1);
    expect(await rows(store, "SELECT kind FROM source_listings WHERE kind = 'part'")).toEqual([]);
    expect(
      await rows(store, "SELECT attempts FROM ingest_errors WHERE source_path LIKE '%prt_bad.json'"),
    ).toEqual([{ attempts: 2 }]);
  });

  it('gives the same store with worker threads as inline', async () => {
    const dir = tempDir();
    corpus(dir);
    for (let i = 0; i < 30; i++)
      writeStorage(dir, `part/msg_1/prt_x${i}.json`, {
        id: `prt_x${i}`,
        sessionID: 'ses_a',
        messageID: 'msg_1',
        type: 'text',
        text: `t${i}`,
      });
    const a = await openStore(join(dir, 'a.duckdb'));
    const b = await openStore(join(dir, 'b.duckdb'));
    stores.push(a, b);
    await runIngest(a, { source: dir, workers: 0 });
    await runIngest(b, { source: dir, workers: 2, chunkSize: 4 });
    expect(await snapshot(b)).toEqual(await snapshot(a));
  });
});
